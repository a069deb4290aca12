"""The services app's tiles on the leader's dashboard (registered in ServicesConfig.ready)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from huying.core import tiles

from .models import DeskMatter, MatterState, ServicePosition
from .selectors import open_now


def positions_open_tile(*, prefix: str, now: datetime) -> tiles.TileValue | None:
    """Service positions in the territory open now, of all active ones."""
    qs = ServicePosition.objects.filter(active=True)
    if prefix:
        qs = qs.filter(division__code__startswith=prefix)
    row = qs.aggregate(total=Count("pk"), open=Count("pk", filter=open_now(now)))  # one query
    total, n_open = row["total"], row["open"]
    if not total:
        return None
    return tiles.TileValue(value=f"{n_open} / {total}", note=_("现在开放 / 全部"),
                           url=reverse("services:near"))


def desk_overdue_tile(*, prefix: str, now: datetime) -> tiles.TileValue | None:
    """Desk matters still open past their deadline (首问负责制 supervision)."""
    qs = DeskMatter.objects.filter(state__in=(MatterState.ACCEPTED, MatterState.IN_PROGRESS))
    if prefix:
        qs = qs.filter(position__division__code__startswith=prefix)
    row = qs.aggregate(open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now)))
    open_n, overdue = row["open"], row["overdue"]
    if not open_n and not ServicePosition.objects.filter(
            **({"division__code__startswith": prefix} if prefix else {})).exists():
        return None
    return tiles.TileValue(value=str(overdue), note=_("在办 %(n)s 件") % {"n": open_n}, warn=overdue > 0)


def register_tiles() -> None:
    tiles.register("services.positions_open", title=_lazy("服务阵地开放"), fn=positions_open_tile, order=10)
    tiles.register("services.desk_overdue", title=_lazy("窗口办件超期"), fn=desk_overdue_tile, order=11)
