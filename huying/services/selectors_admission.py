"""Who may act on the admission list (社区事务准入), and the shared reads of its pages.

Scope is by unit, not by territory: a department handler sees only the tasks and applications of
the departments they work in, a community worker only the tasks sent to their own committee, and a
reviewer only the applications of departments in their district (an administrator: all).

Reviewer: the unit leader (单位负责人) of a district government (a territorial unit covering a
district), or an administrator — the district's 联席会议 approves admissions in the sources, and its
government office is the unit the system knows.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from huying.people.models import Membership, RoleCode, Unit, UnitKind
from huying.people.scope import scope_for
from huying.territory.models import Level

from .models import (
    AdmissionApplication,
    AdmissionItem,
    AdmissionList,
    AdmissionListStatus,
    ApplicationState,
    BurdenItem,
    BurdenKind,
    BurdenStatus,
    CommunityTask,
    CommunityTaskState,
)

DEPARTMENT_ROLES = (RoleCode.HANDLER, RoleCode.UNIT_LEADER)


def _memberships(user, roles) -> QuerySet[Membership]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Membership.objects.none()
    return Membership.objects.filter(user_id=user.pk, active=True, unit__active=True,
                                     role__code__in=[str(r) for r in roles])


def department_units(user) -> QuerySet[Unit]:
    """The departments (条) this person sends tasks and applications for (handler or unit leader)."""
    ids = _memberships(user, DEPARTMENT_ROLES).filter(unit__kind=UnitKind.DEPARTMENT).values("unit_id")
    return Unit.objects.filter(pk__in=ids).order_by("code")


def community_units(user) -> QuerySet[Unit]:
    """The residents' committees this person works in as a community worker."""
    ids = _memberships(user, [RoleCode.COMMUNITY_WORKER]).values("unit_id")
    return Unit.objects.filter(pk__in=ids).order_by("code")


def is_community_committee(unit: Unit) -> bool:
    return (unit.kind == UnitKind.TERRITORIAL and unit.division_id is not None
            and unit.division.level == Level.COMMUNITY)


def is_admin(user) -> bool:
    return bool(getattr(user, "is_superuser", False)) or _memberships(user, [RoleCode.ADMIN]).exists()


def reviewer_districts(user) -> list[str]:
    """Division codes of the districts whose governments this person leads."""
    return list(_memberships(user, [RoleCode.UNIT_LEADER])
                .filter(unit__kind=UnitKind.TERRITORIAL, unit__division__level=Level.DISTRICT)
                .values_list("unit__division__code", flat=True))


def is_reviewer(user) -> bool:
    return is_admin(user) or bool(reviewer_districts(user))


def may_review(user, department: Unit) -> bool:
    """An administrator reviews every application; a district leader those of departments in the district."""
    if is_admin(user):
        return True
    code = department.territory_code
    return bool(code) and any(code.startswith(d) for d in reviewer_districts(user))


def department_reaches(department: Unit, community: Unit) -> bool:
    """A department may send to committees in its territory (a city-level department: everywhere)."""
    code = department.territory_code
    if code is None or (department.division_id and department.division.level == Level.CITY):
        return True
    return community.division.code.startswith(code)


def is_staff_user(user) -> bool:
    """Any signed-in staff (the in-force list is public within staff, not to residents)."""
    scope = scope_for(user)
    return not scope.is_empty and scope.roles != {RoleCode.PARTY_MEMBER.value}


# -- lists and items ---------------------------------------------------------------------------------

def list_in_force() -> AdmissionList | None:
    return AdmissionList.objects.filter(status=AdmissionListStatus.IN_FORCE).order_by("-published_on", "-id").first()


def list_draft() -> AdmissionList | None:
    return AdmissionList.objects.filter(status=AdmissionListStatus.DRAFT).order_by("-id").first()


def items_in_force() -> QuerySet[AdmissionItem]:
    """The matters a department may ask of a committee today."""
    return (AdmissionItem.objects.filter(admission_list__status=AdmissionListStatus.IN_FORCE, revoked_on__isnull=True)
            .select_related("lead_department").order_by("code"))


def item_in_force(item: AdmissionItem | None) -> bool:
    """Whether `item` (as stored now, not as the caller holds it) may be asked of committees."""
    return item is not None and items_in_force().filter(pk=item.pk).exists()


def item_current(item: AdmissionItem) -> AdmissionItem:
    """The same matter (code and name) in the list in force, if a newer version carried it over; else `item`."""
    if AdmissionList.objects.filter(pk=item.admission_list_id, status=AdmissionListStatus.IN_FORCE).exists():
        return item
    newer = AdmissionItem.objects.filter(admission_list__status=AdmissionListStatus.IN_FORCE, code=item.code,
                                         name=item.name).first()
    return newer or item


