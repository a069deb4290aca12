"""State changes of the service desk (服务窗口): appointments and desk matters (窗口办件).

- A resident books an item at a position in one slot cut from its opening hours; a slot holds
  `slot_capacity` people. The position's row is locked while a booking counts its slot, so two
  bookings of the last place cannot both succeed.
- Any desk staff member of the position takes any item (全岗通), walk-in or from an appointment; who
  takes a matter owns it (首问负责制) until it is finished, refused or turned into a work order,
  or until they formally hand it over to another desk staff member, who then owns it.
- The deadline is the item's legal time limit in working days on the working calendar from the
  moment the matter was taken (an item handled on the spot, 即办, gets one working day). A periodic
  job flags overdue matters.

Each function locks, checks, changes and writes its audit row in one transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core import jobs
from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.core.worktime import WorkCalendar, get_calendar
from huying.dispatch.notify.models import NotifyEvent, RecipientKind
from huying.dispatch.notify.services import notification_enqueue
from huying.people.services import validate_phone

from . import selectors_desk as sel
from .hours import BEIJING
from .models import (
    Appointment,
    AppointmentState,
    DeskMatter,
    DeskSetting,
    MatterHandover,
    MatterState,
    ServiceItem,
    ServicePosition,
)

# The lifecycle of a matter:受理 → 办理中 → 办结 / 不予受理 / 转办.
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    # Taken at the desk: work starts, or it is finished on the spot (即办), refused because the
    # application does not qualify (不予受理), or sent on as a work order to the unit that must act.
    MatterState.ACCEPTED: {MatterState.IN_PROGRESS, MatterState.DONE, MatterState.REFUSED, MatterState.TRANSFERRED},
    # Once work has started the application was accepted: it can no longer be refused, only
    # finished or sent on to another unit.
    MatterState.IN_PROGRESS: {MatterState.DONE, MatterState.TRANSFERRED},
    # Closed states are final: history is appended, never rewritten.
    MatterState.DONE: set(),
    MatterState.REFUSED: set(),
    MatterState.TRANSFERRED: set(),
}


def transition_check(current: str, target: str) -> None:
    if target not in ALLOWED_TRANSITIONS.get(current, set()):
        raise DomainError("services.desk.bad_transition",
                          _("办件当前为“%(state)s”，不能执行此操作。") % {"state": MatterState(current).label},
                          status=409)


def matter_due(taken_at: datetime, time_limit_days: int | None, calendar: WorkCalendar) -> datetime:
    """The deadline of a matter taken at `taken_at` (pure): the legal limit in working days, one day for 即办."""
    return calendar.add(taken_at, days=time_limit_days or 1)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _forbid(message: str) -> None:
    raise DomainError("services.desk.forbidden", message, status=403)


# -- appointments ---------------------------------------------------------------------------------

@transaction.atomic
def desk_setting_set(position: ServicePosition, *, slot_minutes: int, slot_capacity: int, actor) -> DeskSetting:
    """Set how the position's slots are cut (minutes per slot, places per slot)."""
    if not (5 <= int(slot_minutes) <= 240):
        raise DomainError("services.desk.bad_slot_minutes", _("预约时段须为 5–240 分钟。"), field="slot_minutes")
    if not (1 <= int(slot_capacity) <= 100):
        raise DomainError("services.desk.bad_capacity", _("每个时段可约人数须为 1–100。"), field="slot_capacity")
    position = ServicePosition.objects.select_for_update().get(pk=position.pk)
    setting, _created = DeskSetting.objects.get_or_create(position=position)
    old = {"slot_minutes": setting.slot_minutes, "slot_capacity": setting.slot_capacity}
    setting.slot_minutes, setting.slot_capacity = int(slot_minutes), int(slot_capacity)
    setting.save()
    audit_log(position, "services.desk.setting_set", actor=actor, old=old,
              new={"slot_minutes": setting.slot_minutes, "slot_capacity": setting.slot_capacity})
    return setting


