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
    from django.db.models import Count, Q

    row = qs.aggregate(closed=Count("pk"), settled=Count("pk", filter=Q(status="settled")))
    closed, settled = row["closed"], row["settled"]
    if not closed:
        return None
    return tiles.TileValue(value=f"{settled} / {closed}", note=_("议事厅近一年调解成功 / 办结纠纷"))


def register_tiles() -> None:
    from django.utils.translation import gettext_lazy as _lazy

    from huying.core import tiles

    tiles.register("community_hall_disputes", title=_lazy("议事厅纠纷调解"), fn=disputes_tile, order=160)


# ---- setting up a hall, hot issues and work orders (views_halls_setup) -----------------------------

def setup_communities(user):
    """Communities in the user's territory that have no hall yet (who may set one up: `halls.hall_create`)."""
    from huying.territory.models import Division, Level

    if not _active(user):
        return Division.objects.none()
    qs = Division.objects.filter(level=Level.COMMUNITY, hall__isnull=True)
    if not user.is_superuser:
        scope = scope_for(user)
        if scope.whole_city:
            pass
        elif not scope.division_codes:
            return Division.objects.none()
        else:
            qs = qs.filter(scope.territory_q("code"))
    return qs.order_by("code")


def convener_units(division) -> QuerySet[Unit]:
    """Units that may convene a community's hall: active units covering the community or one of its grids,
    its committee (a territorial office) first."""
    return (Unit.objects.filter(Q(division=division) | Q(grid__code__startswith=division.code), active=True)
            .order_by(_territorial_first(), "code"))


def _territorial_first():
    from django.db.models import Case, IntegerField, Value, When

    from huying.people.models import UnitKind

    return Case(When(kind=UnitKind.TERRITORIAL, then=Value(0)), default=Value(1), output_field=IntegerField())


def hot_group_key(group) -> str:
    """The matter source key `halls.matter_from_hot_group` gives a group (its earliest order)."""
    orders = getattr(group, "orders", None) or []
    return f"hot-{min(o.pk for o in orders)}" if orders else ""


def _community_groups(hall: Hall, *, now, days: int, min_size: int) -> list:
    """Hot-issue groups of the hall's community: from dispatch's fresh snapshot when there is one (as the
    hot page shows them), else grouped now over the community's recent orders with dispatch's grouping."""
    from datetime import timedelta

    from huying.dispatch.hot import selectors as hot
    from huying.dispatch.hot.grouping import Group
    from huying.dispatch.hot.heat import rank
    from huying.dispatch.models import WorkOrder

    code = hall.division.code
    base = WorkOrder.objects.exclude(state="merged").select_related("subject")
    snapshots = hot.latest_snapshots(now=now, days=days) if days == hot.SNAPSHOT_DAYS else []
    if snapshots:
        wanted = [g for s in snapshots for g in s.groups if str(g.get("area_code") or "").startswith(code)]
        ids = sorted({i for g in wanted for i in g["orders"]})
        found = {o.pk: o for o in base.filter(pk__in=ids, area_code__startswith=code)}
        groups = []
        for g in wanted:
            orders = sorted((found[i] for i in g["orders"] if i in found), key=lambda o: (o.created_at, o.pk))
            if len(orders) >= min_size:
                group = Group([hot.call_from_order(o) for o in orders])
                group.orders = orders
                groups.append(group)
        return rank(groups)
    orders = list(base.filter(area_code__startswith=code, created_at__gte=now - timedelta(days=days),
                              created_at__lt=now).order_by("-created_at", "-id")[:hot.MAX_ORDERS])
    by_id = {str(o.pk): o for o in orders}
    groups = rank(hot.group_by_street([hot.call_from_order(o) for o in orders], days=days, min_size=min_size))
    for g in groups:
        g.orders = [by_id[c.id] for c in g.calls]
    return [g for g in groups if g.area_code.startswith(code)]


def hot_groups_for(hall: Hall, *, actor, now, days: int = 14, min_size: int = 2, limit: int = 20) -> list[dict]:
    """The current hot-issue groups (热点诉求) located in the hall's community, for its managers only:
    [{"key", "group", "matter"}] with the matter a group already became (None if not yet)."""
    if not may_manage(actor, hall):
        return []
    groups = _community_groups(hall, now=now, days=days, min_size=min_size)[:limit]
    keys = [hot_group_key(g) for g in groups]
    matters = {m.source_key: m for m in Matter.objects.filter(hall=hall, source_key__in=keys)}
    return [{"key": k, "group": g, "matter": matters.get(k)} for k, g in zip(keys, groups, strict=True)]


def order_urls(rows: list[dict], *, actor) -> None:
    """Give each matter row that became a work order `order_url`: the order's page when the viewer may
    open it, else the public progress page (查询进度) of its code."""
    from urllib.parse import urlencode

    from django.urls import reverse

    from huying.dispatch import selectors as order_selectors

    ids = [r["matter"].work_order_id for r in rows if r["matter"].work_order_id]
    visible = set(order_selectors.work_order_list(actor=actor).filter(pk__in=ids).values_list("pk", flat=True)) \
        if ids else set()
    for r in rows:
        m = r["matter"]
        if m.work_order_id in visible:
            r["order_url"] = reverse("dispatch:detail", args=[m.work_order_id])
        elif m.work_order_code:
            r["order_url"] = reverse("dispatch:track") + "?" + urlencode({"code": m.work_order_code})


def community_point(hall: Hall) -> tuple[float, float] | None:
    """A point inside the hall's community, for an order given no address: its first grid's centre
    (inside the community, where a division's centre of an odd shape may not be), else the division's."""
    from huying.territory.models import UNIFIED_LAYER, Grid

    g = Grid.objects.filter(community=hall.division, layer=UNIFIED_LAYER).order_by("code").values("lng", "lat").first()
    if g and g["lng"] is not None and g["lat"] is not None:
        return g["lng"], g["lat"]
    d = hall.division
    return (d.lng, d.lat) if d.lng is not None and d.lat is not None else None
