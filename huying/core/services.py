"""State changes of the core app: the administrator-entered calendar days."""

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from .audit import audit_log
from .errors import DomainError
from .models import CalendarDay


def _day_dict(day: CalendarDay) -> dict:
    return {"date": day.date.isoformat(), "is_workday": day.is_workday, "name": day.name}


@transaction.atomic
def calendar_day_set(day: date, *, is_workday: bool, name: str = "", actor) -> CalendarDay:
    """Enter or change one holiday (休) or adjusted working day (班); deadlines use it at once."""
    if not isinstance(day, date):
        raise DomainError("core.calendar.bad_date", _("请填写日期。"), field="date")
    name = (name or "").strip()
    if len(name) > CalendarDay._meta.get_field("name").max_length:
        raise DomainError("core.calendar.name_too_long", _("名称过长。"), field="name")
    existing = CalendarDay.objects.select_for_update().filter(date=day).first()
    if existing is None:
        created = CalendarDay.objects.create(date=day, is_workday=bool(is_workday), name=name)
        audit_log(created, "core.calendar_day.created", actor=actor, new=_day_dict(created))
        return created
    old = _day_dict(existing)
    existing.is_workday = bool(is_workday)
    existing.name = name
    if _day_dict(existing) != old:
        existing.save(update_fields=["is_workday", "name"])
        audit_log(existing, "core.calendar_day.changed", actor=actor, old=old, new=_day_dict(existing))
    return existing


@transaction.atomic
def calendar_day_delete(day: CalendarDay, *, actor, reason: str = "") -> None:
    """Remove an entered day; that date falls back to chinesecalendar or Monday–Friday."""
    day = CalendarDay.objects.select_for_update().get(pk=day.pk)
    audit_log(day, "core.calendar_day.deleted", actor=actor, old=_day_dict(day), reason=reason)
    day.delete()