@transaction.atomic
def appointment_book(position: ServicePosition, *, item: ServiceItem, slot_start: datetime, actor=None,
                     name: str = "", phone: str = "", now: datetime | None = None) -> Appointment:
    """A resident books `item` at `position` in the slot starting at `slot_start` (signed in, or by name and phone)."""
    now = _now(now)
    signed_in = actor is not None and getattr(actor, "is_authenticated", False)
    name = clean_text(name, field="name", max_length=60) or (actor.display_name if signed_in else "")
    phone = validate_phone(clean_text(phone, field="phone", max_length=20) or (actor.phone if signed_in else ""))
    if not name:
        raise DomainError("services.desk.name_required", _("请填写姓名。"), field="name")
    if not phone:
        raise DomainError("services.desk.phone_required", _("请填写手机号码，便于窗口联系您。"), field="phone")
    if slot_start.tzinfo is None:
        raise ValueError("appointment_book needs an aware slot_start")
    # The lock serialises the bookings of one position: the count below sees every committed booking.
    position = ServicePosition.objects.select_for_update().get(pk=position.pk)
    if not position.active:
        raise DomainError("services.desk.position_inactive", _("该服务阵地已停用。"), status=409)
    if not position.items.filter(pk=item.pk, active=True).exists():
        raise DomainError("services.desk.item_not_here", _("该事项不在此服务阵地办理。"), field="item")
    day = slot_start.astimezone(BEIJING).date()
    today = now.astimezone(BEIJING).date()
    if day > today + timedelta(days=sel.BOOK_DAYS_AHEAD - 1):
        raise DomainError("services.desk.too_far", _("最多可预约 %(n)s 天内的时段。") % {"n": sel.BOOK_DAYS_AHEAD},
                          field="slot")
    slots = sel.slots_on(position, day, with_counts=False)
    if not slots:
        raise DomainError("services.desk.closed_day", _("该服务阵地当天不开放，不能预约。"), field="slot")
    slot = next((s for s in slots if s.start == slot_start), None)
    if slot is None:
        raise DomainError("services.desk.no_such_slot", _("没有这个预约时段，请重新选择。"), field="slot")
    if slot.start <= now:
        raise DomainError("services.desk.slot_past", _("该时段已开始或已过去，请选择以后的时段。"), field="slot")
    taken = Appointment.objects.filter(position=position, slot_start=slot.start,
                                       state__in=(AppointmentState.BOOKED, AppointmentState.TAKEN))
    if taken.filter(phone=phone).exists():
        raise DomainError("services.desk.already_booked", _("您已预约了这个时段。"), field="slot", status=409)
    if taken.count() >= slot.capacity:
        raise DomainError("services.desk.slot_full", _("该时段已约满（每个时段 %(n)s 人），请选择其他时段。")
                          % {"n": slot.capacity}, field="slot", status=409)
    appointment = Appointment.objects.create(
        position=position, item=item, slot_start=slot.start, slot_end=slot.end,
        resident=actor if signed_in else None, name=name, phone=phone, created_at=now)
    # The audit log is read more widely than the booking: no name or phone in it.
    audit_log(appointment, "services.desk.booked", actor=actor if signed_in else None,
              new={"position": position.pk, "item": item.code, "slot": slot.start.isoformat()})
    return appointment


def _may_cancel(appointment: Appointment, actor, by_token: bool) -> bool:
    if by_token:
        return True
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return appointment.resident_id == actor.pk or sel.is_desk_staff(actor, appointment.position)


@transaction.atomic
def appointment_cancel(appointment: Appointment, *, actor=None, by_token: bool = False,
                       now: datetime | None = None) -> Appointment:
    """The resident (signed in, or holding the booking's link) or the desk cancels a booking before its slot."""
    now = _now(now)
    appointment = Appointment.objects.select_for_update().select_related("position").get(pk=appointment.pk)
    if not _may_cancel(appointment, actor, by_token):
        _forbid(_("只有预约人或该阵地的窗口人员可以取消预约。"))
    if appointment.state != AppointmentState.BOOKED:
        raise DomainError("services.desk.not_booked", _("该预约已取消或已受理，不能再取消。"), status=409)
    if appointment.slot_start <= now:
        raise DomainError("services.desk.cancel_too_late", _("预约时段已开始，不能取消。"), status=409)
    appointment.state, appointment.cancelled_at = AppointmentState.CANCELLED, now
    appointment.save(update_fields=["state", "cancelled_at"])
    signed_in = actor is not None and getattr(actor, "is_authenticated", False)
    audit_log(appointment, "services.desk.cancelled", actor=actor if signed_in else None,
              old={"state": AppointmentState.BOOKED}, new={"state": appointment.state})
    return appointment


# -- matters --------------------------------------------------------------------------------------

def _require_desk(actor, position: ServicePosition) -> None:
    if not sel.is_desk_staff(actor, position):
        _forbid(_("只有该服务阵地的窗口人员可以办理。"))


def _snapshot(matter: DeskMatter) -> dict:
    return {"state": matter.state, "owner": matter.owner_id}


