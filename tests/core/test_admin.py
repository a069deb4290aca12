from datetime import date

import pytest
from django.urls import reverse

from huying.core.audit import audit_log
from huying.core.models import AuditEntry, CalendarDay
from huying.core.services import calendar_day_set
from huying.core.worktime import get_calendar

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.org", "pw-not-checked-here")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_audit_log_is_read_only_in_admin(admin_client, admin_user):
    day = calendar_day_set(date(2027, 1, 1), is_workday=False, name="元旦", actor=admin_user)
    entry = AuditEntry.objects.get(action="core.calendar_day.created")
    assert admin_client.get(reverse("admin:core_auditentry_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:core_auditentry_add")).status_code == 403
    assert admin_client.get(reverse("admin:core_auditentry_delete", args=[entry.pk])).status_code == 403
    view = admin_client.get(reverse("admin:core_auditentry_change", args=[entry.pk]))
    assert view.status_code == 200 and 'name="_save"' not in view.content.decode()
    posted = admin_client.post(reverse("admin:core_auditentry_change", args=[entry.pk]), {"action": "x.y"})
    assert posted.status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).action == "core.calendar_day.created"
    assert day.pk


def test_audit_log_search_and_filter(admin_client, admin_user):
    day = calendar_day_set(date(2027, 1, 1), is_workday=False, name="元旦", actor=admin_user)
    audit_log(day, "core.test.marker", actor=admin_user, reason="测试")
    url = reverse("admin:core_auditentry_changelist")
    by_action = admin_client.get(url, {"action__exact": "core.test.marker"})
    assert list(by_action.context["cl"].queryset.values_list("action", flat=True)) == ["core.test.marker"]
    by_search = admin_client.get(url, {"q": "calendar_day.created"})
    assert list(by_search.context["cl"].queryset.values_list("action", flat=True)) == ["core.calendar_day.created"]
    by_actor = admin_client.get(url, {"q": "nobody-by-that-name"})
    assert by_actor.context["cl"].queryset.count() == 0
    assert admin_client.get(url, {"q": "root"}).context["cl"].queryset.count() == 2


def test_calendar_changelist_notice_names_known_years(admin_client, admin_user):
    url = reverse("admin:core_calendarday_changelist")
    page = admin_client.get(url).content.decode()
    assert 'id="calendar-notice"' in page
    assert "2004–2026" in page and "chinesecalendar" in page
    assert "周一至周五" in page
    assert "管理员尚未录入" in page
    # the notice sits below the add button, not under it
    assert page.index('class="object-tools"') < page.index('id="calendar-notice"') < page.index('id="changelist"')

    calendar_day_set(date(2027, 1, 1), is_workday=False, name="元旦", actor=admin_user)
    calendar_day_set(date(2026, 10, 9), is_workday=False, name="测试", actor=admin_user)
    notice = admin_client.get(url).context["calendar_notice"]
    assert notice["library_years"] == "2004–2026"
    assert notice["entered_years"] == "2026–2027"
    assert notice["overridden_years"] == "2026"
    assert notice["entered_only_years"] == "2027"


def test_calendar_day_added_and_deleted_through_admin_is_audited(admin_client, admin_user):
    add = admin_client.post(reverse("admin:core_calendarday_add"),
                            {"date": "2027-01-01", "is_workday": "", "name": "元旦"})
    assert add.status_code == 302, add.content.decode()[:2000]
    day = CalendarDay.objects.get(date=date(2027, 1, 1))
    created = AuditEntry.objects.get(action="core.calendar_day.created")
    assert created.actor == admin_user and created.new == {"date": "2027-01-01", "is_workday": False, "name": "元旦"}
    assert not get_calendar().is_workday(date(2027, 1, 1))

    change = admin_client.post(reverse("admin:core_calendarday_change", args=[day.pk]),
                               {"is_workday": "on", "name": "改为上班"})
    assert change.status_code == 302
    changed = AuditEntry.objects.get(action="core.calendar_day.changed")
    assert changed.old["is_workday"] is False and changed.new["is_workday"] is True
    assert get_calendar().is_workday(date(2027, 1, 1))

    delete = admin_client.post(reverse("admin:core_calendarday_delete", args=[day.pk]), {"post": "yes"})
    assert delete.status_code == 302
    assert not CalendarDay.objects.exists()
    deleted = AuditEntry.objects.get(action="core.calendar_day.deleted")
    assert deleted.actor == admin_user and deleted.old["name"] == "改为上班"


def test_calendar_bulk_delete_action_is_audited(admin_client, admin_user):
    a = calendar_day_set(date(2027, 1, 1), is_workday=False, name="元旦", actor=admin_user)
    b = calendar_day_set(date(2027, 2, 6), is_workday=True, name="春节调休", actor=admin_user)
    response = admin_client.post(reverse("admin:core_calendarday_changelist"),
                                 {"action": "delete_selected", "_selected_action": [a.pk, b.pk], "post": "yes"})
    assert response.status_code == 302
    assert not CalendarDay.objects.exists()
    assert AuditEntry.objects.filter(action="core.calendar_day.deleted").count() == 2
