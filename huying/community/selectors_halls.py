"""Reads and permission checks for the deliberation halls (议事厅), scoped once here."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from huying.people.masking import mask_phone, mask_text
from huying.people.models import Membership, RoleCode, Unit
from huying.people.scope import scope_for

from .models import Ballot, Dispute, Hall, HallVoter, Matter, Meeting, Resolution, Vote

MANAGER_ROLES = (RoleCode.CONVENER, RoleCode.UNIT_LEADER, RoleCode.COMMUNITY_WORKER)
# roles that make someone a member of the community (and so eligible for its roll)
MEMBER_ROLES = (RoleCode.RESIDENT, RoleCode.PARTY_MEMBER)


def has_role(user, code) -> bool:
    return scope_for(user).has_role(code)


def scope_covers(user, code: str) -> bool:
    return scope_for(user).covers(code)


def _active(user):
    return bool(user and getattr(user, "is_authenticated", False) and user.is_active)


def may_manage(user, hall: Hall) -> bool:
    """The hall's convener unit (convener, leader, community workers) manage it; and the superuser."""
    if not _active(user):
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(user=user, active=True, unit_id=hall.convener_unit_id,
                                     role__code__in=MANAGER_ROLES).exists()


def _member_units_q(hall: Hall) -> Q:
    code = hall.division.code
    return (Q(unit__division__code__startswith=code) | Q(unit__grid__code__startswith=code)
            | Q(unit_id=hall.convener_unit_id))


def lives_in(user, hall: Hall) -> bool:
    """A resident or Party member whose unit lies in the hall's community."""
    return Membership.objects.filter(_member_units_q(hall), user=user, active=True,
                                     role__code__in=MEMBER_ROLES).exists()


def voter_of(user, hall: Hall) -> HallVoter | None:
    if not _active(user):
        return None
    return HallVoter.objects.filter(hall=hall, user=user).first()


def acting_unit(user, hall: Hall) -> Unit | None:
    """The unit a staff member raises a matter for: one of theirs working in the community (not as resident)."""
    if not _active(user):
        return None
    m = (Membership.objects.filter(_member_units_q(hall), user=user, active=True)
         .exclude(role__code__in=MEMBER_ROLES).select_related("unit").order_by("pk").first())
    return m.unit if m else None


def halls_managed(user) -> QuerySet[Hall]:
    if not _active(user):
        return Hall.objects.none()
    if user.is_superuser:
        return Hall.objects.select_related("division").order_by("division__code")
    units = Membership.objects.filter(user=user, active=True, role__code__in=MANAGER_ROLES).values("unit_id")
    return Hall.objects.filter(convener_unit_id__in=units).select_related("division").order_by("division__code")


def my_hall(user) -> Hall | None:
    """The hall whose roll the person is on (else the hall of the community they live in)."""
    if not _active(user):
        return None
    v = HallVoter.objects.filter(user=user).select_related("hall__division").order_by("pk").first()
    if v:
        return v.hall
    for m in Membership.objects.filter(user=user, active=True, role__code__in=MEMBER_ROLES).select_related(
            "unit__division", "unit__grid"):
        code = m.unit.territory_code or ""
        hall = Hall.objects.filter(division__code=code[:12]).select_related("division").first() if len(code) >= 12 \
            else None
        if hall:
            return hall
    return None


def may_view(user, hall: Hall) -> bool:
    return may_manage(user, hall) or voter_of(user, hall) is not None or lives_in(user, hall) or (
        _active(user) and scope_covers(user, hall.division.code))


def matter_rows(hall: Hall, *, viewer) -> list[dict]:
    """Matters with the raiser's phone and any phone in the text masked beyond the convener unit."""
    full = may_manage(viewer, hall)
    rows = []
    for m in Matter.objects.filter(hall=hall).select_related("raiser", "raiser_unit"):
        raiser = m.raiser_unit.name if m.raiser_unit else (m.raiser.display_name if m.raiser else "")
        rows.append({"matter": m, "raiser": raiser,
                     "phone": m.raiser_phone if full else mask_phone(m.raiser_phone),
                     "body": m.body if full else mask_text(m.body)})
    return rows


def meetings(hall: Hall) -> QuerySet[Meeting]:
    return Meeting.objects.filter(hall=hall).prefetch_related("matters", "attendance")


def votes(hall: Hall) -> QuerySet[Vote]:
    return Vote.objects.filter(hall=hall).select_related("matter")


def my_ballots(user, hall: Hall) -> dict[int, str]:
    return dict(Ballot.objects.filter(vote__hall=hall, voter_id=getattr(user, "pk", None))
                .values_list("vote_id", "choice"))


def resolutions(hall: Hall) -> QuerySet[Resolution]:
    return Resolution.objects.filter(hall=hall).select_related("matter").prefetch_related("tasks__owner_unit")


def dispute_rows(hall: Hall, *, viewer) -> list[dict]:
    """Disputes: the parties and the text masked for everyone but the convener unit."""
    full = may_manage(viewer, hall)
    return [{"dispute": d, "parties": d.parties if full else _mask_parties(d.parties),
             "outcome": d.outcome if full else mask_text(d.outcome)}
            for d in Dispute.objects.filter(hall=hall)]


def _mask_parties(parties: str) -> str:
    from huying.people.masking import mask_name

    parts = [p.strip() for p in parties.replace("、", ",").replace("，", ",").split(",") if p.strip()]
    return "、".join(mask_name(p) for p in parts)


def disputes_tile(*, prefix: str, now):
    """Dashboard tile: disputes settled in the halls of the territory in the last year, of those closed."""
    from datetime import timedelta

    from django.utils.translation import gettext as _

    from huying.core import tiles

    qs = Dispute.objects.filter(closed_at__gt=now - timedelta(days=365), closed_at__lte=now)
    if prefix:
        qs = qs.filter(hall__division__code__startswith=prefix)
    closed = qs.count()
    if not closed:
        return None
    settled = qs.filter(status="settled").count()
    return tiles.TileValue(value=f"{settled} / {closed}", note=_("议事厅近一年调解成功 / 办结纠纷"))


def register_tiles() -> None:
    from django.utils.translation import gettext_lazy as _lazy

    from huying.core import tiles

    tiles.register("community_hall_disputes", title=_lazy("议事厅纠纷调解"), fn=disputes_tile, order=160)