@transaction.atomic
def matter_take(position: ServicePosition, *, item: ServiceItem | None = None, actor, applicant_name: str = "",
                applicant_phone: str = "", note: str = "", appointment: Appointment | None = None,
                now: datetime | None = None) -> DeskMatter:
    """Take a matter at the desk (受理), walk-in or from an appointment; the taker owns it (首问负责制)."""
    now = _now(now)
    _require_desk(actor, position)
    resident = None
    if appointment is not None:
        appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if appointment.position_id != position.pk:
            raise DomainError("services.desk.other_position", _("该预约不是本服务阵地的。"), status=409)
        if appointment.state != AppointmentState.BOOKED:
            raise DomainError("services.desk.not_booked", _("该预约已取消或已受理。"), status=409)
        item = appointment.item
        applicant_name, applicant_phone, resident = appointment.name, appointment.phone, appointment.resident
    applicant_name = clean_text(applicant_name, field="applicant_name", max_length=60)
    applicant_phone = validate_phone(clean_text(applicant_phone, field="applicant_phone", max_length=20))
    note = clean_text(note, field="note", max_length=500)
    if not applicant_name:
        raise DomainError("services.desk.name_required", _("请填写申请人姓名。"), field="applicant_name")
    if item is None:
        raise DomainError("services.desk.item_required", _("请选择服务事项。"), field="item")
    if not item.active or not position.items.filter(pk=item.pk).exists():
        raise DomainError("services.desk.item_not_here", _("该事项不在此服务阵地办理。"), field="item")
    matter = DeskMatter.objects.create(
        position=position, item=item, appointment=appointment, resident=resident, applicant_name=applicant_name,
        applicant_phone=applicant_phone, note=note, owner=actor, taken_by=actor, taken_at=now,
        due_at=matter_due(now, item.time_limit_days, get_calendar()))
    if appointment is not None:
        appointment.state = AppointmentState.TAKEN
        appointment.save(update_fields=["state"])
        audit_log(appointment, "services.desk.appointment_taken", actor=actor,
                  old={"state": AppointmentState.BOOKED}, new={"state": appointment.state, "matter": matter.pk})
    audit_log(matter, "services.desk.matter_taken", actor=actor, new={
        **_snapshot(matter), "position": position.pk, "item": item.code, "due_at": matter.due_at.isoformat(),
        "appointment": appointment.pk if appointment else None})
    return matter


def _locked_own(matter: DeskMatter, actor) -> DeskMatter:
    """The matter locked, checked to be the actor's own (首问: only the owner acts on it)."""
    matter = (DeskMatter.objects.select_for_update(of=("self",)).select_related("position", "item", "owner")
              .get(pk=matter.pk))
    _require_desk(actor, matter.position)
    if matter.owner_id != actor.pk:
        _forbid(_("该办件由首问责任人 %(owner)s 负责，须由其本人办理或正式移交。") % {
            "owner": matter.owner.display_name or matter.owner.username})
    return matter


@transaction.atomic
def matter_start(matter: DeskMatter, *, actor, now: datetime | None = None) -> DeskMatter:
    """The owner starts work on a matter (办理中)."""
    matter = _locked_own(matter, actor)
    transition_check(matter.state, MatterState.IN_PROGRESS)
    old = _snapshot(matter)
    matter.state = MatterState.IN_PROGRESS
    matter.save(update_fields=["state"])
    audit_log(matter, "services.desk.matter_started", actor=actor, old=old, new=_snapshot(matter))
    return matter


def _close(matter: DeskMatter, state: str, *, actor, result: str, now: datetime, action: str) -> DeskMatter:
    old = _snapshot(matter)
    matter.state, matter.result, matter.finished_at, matter.finished_by = state, result, now, actor
    matter.save(update_fields=["state", "result", "finished_at", "finished_by"])
    audit_log(matter, action, actor=actor, old=old,
              new={**_snapshot(matter), "in_time": now <= matter.due_at}, reason=result)
    return matter


@transaction.atomic
def matter_finish(matter: DeskMatter, *, result: str, actor, now: datetime | None = None) -> DeskMatter:
    """The owner finishes a matter (办结) with its result."""
    now = _now(now)
    matter = _locked_own(matter, actor)
    transition_check(matter.state, MatterState.DONE)
    result = clean_text(result, field="result", max_length=500)
    if not result:
        raise DomainError("services.desk.result_required", _("请填写办理结果。"), field="result")
    return _close(matter, MatterState.DONE, actor=actor, result=result, now=now, action="services.desk.matter_done")


@transaction.atomic
def matter_refuse(matter: DeskMatter, *, reason: str, actor, now: datetime | None = None) -> DeskMatter:
    """The owner refuses a matter (不予受理), stating why."""
    now = _now(now)
    matter = _locked_own(matter, actor)
    transition_check(matter.state, MatterState.REFUSED)
    reason = clean_text(reason, field="result", max_length=500)
    if not reason:
        raise DomainError("services.desk.reason_required", _("请填写不予受理的理由。"), field="result")
    return _close(matter, MatterState.REFUSED, actor=actor, result=reason, now=now,
                  action="services.desk.matter_refused")


