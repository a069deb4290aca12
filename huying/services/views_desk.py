"""Service-desk pages (服务窗口): the desk of a position (today's appointments, my matters, walk-ins,
hand-over, finish, to work order), the resident's booking page at phone width (reached from the
position's page), and the resident's view of their bookings and matters.

The desk answers its own staff; staff beyond the desk who look after the position's territory may
watch it read-only, with applicants' phones masked. Everyone else gets 403.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from huying.core.errors import DomainError
from huying.people.masking import mask_phone

from . import desk as svc
from . import selectors_desk as sel
from .hours import BEIJING
from .models import Appointment, AppointmentState, DeskMatter, MatterState, ServiceItem, ServicePosition

MATTER_ACTIONS = ("start", "finish", "refuse", "handover", "order")


def _now() -> datetime:
    return timezone.now()


def _position(pk: int) -> ServicePosition:
    return get_object_or_404(ServicePosition.objects.select_related("division", "unit"), pk=pk, active=True)


@login_required
@require_GET
def desk_home(request):
    """The desk of the signed-in staff member's position (a choice when they staff several)."""
    positions = list(sel.desk_positions(request.user))
    if not positions:
        raise PermissionDenied(_("此页面供党群服务中心窗口人员使用。"))
    if len(positions) == 1:
        return redirect("services:desk", pk=positions[0].pk)
    return render(request, "services/desk/choose.html", {"positions": positions})


def _matter_rows(matters, *, at_desk: bool, now: datetime):
    rows = []
    for m in matters:
        m.phone_shown = sel.shown_phone(m.applicant_phone, at_desk=at_desk)
        m.late = m.overdue or (m.state in sel.OPEN_MATTER_STATES and m.due_at < now)
        rows.append(m)
    return rows


@login_required
@require_GET
def desk(request, pk: int):
    """一窗受理: today's appointments, my matters, the desk's other open matters, a walk-in form."""
    position = _position(pk)
    at_desk = sel.is_desk_staff(request.user, position)
    if not at_desk and not sel.may_watch(request.user, position):
        raise PermissionDenied(_("您不是该服务阵地的窗口人员。"))
    now = _now()
    today = now.astimezone(BEIJING).date()
    appointments = list(sel.appointments_on(position, today))
    for a in appointments:
        a.phone_shown = sel.shown_phone(a.phone, at_desk=at_desk)
    open_matters = _matter_rows(sel.matters_of_position(position), at_desk=at_desk, now=now)
    mine = [m for m in open_matters if m.owner_id == request.user.pk]
    others = [m for m in open_matters if m.owner_id != request.user.pk]
    recent = _matter_rows(sel.matters_recent(position, since=now - timedelta(days=7))[:50], at_desk=at_desk, now=now)
    for m in recent:
        m.order_state = sel.work_order_state(m)
    colleagues = [u for u in sel.desk_staff(position) if u.pk != request.user.pk]
    return render(request, "services/desk/desk.html", {
        "position": position, "at_desk": at_desk, "appointments": appointments, "mine": mine, "others": others,
        "recent": recent, "colleagues": colleagues, "items": position.items.filter(active=True).order_by("code"),
        "now": now.astimezone(BEIJING), "subjects": _subjects()})


def _subjects():
    from huying.dispatch.models import Subject

    return Subject.objects.filter(active=True, children__isnull=True).order_by("code")[:500]


def _back(position_pk: int):
    return redirect(reverse("services:desk", args=[position_pk]))


def _run(request, call, success: str) -> None:
    try:
        call()
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)


@login_required
@require_POST
def walk_in(request, pk: int):
    """Take a walk-in matter (现场受理)."""
    position = _position(pk)
    item = ServiceItem.objects.filter(pk=_int(request.POST.get("item"))).first()
    _run(request, lambda: svc.matter_take(
        position, item=item, actor=request.user, applicant_name=request.POST.get("applicant_name", ""),
        applicant_phone=request.POST.get("applicant_phone", ""), note=request.POST.get("note", ""), now=_now()),
        _("已受理，您是该办件的首问责任人。"))
    return _back(position.pk)


@login_required
@require_POST
def appointment_take(request, pk: int):
    """Take a matter from a booked appointment."""
    appointment = get_object_or_404(Appointment.objects.select_related("position"), pk=pk)
    _run(request, lambda: svc.matter_take(appointment.position, appointment=appointment, actor=request.user,
                                          now=_now()), _("已按预约受理，您是该办件的首问责任人。"))
    return _back(appointment.position_id)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_POST