@dataclass
class VersionRow:
    admission_list: AdmissionList
    categories: int
    items: int
    declared: bool  # counts as registered (items not stored)


def list_versions() -> list[VersionRow]:
    """Every version with its size: counted from its items, or as registered when its items are not stored."""
    rows = []
    lists = AdmissionList.objects.annotate(
        n_items=Count("items", filter=Q(items__revoked_on__isnull=True)),
        n_categories=Count("items__category", filter=Q(items__revoked_on__isnull=True), distinct=True),
    ).order_by("published_on", "id")
    for lst in lists:
        if lst.n_items == 0 and lst.declared_items is not None:
            rows.append(VersionRow(lst, lst.declared_categories or 0, lst.declared_items, True))
        else:
            rows.append(VersionRow(lst, lst.n_categories, lst.n_items, False))
    return rows


def items_by_category(admission_list: AdmissionList) -> list[tuple[str, list[AdmissionItem]]]:
    groups: dict[str, list[AdmissionItem]] = {}
    for item in admission_list.items.select_related("lead_department").order_by("code"):
        groups.setdefault(item.category, []).append(item)
    return list(groups.items())


# -- tasks and applications, scoped ---------------------------------------------------------------

def tasks_for_department(*, actor) -> QuerySet[CommunityTask]:
    return (CommunityTask.objects.filter(department__in=department_units(actor))
            .select_related("department", "community", "item"))


def tasks_for_community(*, actor) -> QuerySet[CommunityTask]:
    return (CommunityTask.objects.filter(community__in=community_units(actor))
            .select_related("department", "community", "item"))


def task_counts(tasks: QuerySet[CommunityTask]) -> dict[str, int]:
    """Tasks by outcome: a refusal as 未准入 and a return of an admitted task are counted apart."""
    counts = {st: n for st, n in tasks.order_by().values("state").annotate(n=Count("id")).values_list("state", "n")}
    out = {state: counts.get(state, 0) for state in CommunityTaskState.values}
    out["unadmitted"] = tasks.filter(admitted=False).count()
    return out


def applications_for_department(*, actor) -> QuerySet[AdmissionApplication]:
    return (AdmissionApplication.objects.filter(department__in=department_units(actor))
            .select_related("department", "item"))


def applications_to_review(*, actor, state: str = ApplicationState.PENDING) -> QuerySet[AdmissionApplication]:
    """The review queue, earliest due first: an administrator's is the whole city's."""
    qs = AdmissionApplication.objects.select_related("department__division", "item")
    if state:
        qs = qs.filter(state=state)
    if is_admin(actor):
        return qs.order_by("review_due_at", "id")
    districts = reviewer_districts(actor)
    if not districts:
        return qs.none()
    q = Q(pk__in=[])
    for code in districts:
        q |= Q(department__division__code__startswith=code) | Q(department__grid__code__startswith=code)
    return qs.filter(q).order_by("review_due_at", "id")


# -- 减负 registers ---------------------------------------------------------------------------------

def burden_summary() -> list[dict]:
    """Per kind (台账报表、责任状、挂牌): how many are kept and how many were cut."""
    counts = {(k, st): n for k, st, n in BurdenItem.objects.values("kind", "status")
              .annotate(n=Count("id")).values_list("kind", "status", "n")}
    return [{"kind": kind, "label": label, "kept": counts.get((kind, BurdenStatus.KEPT), 0),
             "cut": counts.get((kind, BurdenStatus.CUT), 0)} for kind, label in BurdenKind.choices]


def committees_reached(departments: QuerySet[Unit]) -> QuerySet[Unit]:
    """The residents' committees the given departments may send tasks to."""
    qs = Unit.objects.filter(kind=UnitKind.TERRITORIAL, active=True, division__level=Level.COMMUNITY)
    q = Q(pk__in=[])
    for dept in departments.select_related("division", "grid"):
        code = dept.territory_code
        if code is None or (dept.division_id and dept.division.level == Level.CITY):
            return qs.select_related("division").order_by("division__code")
        q |= Q(division__code__startswith=code)
    return qs.filter(q).select_related("division").order_by("division__code")


def items_revocable(*, actor) -> QuerySet[AdmissionItem]:
    """In-force matters this reviewer may revoke: all for an administrator, a district's departments' for its leader."""
    items = items_in_force()
    if is_admin(actor):
        return items
    q = Q(pk__in=[])
    for code in reviewer_districts(actor):
        q |= Q(lead_department__division__code__startswith=code)
    return items.filter(q)
