"""The party app's tiles on the leader's dashboard (registered in PartyConfig.ready): 双报到 and the
services reported members and organisations did this year, counted as the Party summary counts them
(confirmed reports, services the community confirmed), by the community's code under the prefix."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from huying.core import tiles

from .models import MemberReport, ReportStatus, ServiceRecord

COMMUNITY_CODE_LEN = 12  # a grid's code is longer: members report to communities, not to grids


def _community_q(prefix: str) -> dict:
    return {"community__code__startswith": prefix} if prefix else {}


def members_reported_tile(*, prefix: str, now: datetime) -> tiles.TileValue | None:
    """In-service members reported to communities in the territory (双报到), and reports awaiting a decision."""
    if len(prefix) > COMMUNITY_CODE_LEN:
        return None
    row = MemberReport.objects.filter(status__in=(ReportStatus.CONFIRMED, ReportStatus.PENDING),
                                      **_community_q(prefix)).aggregate(
        confirmed=Count("pk", filter=Q(status=ReportStatus.CONFIRMED)),
        pending=Count("pk", filter=Q(status=ReportStatus.PENDING)))
    if not (row["confirmed"] or row["pending"]):
        return None
    return tiles.TileValue(value=str(row["confirmed"]), note=_("待确认 %(n)s 人") % {"n": row["pending"]},
                           url=reverse("party:summary"))


def services_year_tile(*, prefix: str, now: datetime) -> tiles.TileValue | None:
    """Services done in the territory's communities this year (confirmed by the community), and their hours."""
    if len(prefix) > COMMUNITY_CODE_LEN:
        return None
    year = timezone.localdate(now).year
    row = ServiceRecord.objects.filter(confirmed=True, served_on__gte=date(year, 1, 1),
                                       served_on__lte=date(year, 12, 31), **_community_q(prefix)).aggregate(
        n=Count("pk"), hours=Sum("hours"))
    if not row["n"]:
        return None
    hours = row["hours"] or 0
    return tiles.TileValue(value=str(row["n"]), note=_("%(year)s 年 · %(h)s 小时") % {
        "year": year, "h": f"{hours:.1f}".rstrip("0").rstrip(".")}, url=reverse("party:summary"))


def register_tiles() -> None:
    tiles.register("party.members_reported", title=_lazy("党员双报到"), fn=members_reported_tile, order=30)
    tiles.register("party.services_year", title=_lazy("党员服务"), fn=services_year_tile, order=31)