def matter_act(request, pk: int, action: str):
    """The owner's actions on a matter: start, finish, refuse, hand over, send to dispatch."""
    if action not in MATTER_ACTIONS:
        raise Http404
    matter = get_object_or_404(DeskMatter, pk=pk)
    user, now, post = request.user, _now(), request.POST
    if action == "start":
        call, done = lambda: svc.matter_start(matter, actor=user, now=now), _("已开始办理。")
    elif action == "finish":
        call, done = lambda: svc.matter_finish(matter, result=post.get("result", ""), actor=user, now=now), _("已办结。")
    elif action == "refuse":
        call, done = (lambda: svc.matter_refuse(matter, reason=post.get("result", ""), actor=user, now=now),
                      _("已不予受理。"))
    elif action == "handover":
        from huying.people.models import User

        receiver = User.objects.filter(pk=_int(post.get("to_user"))).first()
        call, done = (lambda: svc.matter_hand_over(matter, to_user=receiver, reason=post.get("reason", ""),
                                                   actor=user, now=now), _("已移交，接收人成为首问责任人。"))
    else:
        call, done = (lambda: svc.matter_to_work_order(matter, subject=post.get("subject", ""), actor=user,
                                                       description=post.get("description", ""), now=now),
                      _("已转为工单，由指挥调度派给承办单位。"))
    _run(request, call, done)
    return _back(matter.position_id)


# -- residents ------------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def book(request, pk: int):
    """预约办理 (phone width): choose an item, a day and a slot; name and phone unless signed in."""
    position = _position(pk)
    now = _now()
    today = now.astimezone(BEIJING).date()
    days = sel.booking_days(position, today=today)
    try:
        day = datetime.strptime(request.GET.get("day", "") or request.POST.get("day", ""), "%Y-%m-%d").date()
    except ValueError:
        day = next((d for d, open_ in days if open_), today)
    status, values = 200, {}
    if request.method == "POST":
        values = request.POST
        item = ServiceItem.objects.filter(pk=_int(request.POST.get("item"))).first()
        try:
            slot_start = datetime.strptime(f"{day:%Y-%m-%d} {request.POST.get('slot', '')}",
                                           "%Y-%m-%d %H:%M").replace(tzinfo=BEIJING)
        except ValueError:
            slot_start = None
        try:
            if item is None:
                raise DomainError("services.desk.item_required", _("请选择服务事项。"), field="item")
            if slot_start is None:
                raise DomainError("services.desk.slot_required", _("请选择预约时段。"), field="slot")
            appointment = svc.appointment_book(position, item=item, slot_start=slot_start, actor=request.user,
                                               name=request.POST.get("name", ""), phone=request.POST.get("phone", ""),
                                               now=now)
        except DomainError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            messages.success(request, _("预约成功。请保存本页链接，凭它查看或取消预约。"))
            return redirect("services:booking", token=sel.booking_token(appointment))
    slots = [s for s in sel.slots_on(position, day) if s.start > now] if day in {d for d, _o in days} else []
    return render(request, "services/desk/book.html", {
        "p": position, "days": days, "day": day, "slots": slots, "values": values,
        "items": position.items.filter(active=True).order_by("code"),
        "signed_in": request.user.is_authenticated, "closed": not any(o for d, o in days if d == day)},
        status=status)


def _booking_context(appointment: Appointment) -> dict:
    matter = getattr(appointment, "matter", None) if appointment.state == AppointmentState.TAKEN else None
    return {"a": appointment, "matter": matter, "phone": mask_phone(appointment.phone),
            "order_state": sel.work_order_state(matter) if matter else ""}


@require_http_methods(["GET", "POST"])
def booking(request, token: str):
    """One booking, by its link: slot, state, the matter it became and its state; cancel while booked."""
    appointment = sel.booking_from_token(token)
    if appointment is None:
        raise Http404(_("找不到该预约。"))
    if request.method == "POST":
        try:
            svc.appointment_cancel(appointment, actor=request.user, by_token=True, now=_now())
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("预约已取消。"))
        return redirect("services:booking", token=token)
    return render(request, "services/desk/booking.html", {**_booking_context(appointment), "token": token,
                                                          "now": _now()})


@login_required
@require_GET
def my_bookings(request):
    """A signed-in resident's bookings and walk-in matters with their states."""
    bookings = Paginator(sel.resident_bookings(request.user), 20).get_page(request.GET.get("page"))
    for a in bookings:
        a.token = sel.booking_token(a)
        a.matter_row = getattr(a, "matter", None) if a.state == AppointmentState.TAKEN else None
    matters = list(sel.resident_matters(request.user)[:50])
    for m in matters:
        m.order_state = sel.work_order_state(m)
    return render(request, "services/desk/mine.html", {"bookings": bookings, "matters": matters,
                                                       "open_states": [MatterState.ACCEPTED, MatterState.IN_PROGRESS]})
