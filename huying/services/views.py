"""Service pages: the resident's "near me, open now" page and each position's page (public, phone
width), and the 15-minute circle of a community (staff of the street or community)."""

from __future__ import annotations

import math
from datetime import datetime, time

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Avg
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from huying.core.errors import DomainError
from huying.core.paging import paged
from huying.core.text import clean_text
from huying.territory import locator
from huying.territory.models import UNIFIED_LAYER, Division, Grid, Level

from . import selectors
from .hours import BEIJING
from .models import ServicePosition
from .selectors_setup import may_edit_position

NEAR_LIMIT = 10


def _now() -> datetime:
    return timezone.now()


def _point_of(location) -> tuple[float, float] | None:
    """A representative point of a located address: its grid's centre, else its deepest division's."""
    if location.grid_id:
        grid = Grid.objects.filter(pk=location.grid_id).values_list("lng", "lat").first()
        if grid:
            return grid
    place = location.community or location.street or location.district
    if place is None:
        return None
    div = Division.objects.filter(code=place.code).values_list("lng", "lat").first()
    if div and div[0] is not None and div[1] is not None:
        return div
    avg = Grid.objects.filter(code__startswith=place.code, layer=UNIFIED_LAYER).aggregate(lng=Avg("lng"), lat=Avg("lat"))
    return (avg["lng"], avg["lat"]) if avg["lng"] is not None else None


def _float(value: str, low: float, high: float) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) and low <= x <= high else None


@require_GET
def near(request):
    """附近的服务阵地: by a point (the browser's location) or an address, nearest first, open now."""
    now = _now()
    q = request.GET.get("q", "")
    lat_text, lng_text = request.GET.get("lat", ""), request.GET.get("lng", "")
    error, point, place = "", None, ""
    if lat_text or lng_text:
        lat, lng = _float(lat_text, -90, 90), _float(lng_text, -180, 180)
        if lat is None or lng is None:
            error = _("位置坐标无效，请重新定位或输入地址。")
        else:
            point = (lng, lat)
            place = _("您的位置")
    elif q.strip():
        try:
            q = clean_text(q, field="q", max_length=200)
        except DomainError as exc:
            error = exc.message
        else:
            match = locator.locate_address(q)
            point = _point_of(match.location) if match.found and match.location else None
            if point is None:
                error = (_("该地址不在本市范围内。") if match.outside
                         else _("没有找到该地址，请写上区、街道或社区的名称。"))
            else:
                loc = match.location
                place = " · ".join(p.name for p in (loc.district, loc.street, loc.community) if p)
    rows = selectors.positions_near(lng=point[0], lat=point[1], at=now, limit=NEAR_LIMIT) if point else []
    context = {"q": q, "lat": lat_text, "lng": lng_text, "error": error, "rows": rows, "place": place,
               "searched": point is not None, "now": now.astimezone(BEIJING)}
    return render(request, "services/near.html", context, status=400 if error and (lat_text or lng_text) else 200)


@require_GET
def position_page(request, pk: int):
    """One service position: address, phone, hours (this week, holidays marked), and its items."""
    try:
        position = selectors.position_get(pk)
    except ServicePosition.DoesNotExist:
        raise Http404(_("找不到该服务阵地。")) from None
    now = _now()
    context = {
        "p": position,
        "open_now": selectors.position_open_at(position, now),
        "weekly": selectors.weekly_hours(position),
        "coming": selectors.coming_days(position, start=now.astimezone(BEIJING).date()),
        "items": position.items.all(),
        "now": now.astimezone(BEIJING),
        "may_edit": request.user.is_authenticated and may_edit_position(request.user, position),
    }
    return render(request, "services/position.html", context)


@login_required
@require_GET
def coverage_index(request):
    """The communities whose 15-minute circle the signed-in staff may see."""
    communities = selectors.coverage_communities(actor=request.user)
    search = request.GET.get("q", "").strip()[:60]
    if search:
        communities = communities.filter(name__icontains=search)
    if not communities.exists() and not search:
        raise PermissionDenied(_("您没有访问此页面的权限。"))
    return render(request, "services/coverage_index.html",
                  {"page": paged(request, communities.order_by("code")), "q": search})


def _moment(request, now: datetime) -> tuple[datetime | None, str, str]:
    """The moment the circle is computed for: `day` + `hour` in Beijing time, now by default, or
    `hour=all` for every active position whatever its hours."""
    local = now.astimezone(BEIJING)
    day_text, hour_text = request.GET.get("day", ""), request.GET.get("hour", "")
    if hour_text == "all":
        return None, day_text or local.date().isoformat(), "all"
    try:
        day = datetime.strptime(day_text, "%Y-%m-%d").date() if day_text else local.date()
        hour = int(hour_text) if hour_text else local.hour
        if not 0 <= hour <= 23:
            raise ValueError
    except ValueError:
        day, hour = local.date(), local.hour
    return datetime.combine(day, time(hour, 30), tzinfo=BEIJING), day.isoformat(), str(hour)


@login_required
@require_GET
def coverage(request, code: str):
    """15分钟服务圈 of one community: shares of buildings and households, the gaps, the best new sites."""
    community = Division.objects.filter(code=code, level=Level.COMMUNITY).select_related("parent").first()
    if community is None:
        raise Http404(_("找不到该社区。"))
    if not selectors.may_view_coverage(request.user, community):
        raise PermissionDenied(_("您无权查看该社区的服务圈。"))
    at, day, hour = _moment(request, _now())
    result = selectors.community_coverage(community, at=at)
    context = {"c": result, "community": community, "day": day, "hour": hour, "hours": range(24),
               "uncovered": paged(request, result.uncovered, size=30),
               "positions": selectors.community_positions(community)}
    return render(request, "services/coverage.html", context)


def hub(request):
    """/services/: the service pages this person may open (anyone: the near-me page)."""
    from .selectors_hub import hub_sections

    return render(request, "services/hub.html", {"sections": hub_sections(request.user)})
