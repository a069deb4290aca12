"""What every dispatch service shares: locking with the version check, permissions, history rows."""

from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.people.models import RoleCode
from huying.people.scope import scope_for

from ..models import Transition, WorkOrder
from ..signals import order_transitioned, send_on_commit
from ..workflow import CHILD_DONE

# Roles that work on orders inside a territory (as opposed to residents and Party members).
STAFF_ROLES = (RoleCode.OPERATOR, RoleCode.DISPATCHER, RoleCode.HANDLER, RoleCode.UNIT_LEADER,
               RoleCode.GRID_WORKER, RoleCode.COMMUNITY_WORKER, RoleCode.LEADER, RoleCode.ADMIN)


def now_or(now):
    return now or timezone.now()


def lock_order(order, *, version: int | None = None) -> WorkOrder:
    """Lock the order's row for this transaction; a stale `version` is a 409 conflict."""
    pk = getattr(order, "pk", order)
    try:
        locked = WorkOrder.objects.select_for_update().get(pk=pk)
    except WorkOrder.DoesNotExist:
        raise DomainError("dispatch.not_found", _("工单不存在。"), status=404) from None
    if version is not None and int(version) != locked.version:
        raise DomainError(
            "dispatch.stale",
            _("工单已被他人修改（当前版本 %(current)s，您提交的版本 %(given)s），请刷新后重试。")
            % {"current": locked.version, "given": version},
            field="version", status=409, current_version=locked.version,
        )
    return locked


def is_system(actor) -> bool:
    return actor is None


def _superuser(actor) -> bool:
    return bool(getattr(actor, "is_superuser", False))


def has_any_role(actor, *roles) -> bool:
    if _superuser(actor):
        return True
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    scope = scope_for(actor)
    return any(scope.has_role(r) for r in roles) or scope.has_role(RoleCode.ADMIN)


def require_role(actor, *roles) -> None:
    if not has_any_role(actor, *roles):
        raise DomainError("dispatch.forbidden", _("您没有执行此操作的权限。"), status=403)


def in_territory(actor, order: WorkOrder) -> bool:
    """Does the actor's territory cover the order's location (a district dispatcher, their district)?"""
    if _superuser(actor):
        return True
    return scope_for(actor).covers(order.area_code)


def require_dispatcher(actor, order: WorkOrder, *roles) -> None:
    """A dispatcher (or the given roles) whose territory covers the order."""
    require_role(actor, *(roles or (RoleCode.DISPATCHER,)))
    if not in_territory(actor, order):
        raise DomainError("dispatch.forbidden", _("该工单不在您的管辖范围内。"), status=403)


def member_of(actor, unit_id: int | None) -> bool:
    if unit_id is None or actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if _superuser(actor):
        return True
    return unit_id in set(scope_for(actor).unit_ids)


def require_lead_member(actor, order: WorkOrder) -> None:
    """Only the people of the unit the order is assigned to act for that unit."""
    if not member_of(actor, order.lead_unit_id):
        raise DomainError("dispatch.forbidden", _("只有承办单位的人员可以办理此工单。"), status=403)


def unit_level(unit) -> str:
    """The handling level a unit works at: "department" for a unit without territory, else its level."""
    if unit.grid_id:
        return "grid"
    if unit.division_id is None:
        return "department"
    return unit.division.level


def required_text(value: str | None, field: str, message, *, max_length: int | None = None) -> str:
    """Free text a step needs (a reason, a result), cleaned (huying.core.text); empty is `message`."""
    value = clean_text(value, field=field, max_length=max_length, multiline=True)
    if not value:
        raise DomainError("dispatch.required", message, field=field)
    return value


def actor_label(actor) -> str:
    if actor is None:
        return "system"
    return (str(actor) or actor.get_username())[:150]


def record(order: WorkOrder, *, action: str, from_state: str, actor, now, note: str = "",
           data: dict | None = None, unit_id: int | None = None, label: str = "") -> Transition:
    """Append the timeline row and the audit row for one step, and announce it after commit
    (`label` names an actor who has no login, such as a resident proven by their phone)."""
    data = data or {}
    note = clean_text(note, field="note", multiline=True)  # every service's note, whoever cleaned it before
    step = Transition.objects.create(
        order=order, action=action, from_state=from_state or "", to_state=order.state,
        actor=actor if getattr(actor, "pk", None) else None, actor_label=label or actor_label(actor),
        unit_id=unit_id, at=now, note=note, data=data,
    )
    audit_log(order, f"dispatch.order.{action}", actor=actor,
              old={"state": from_state} if from_state else None,
              new={"state": order.state, "version": order.version}, data=data, reason=note)
    send_on_commit(order_transitioned, order_id=order.pk, action=action, from_state=from_state,
                   to_state=order.state, unit_id=unit_id)
    return step


def save(order: WorkOrder, now, fields: list[str]) -> None:
    """Bump the version and write only the named fields (plus version and updated_at)."""
    order.version += 1
    order.updated_at = now
    order.save(update_fields=sorted(set(fields) | {"version", "updated_at"}))


def require_children_done(order: WorkOrder) -> None:
    """A split parent is handled through its children: nothing moves it while one is still open."""
    open_codes = list(WorkOrder.objects.filter(parent_id=order.pk).exclude(state__in=CHILD_DONE)
                      .values_list("code", flat=True)[:3])
    if open_codes:
        raise DomainError("dispatch.split_children_open",
                          _("本工单已拆分，子工单 %(codes)s 尚未结案，请等待全部子工单结案。")
                          % {"codes": "、".join(open_codes)}, status=409)
