from datetime import date

import pytest

from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.core.models import CalendarDay
from huying.core.services import calendar_day_delete, calendar_day_set

pytestmark = pytest.mark.django_db


def test_calendar_day_set_creates_changes_and_skips_no_op():
    day = calendar_day_set(date(2027, 1, 1), is_workday=False, name=" 元旦 ", actor=None)
    assert (day.is_workday, day.name) == (False, "元旦")
    same = calendar_day_set(date(2027, 1, 1), is_workday=False, name="元旦", actor=None)
    assert same.pk == day.pk
    changed = calendar_day_set(date(2027, 1, 1), is_workday=True, name="元旦", actor=None)
    assert CalendarDay.objects.get().is_workday is True and changed.pk == day.pk
    actions = [e.action for e in audit_trail(day)]
    assert actions == ["core.calendar_day.created", "core.calendar_day.changed"]
    assert audit_trail(day)[0].actor_label == "system"


def test_calendar_day_delete_is_audited_with_old_value():
    day = calendar_day_set(date(2027, 1, 1), is_workday=False, name="元旦", actor=None)
    calendar_day_delete(day, actor=None, reason="录错")
    trail = list(audit_trail(day))
    assert [e.action for e in trail][-1] == "core.calendar_day.deleted"
    assert trail[-1].old == {"date": "2027-01-01", "is_workday": False, "name": "元旦"}
    assert trail[-1].reason == "录错"


def test_calendar_day_set_refuses_bad_input():
    with pytest.raises(DomainError) as err:
        calendar_day_set("2027-01-01", is_workday=False, actor=None)
    assert err.value.field == "date"
    with pytest.raises(DomainError) as err:
        calendar_day_set(date(2027, 1, 1), is_workday=False, name="长" * 61, actor=None)
    assert err.value.field == "name"
    assert not CalendarDay.objects.exists()
