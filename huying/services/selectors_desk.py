"""Shared reads of the service desk (服务窗口): who staffs a position's desk, the appointment slots of a
day, today's appointments, the matters (办件) of a desk and of a person, and who may see them.

A position's desk staff are the people holding the service-desk role in the unit that runs it;
any of them may take any item (全岗通). Staff whose territory covers the position and who look after
services (COVERAGE_ROLES) may watch the desk; they see applicants' phones masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core import signing
from django.db.models import Count, Q, QuerySet

from huying.core.worktime import get_calendar
from huying.people.masking import mask_phone
from huying.people.models import Membership, RoleCode, User
from huying.people.scope import scope_for

from .hours import BEIJING, periods_on
from .models import Appointment, AppointmentState, DeskMatter, DeskSetting, MatterState, ServicePosition
from .selectors import COVERAGE_ROLES, periods_of

DEFAULT_SLOT_MINUTES = 30
DEFAULT_SLOT_CAPACITY = 2
BOOK_DAYS_AHEAD = 14  # a resident books at most two weeks ahead
OPEN_MATTER_STATES = (MatterState.ACCEPTED, MatterState.IN_PROGRESS)
BOOKING_SALT = "huying.services.booking"


# -- who ------------------------------------------------------------------------------------------

def desk_staff(position: ServicePosition) -> QuerySet[User]:
    """The people who staff the position's desk: the service-desk role in its unit."""
    return User.objects.filter(
        is_active=True, memberships__unit_id=position.unit_id, memberships__active=True,
        memberships__unit__active=True, memberships__role__code=RoleCode.SERVICE_DESK).distinct().order_by("pk")


def is_desk_staff(user, position: ServicePosition) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return Membership.objects.filter(user_id=user.pk, unit_id=position.unit_id, active=True, unit__active=True,
                                     role__code=RoleCode.SERVICE_DESK).exists()


def desk_positions(user) -> QuerySet[ServicePosition]:
    """The active positions whose desk `user` staffs."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ServicePosition.objects.none()
    units = Membership.objects.filter(user_id=user.pk, active=True, unit__active=True,
                                      role__code=RoleCode.SERVICE_DESK).values("unit_id")
    return ServicePosition.objects.filter(active=True, unit_id__in=units).order_by("name")


def may_watch(user, position: ServicePosition) -> bool:
    """Staff beyond the desk who look after the services of the position's territory (read only)."""
    scope = scope_for(user)
    return scope.has_any_role(*COVERAGE_ROLES) and scope.covers(position.division.code)


def shown_phone(phone: str, *, at_desk: bool) -> str:
    """The desk sees the applicant's phone; everyone beyond it sees it masked."""
    return phone if at_desk else mask_phone(phone)


# -- slots ----------------------------------------------------------------------------------------

def slot_rule(position: ServicePosition) -> tuple[int, int]:
    """(minutes per slot, places per slot) of the position."""
    setting = DeskSetting.objects.filter(position=position).first()
    if setting is None:
        return DEFAULT_SLOT_MINUTES, DEFAULT_SLOT_CAPACITY
    return setting.slot_minutes, setting.slot_capacity


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    capacity: int
    booked: int = 0

    @property
    def left(self) -> int:
        return max(0, self.capacity - self.booked)

    @property
    def key(self) -> str:
        return self.start.astimezone(BEIJING).strftime("%H:%M")


