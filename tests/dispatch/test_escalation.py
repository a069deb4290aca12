"""吹哨报到 and 督办: whistles, reports (on time and late), the sweep's flags and supervision levels."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.dispatch.escalation import selectors
from huying.dispatch.escalation.models import SupervisionCause, SupervisionNotice, WhistleCall, WhistleKind
from huying.dispatch.escalation.services import (
    escalation_sweep,
    report_minutes,
    supervision_issue,
    whistle_blow,
    whistle_report,
)
from huying.dispatch.models import DeadlineState, OutboxMessage, Transition
from huying.dispatch.services import deadline_sweep, work_order_dispatch
from huying.people.models import RoleCode, Unit, UnitKind
from huying.people.services import membership_grant, unit_create, user_create

from .conftest import PASSWORD, at

T0 = at(2026, 3, 2, 10, 0)  # a Monday
T1 = T0 + timedelta(hours=1)


@pytest.fixture
def esc(world):
    """The world with a chain of superiors, a second department and one person in it."""
    u = world.units
    Unit.objects.filter(pk=u["community_a"].pk).update(parent=u["street_a"])
    Unit.objects.filter(pk=u["street_a"].pk).update(parent=u["district"])
    bureau = unit_create(code="t-zjj", name="住房和城乡建设局", kind=UnitKind.DEPARTMENT, actor=None)
    dept2 = unit_create(code="t-zjj-1", name="住建局物业科", kind=UnitKind.DEPARTMENT, parent=bureau, actor=None)
    user = user_create(username="u-dept2", password=PASSWORD, display_name="dept2", actor=None, check_password=False)
    membership_grant(user, unit=dept2, role_code=RoleCode.HANDLER, actor=None)
    world.units.update(bureau=bureau, dept2=dept2)
    world.users["dept2"] = user
    return world


@pytest.fixture
def order(esc, report):
    o = report()
    return work_order_dispatch(o, actor=esc.users["dispatcher"], version=o.version, now=T0 + timedelta(minutes=5))


def steps(order, prefix=""):
    return [t.action for t in Transition.objects.filter(order=order).order_by("id") if t.action.startswith(prefix)]


def test_emergency_whistle_one_department_on_time_one_late(esc, order):
    u, units = esc.users, esc.units
    whistle = whistle_blow(order, actor=u["street_a"], kind="emergency", reason="燃气泄漏需联合处置",
                           department_ids=[units["dept"].pk, units["dept2"].pk], now=T1)
    assert whistle.unit_id == units["street_a"].pk and whistle.report_minutes == 30
    calls = {c.department_id: c for c in whistle.calls.all()}
    assert set(calls) == {units["dept"].pk, units["dept2"].pk}
    assert all(c.due_at == T1 + timedelta(minutes=30) for c in calls.values())
    summons = OutboxMessage.objects.filter(order=order, dedup_key__startswith=f"whistle:{whistle.pk}:")
    assert {(m.recipient_kind, m.recipient_id) for m in summons} == {("unit", units["dept"].pk),
                                                                     ("unit", units["dept2"].pk)}

    on_time = whistle_report(calls[units["dept"].pk], actor=u["dept"], note="已到场", now=T1 + timedelta(minutes=12))
    assert on_time.status == WhistleCall.Status.REPORTED and not on_time.late and on_time.report_seconds == 720
    assert units["dept"].pk in set(order.cohandlers.values_list("pk", flat=True))

    # 31 minutes on, the second department has not reported: the sweep flags it and supervises it.
    out = escalation_sweep(now=T1 + timedelta(minutes=31))
    assert out == {"flagged": 1, "supervised": 1}
    missing = WhistleCall.objects.get(pk=calls[units["dept2"].pk].pk)
    assert missing.flagged_at == T1 + timedelta(minutes=31) and missing.status == WhistleCall.Status.PENDING
    notice = SupervisionNotice.objects.get(order=order)
    assert (notice.unit_id, notice.level, notice.cause) == (units["dept2"].pk, 1, SupervisionCause.WHISTLE_MISSED)
    assert set(notice.recipients.values_list("pk", flat=True)) == {units["dept2"].pk, units["bureau"].pk}
    assert escalation_sweep(now=T1 + timedelta(minutes=32)) == {"flagged": 0, "supervised": 0}

    late = whistle_report(missing, actor=u["dept2"], now=T1 + timedelta(minutes=45))
    assert late.late and late.report_seconds == 45 * 60
    assert set(order.cohandlers.values_list("pk", flat=True)) >= {units["dept"].pk, units["dept2"].pk}
    assert steps(order, "whistle") == ["whistle_blown", "whistle_reported", "whistle_missed", "whistle_reported"]
    assert [a.action for a in audit_trail(order) if "whistle" in a.action or "supervised" in a.action] == [
        "dispatch.order.whistle_blown", "dispatch.order.whistle_reported", "dispatch.order.whistle_missed",
        "dispatch.order.supervised", "dispatch.order.whistle_reported"]
    reported = Transition.objects.filter(order=order, action="whistle_reported").order_by("id")
    assert [(t.unit_id, t.data["late"], t.data["seconds"]) for t in reported] == [
        (units["dept"].pk, False, 720), (units["dept2"].pk, True, 2700)]
    # Once reported, a later sweep no longer supervises the department for the missed report.
    assert escalation_sweep(now=T1 + timedelta(days=3)) == {"flagged": 0, "supervised": 0}


def test_report_limits_are_configurable_per_kind(esc, order, settings):
    assert report_minutes("emergency") == 30 and report_minutes("routine") == 24 * 60
    settings.HUYING_WHISTLE_REPORT_MINUTES = {"routine": 90}
    assert report_minutes(WhistleKind.ROUTINE) == 90 and report_minutes("tough") == 240
    w = whistle_blow(order, actor=esc.users["comm_a"], kind="routine", reason="占道经营屡禁不止",
                     department_ids=[esc.units["dept"].pk], now=T1)
    assert w.unit_id == esc.units["community_a"].pk
    assert w.calls.get().due_at == T1 + timedelta(minutes=90)


@pytest.mark.parametrize(("who", "kw", "code", "field"), [
    ("resident", {}, "dispatch.forbidden", None),
    ("street_b", {}, "escalation.forbidden", None),
    ("street_a", {"department_ids": []}, "escalation.required", "departments"),
    ("street_a", {"department_ids": ["community_a"]}, "escalation.bad_department", "departments"),
    ("street_a", {"reason": "  "}, "escalation.required", "reason"),
    ("street_a", {"kind": "loud"}, "escalation.bad_kind", "kind"),
])
def test_whistle_refusals_name_the_field(esc, order, who, kw, code, field):
    args = dict(kind="tough", reason="违建拆除", department_ids=["dept"])
    args.update(kw)
    args["department_ids"] = [esc.units[k].pk for k in args["department_ids"]]
    with pytest.raises(DomainError) as err:
        whistle_blow(order, actor=esc.users[who], now=T1, **args)
    assert (err.value.code, err.value.field) == (code, field)
    assert not order.whistles.exists() and steps(order, "whistle") == []


def test_whistle_needs_a_running_order_and_reports_once_by_members_only(esc, report):
    u = esc.users
    fresh = report()
    with pytest.raises(DomainError) as err:
        whistle_blow(fresh, actor=u["street_a"], kind="tough", reason="x", department_ids=[esc.units["dept"].pk])
    assert err.value.code == "escalation.bad_state"
    fresh = work_order_dispatch(fresh, actor=u["dispatcher"], version=fresh.version, now=T0)
    call = whistle_blow(fresh, actor=u["street_a"], kind="tough", reason="x",
                        department_ids=[esc.units["dept"].pk], now=T1).calls.get()
    with pytest.raises(DomainError) as err:
        whistle_report(call, actor=u["dept2"], now=T1)
    assert err.value.status == 403
    whistle_report(call, actor=u["dept"], now=T1 + timedelta(minutes=1))
    with pytest.raises(DomainError) as err:
        whistle_report(call, actor=u["dept"], now=T1 + timedelta(minutes=2))
    assert err.value.code == "escalation.already_reported"


def test_overdue_order_is_supervised_then_escalated_one_level_up(esc, order, settings):
    settings.HUYING_SUPERVISION_ESCALATE_HOURS = 24
    units = esc.units
    late = order.resolve_due + timedelta(hours=1)
    assert escalation_sweep(now=late) == {"flagged": 0, "supervised": 0}  # not yet marked overdue
    deadline_sweep(now=late)
    order.refresh_from_db()
    assert order.deadline_state == DeadlineState.OVERDUE
    assert escalation_sweep(now=late) == {"flagged": 0, "supervised": 1}
    first = SupervisionNotice.objects.get(order=order)
    assert (first.unit_id, first.level, first.cause) == (units["community_a"].pk, 1, SupervisionCause.OVERDUE)
    assert set(first.recipients.values_list("pk", flat=True)) == {units["community_a"].pk, units["street_a"].pk}
    assert escalation_sweep(now=late + timedelta(hours=23)) == {"flagged": 0, "supervised": 0}
    assert escalation_sweep(now=late + timedelta(hours=25)) == {"flagged": 0, "supervised": 1}
    second = SupervisionNotice.objects.get(order=order, level=2)
    assert set(second.recipients.values_list("pk", flat=True)) == {units["street_a"].pk, units["district"].pk}
    assert escalation_sweep(now=late + timedelta(days=5)) == {"flagged": 0, "supervised": 0}  # the sweep stops at 2
    sent = OutboxMessage.objects.filter(event="supervision", order=order)
    assert sorted({m.recipient_id for m in sent}) == sorted(
        {units["community_a"].pk, units["street_a"].pk, units["district"].pk})
    assert steps(order, "supervised") == ["supervised", "supervised"]


def test_dispatcher_supervises_by_hand_up_to_the_top(esc, order):
    u, units = esc.users, esc.units
    with pytest.raises(DomainError) as err:
        supervision_issue(order, actor=u["comm_a"], note="请加快", now=T1)
    assert err.value.status == 403
    n1 = supervision_issue(order, actor=u["dispatcher"], note="请加快", now=T1)
    n2 = supervision_issue(order, actor=u["dispatcher"], note="再次督办", now=T1 + timedelta(hours=2))
    n3 = supervision_issue(order, actor=u["dispatcher"], now=T1 + timedelta(hours=3))
    assert [n.level for n in (n1, n2, n3)] == [1, 2, 3]
    assert n1.cause == SupervisionCause.MANUAL and n1.issued_by_id == u["dispatcher"].pk
    assert list(n3.recipients.values_list("pk", flat=True)) == [units["district"].pk]
    with pytest.raises(DomainError) as err:
        supervision_issue(order, actor=u["dispatcher"], now=T1 + timedelta(hours=4))
    assert err.value.code == "escalation.no_superior"
    entry = [a for a in audit_trail(order) if a.action == "dispatch.order.supervised"][0]
    assert entry.data["recipients"] == [units["community_a"].pk, units["street_a"].pk] and entry.reason == "请加快"


def test_lists_are_scoped_to_the_viewers_units(esc, order):
    u, units = esc.users, esc.units
    whistle_blow(order, actor=u["street_a"], kind="emergency", reason="r", department_ids=[units["dept"].pk], now=T1)
    assert [c.department_id for c in selectors.whistle_calls_for(actor=u["dept"])] == [units["dept"].pk]
    assert not selectors.whistle_calls_for(actor=u["dept2"]).exists()
    supervision_issue(order, actor=u["dispatcher"], now=T1)
    assert selectors.supervision_notice_list(actor=u["street_a"]).count() == 1
    assert selectors.supervision_notice_list(actor=u["comm_a"]).count() == 1
    assert selectors.supervision_notice_list(actor=u["street_b"]).count() == 0
    assert selectors.supervision_notice_list(actor=u["resident2"]).count() == 0


def test_sweep_command_runs_once(esc, order):
    whistle_blow(order, actor=esc.users["street_a"], kind="emergency", reason="r",
                 department_ids=[esc.units["dept"].pk], now=T1)
    out = StringIO()
    call_command("escalation", "sweep", "--once", stdout=out)  # now is real time, long after T1
    assert out.getvalue().strip() == "flagged=1 supervised=1"  # the department alone: it has no superior


def test_pages_refuse_outsiders_with_a_clear_message(esc, order, client):
    u = esc.users
    client.force_login(u["resident2"])
    assert client.get(f"/escalation/orders/{order.pk}/whistle/").status_code == 404
    assert client.post("/escalation/supervision/", {"order": order.code}).status_code == 404
    client.force_login(u["street_b"])  # another street: the order is not theirs to see
    assert client.get(f"/escalation/orders/{order.pk}/whistle/").status_code == 404
    client.force_login(u["operator"])  # sees the order, but an operator may not blow whistles
    resp = client.post(f"/escalation/orders/{order.pk}/whistle/",
                       {"kind": "tough", "departments": [esc.units["dept"].pk], "reason": "r"})
    assert resp.status_code == 400 and not order.whistles.exists()
    assert "您没有执行此操作的权限。" in resp.content.decode()
    resp = client.post(f"/escalation/orders/{order.pk}/whistle/", {"kind": "tough", "reason": ""})
    assert resp.status_code == 400 and "请至少选择一个被召集部门。" in resp.content.decode()


def test_order_detail_links_to_the_whistle_page_while_the_order_is_open(esc, order, client):
    client.force_login(esc.users["street_a"])
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert f'href="/escalation/orders/{order.pk}/whistle/"' in html
