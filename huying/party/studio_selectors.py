"""Reads of the representatives' studios (党代表工作室), scoped by the acting user.

Studios, their hosts and duty rosters are public notice (公示): residents must know where and when a
representative is there. Visits carry a resident's name and phone, so they are listed only to the
studio's community staff (and the territory above it) and to the representative who received them,
and the name and phone come masked to everyone but those who may handle the visit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from huying.people.masking import personal
from huying.territory.models import Division

from . import access
from .models import Representative, Studio, StudioDuty, StudioVisit, VisitStatus


def studio_list(*, actor, community: Division | None = None, search: str = "",
                active: bool | None = True) -> QuerySet[Studio]:
    """Studios, under `community` (any division: its subtree) and matching `search` by name."""
    qs = Studio.objects.select_related("community", "host__unit").annotate(
        open_visits=Count("visits", filter=Q(visits__status=VisitStatus.OPEN)))
    if active is not None:
        qs = qs.filter(active=active)
    if community is not None:
        qs = qs.filter(community.subtree_q("community__code"))
    search = (search or "").strip()
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(address__icontains=search))
    return qs.order_by("community__code", "id")


def studio_roster(studio: Studio, *, start: datetime, end: datetime,
                  include_cancelled: bool = False) -> QuerySet[StudioDuty]:
    """The studio's turns overlapping [start, end)."""
    qs = StudioDuty.objects.filter(studio=studio, starts_at__lt=end, ends_at__gt=start).select_related(
        "representative__user")
    if not include_cancelled:
        qs = qs.filter(cancelled=False)
    return qs.order_by("starts_at", "id")


def representative_list(*, level: str | None = None, search: str = "", active: bool = True
                        ) -> QuerySet[Representative]:
    qs = Representative.objects.filter(active=active).select_related("user")
    if level:
        qs = qs.filter(level=level)
    search = (search or "").strip()
    if search:
        qs = qs.filter(Q(user__display_name__icontains=search) | Q(user__username__icontains=search))
    return qs.order_by("level", "user__username")


def _visits_q(actor) -> Q | None:
    if access.is_admin(actor):
        return None
    uid = getattr(actor, "pk", None)
    q = Q(representative__user_id=uid) if uid else Q(pk__in=[])
    for code in access.staff_territory_codes(actor):
        q |= Q(studio__community__code__startswith=code)
    return q


@dataclass(frozen=True)
class VisitRow:
    id: int
    studio_id: int
    studio: str
    community: str
    topic: str
    content: str
    address: str
    visitor_name: str
    visitor_phone: str
    representative: str
    representative_level: str
    received_at: datetime
    status: str
    status_label: str
    reply: str
    work_order_code: str
    may_handle: bool


class MaskedVisits:
    """A lazy, sliceable listing of VisitRow (works with Django's Paginator)."""

    def __init__(self, queryset: QuerySet[StudioVisit], *, viewer):
        self._qs = queryset
        self._viewer = viewer
        self._codes = access.staff_territory_codes(viewer)
        self._admin = access.is_admin(viewer)

    def count(self) -> int:
        return self._qs.count()

    def __len__(self) -> int:
        return self.count()

    def _row(self, v: StudioVisit) -> VisitRow:
        rep = v.representative
        may = (self._admin or any(v.studio.community.code.startswith(c) for c in self._codes)
               or (rep is not None and rep.user_id == getattr(self._viewer, "pk", None)))
        return VisitRow(
            id=v.pk, studio_id=v.studio_id, studio=v.studio.name, community=v.studio.community.name, topic=v.topic,
            content=v.content, address=personal(v.address, "address", viewer=self._viewer, allowed=may),
            visitor_name=personal(v.visitor_name, "name", viewer=self._viewer, allowed=may),
            visitor_phone=personal(v.visitor_phone, "phone", viewer=self._viewer, allowed=may),
            representative=str(rep.user) if rep else "", representative_level=rep.get_level_display() if rep else "",
            received_at=v.received_at, status=v.status, status_label=v.get_status_display(), reply=v.reply,
            work_order_code=v.work_order_code, may_handle=may and v.status == VisitStatus.OPEN)

    def __getitem__(self, item):
        if isinstance(item, slice):
            return [self._row(v) for v in self._qs[item]]
        return self._row(self._qs[item])

    def __iter__(self) -> Iterator[VisitRow]:
        return (self._row(v) for v in self._qs.iterator(chunk_size=500))


def studio_visits(*, actor, studio: Studio | None = None, status: str | None = None,
                  search: str = "") -> MaskedVisits:
    """Visits the actor may see (community staff of the studio's territory, or the receiving
    representative), newest first, with the resident's name and phone masked where they must be."""
    qs = StudioVisit.objects.select_related("studio__community", "representative__user")
    q = _visits_q(actor)
    if q is not None:
        qs = qs.filter(q)
    if studio is not None:
        qs = qs.filter(studio=studio)
    if status:
        qs = qs.filter(status=status)
    search = (search or "").strip()
    if search:
        qs = qs.filter(topic__icontains=search)
    return MaskedVisits(qs.order_by("-received_at", "-id"), viewer=actor)


def visit_get(visit_id: int, *, actor) -> StudioVisit | None:
    """One visit the actor may see (model row, for services), or None."""
    qs = StudioVisit.objects.select_related("studio__community", "representative__user")
    q = _visits_q(actor)
    return (qs if q is None else qs.filter(q)).filter(pk=visit_id).first()


def visit_row(visit_id: int, *, actor) -> VisitRow | None:
    """One visit as the actor may see it (masked where it must be), or None."""
    rows = studio_visits(actor=actor)
    rows._qs = rows._qs.filter(pk=visit_id)
    found = rows[:1]
    return found[0] if found else None