def slots_on(position: ServicePosition, day: date, *, with_counts: bool = True) -> list[Slot]:
    """The appointment slots of `day` (Beijing): each opening period of that day cut into slots; none
    on a day the position is closed."""
    minutes, capacity = slot_rule(position)
    periods = periods_on(periods_of(position), day, calendar=get_calendar(),
                         open_on_holidays=position.open_on_holidays)
    step = timedelta(minutes=minutes)
    slots = []
    for p in periods:
        start = datetime.combine(day, p.opens, tzinfo=BEIJING)
        closes = datetime.combine(day, p.closes, tzinfo=BEIJING)
        while start + step <= closes:
            slots.append(Slot(start=start, end=start + step, capacity=capacity))
            start += step
    if not with_counts or not slots:
        return slots
    counts = dict(Appointment.objects.filter(position=position, state__in=(AppointmentState.BOOKED,
                                                                          AppointmentState.TAKEN),
                                             slot_start__gte=slots[0].start, slot_start__lt=slots[-1].end)
                  .order_by().values("slot_start").annotate(n=Count("id")).values_list("slot_start", "n"))
    return [Slot(start=s.start, end=s.end, capacity=s.capacity, booked=counts.get(s.start, 0)) for s in slots]


def booking_days(position: ServicePosition, *, today: date, days: int = BOOK_DAYS_AHEAD) -> list[tuple[date, bool]]:
    """The next `days` dates and whether the position opens on each (for the booking page)."""
    calendar = get_calendar()
    periods = periods_of(position)
    return [(d, bool(periods_on(periods, d, calendar=calendar, open_on_holidays=position.open_on_holidays)))
            for d in (today + timedelta(days=i) for i in range(days))]


# -- appointments and matters ---------------------------------------------------------------------

def appointments_on(position: ServicePosition, day: date) -> QuerySet[Appointment]:
    start = datetime.combine(day, datetime.min.time(), tzinfo=BEIJING)
    return (Appointment.objects.filter(position=position, slot_start__gte=start, slot_start__lt=start + timedelta(days=1))
            .exclude(state=AppointmentState.CANCELLED).select_related("item", "matter").order_by("slot_start", "id"))


def matters_of_position(position: ServicePosition, *, open_only: bool = True) -> QuerySet[DeskMatter]:
    qs = DeskMatter.objects.filter(position=position).select_related("item", "owner", "appointment")
    if open_only:
        qs = qs.filter(state__in=OPEN_MATTER_STATES)
    return qs.order_by("due_at", "id")


def matters_owned(user, position: ServicePosition) -> QuerySet[DeskMatter]:
    """The open matters `user` answers for (首问) at the position."""
    return matters_of_position(position).filter(owner_id=user.pk)


def matters_recent(position: ServicePosition, *, since: datetime) -> QuerySet[DeskMatter]:
    """Matters closed (办结、不予受理、转办) since `since`."""
    return (DeskMatter.objects.filter(position=position, finished_at__gte=since)
            .exclude(state__in=OPEN_MATTER_STATES).select_related("item", "owner").order_by("-finished_at", "-id"))


def resident_bookings(user) -> QuerySet[Appointment]:
    if user is None or not getattr(user, "is_authenticated", False):
        return Appointment.objects.none()
    return (Appointment.objects.filter(resident_id=user.pk).select_related("position", "item", "matter")
            .order_by("-slot_start", "-id"))


def resident_matters(user) -> QuerySet[DeskMatter]:
    """Walk-in matters taken for a signed-in resident (appointments show their matter themselves)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return DeskMatter.objects.none()
    return (DeskMatter.objects.filter(Q(resident_id=user.pk), appointment__isnull=True)
            .select_related("position", "item").order_by("-taken_at", "-id"))


def booking_token(appointment: Appointment) -> str:
    """An opaque link that lets whoever booked (signed in or not) see and cancel the booking."""
    return signing.dumps(appointment.pk, salt=BOOKING_SALT)


def booking_from_token(token: str) -> Appointment | None:
    try:
        pk = signing.loads(str(token or ""), salt=BOOKING_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(pk, int):
        return None
    return Appointment.objects.filter(pk=pk).select_related("position", "item").first()


def work_order_state(matter: DeskMatter) -> str:
    """The label of the state of the work order a matter became ("" if none)."""
    if not matter.work_order_code:
        return ""
    from huying.dispatch.selectors import work_order_track

    track = work_order_track(code=matter.work_order_code)
    return str(track["state_label"]) if track else ""