@transaction.atomic
def matter_hand_over(matter: DeskMatter, *, to_user, reason: str, actor, now: datetime | None = None) -> DeskMatter:
    """The owner formally hands a matter over (移交) to another desk staff member of the position, who owns it from now."""
    now = _now(now)
    matter = _locked_own(matter, actor)
    if matter.state not in sel.OPEN_MATTER_STATES:
        raise DomainError("services.desk.closed", _("办件已办结，不能移交。"), status=409)
    reason = clean_text(reason, field="reason", max_length=255)
    if not reason:
        raise DomainError("services.desk.reason_required", _("请填写移交理由。"), field="reason")
    if to_user is None or to_user.pk == actor.pk:
        raise DomainError("services.desk.bad_receiver", _("请选择另一位窗口人员接收。"), field="to_user")
    if not sel.is_desk_staff(to_user, matter.position):
        raise DomainError("services.desk.bad_receiver", _("接收人须是本服务阵地的窗口人员。"), field="to_user")
    old = _snapshot(matter)
    MatterHandover.objects.create(matter=matter, from_user=actor, to_user=to_user, reason=reason, at=now)
    matter.owner = to_user
    matter.save(update_fields=["owner"])
    audit_log(matter, "services.desk.matter_handed_over", actor=actor, old=old, new=_snapshot(matter), reason=reason)
    return matter


@transaction.atomic
def matter_to_work_order(matter: DeskMatter, *, subject, actor, description: str = "", request_type=None,
                         now: datetime | None = None) -> DeskMatter:
    """The owner sends a matter another unit must handle to dispatch as a work order (转办), in this same
    transaction; the applicant is the reporter. A refusal by dispatch is raised unchanged and nothing is stored."""
    from huying.dispatch.services import work_order_create

    now = _now(now)
    matter = _locked_own(matter, actor)
    transition_check(matter.state, MatterState.TRANSFERRED)
    description = clean_text(description, field="description", max_length=2000, multiline=True)
    position = matter.position
    text = description or matter.note or matter.item.name
    order = work_order_create(
        # Dispatch has no window channel; "other" is its channel for calls arriving from other systems.
        channel="other", subject=subject, request_type=request_type,
        title=f"{matter.item.name}（{position.name}）"[:120],
        description=_("【党群服务中心窗口·%(position)s】%(text)s") % {"position": position.name, "text": text},
        idempotency_key=f"services-desk-matter-{matter.pk}", lng=position.lng, lat=position.lat,
        address=position.address, reporter_name=matter.applicant_name, reporter_phone=matter.applicant_phone,
        actor=actor, now=now)
    old = _snapshot(matter)
    matter.work_order_id, matter.work_order_code = order.pk, order.code
    matter.state, matter.finished_at, matter.finished_by = MatterState.TRANSFERRED, now, actor
    matter.result = description
    matter.save(update_fields=["state", "finished_at", "finished_by", "work_order_id", "work_order_code", "result"])
    audit_log(matter, "services.desk.matter_transferred", actor=actor, old=old,
              new={**_snapshot(matter), "work_order": order.code})
    return matter


# -- supervision ----------------------------------------------------------------------------------

def desk_overdue_sweep(*, now: datetime, batch: int = 500) -> dict:
    """Flag open matters past their deadline (超期), each with its audit row; workers share the rows."""
    flagged = 0
    while True:
        with transaction.atomic():
            rows = list(DeskMatter.objects.select_for_update(skip_locked=True, of=("self",))
                        .select_related("item")
                        .filter(state__in=sel.OPEN_MATTER_STATES, overdue=False, due_at__lt=now)
                        .order_by("due_at", "id")[:batch])
            for matter in rows:
                matter.overdue = True
                matter.save(update_fields=["overdue"])
                audit_log(matter, "services.desk.matter_overdue", actor=None, old={"overdue": False},
                          new={"overdue": True, "owner": matter.owner_id}, data={"due_at": matter.due_at.isoformat()})
                # the owner (首问责任人) is told in the same transaction; the key makes a repeat a no-op
                notification_enqueue(
                    NotifyEvent.OVERDUE, recipient_kind=RecipientKind.USER, recipient_id=matter.owner_id,
                    title=_("窗口办件超期：%(item)s") % {"item": matter.item.name},
                    body=_("您首问负责的办件「%(item)s」已过办结期限（%(due)s），请尽快办结或移交。") % {
                        "item": matter.item.name,
                        "due": timezone.localtime(matter.due_at).strftime("%Y-%m-%d %H:%M")},
                    dedup_key=f"desk-overdue:{matter.pk}", data={"desk_matter": matter.pk}, now=now)
        flagged += len(rows)
        if len(rows) < batch:
            return {"desk_overdue": flagged}


def desk_overdue_job(*, now, stopping, every) -> dict:
    """超期 of desk matters (窗口办件)."""
    return desk_overdue_sweep(now=now)


def register_jobs() -> None:
    jobs.register("desk-overdue", interval=300, fn=desk_overdue_job, title="窗口办件超期扫描")
