"""社区事务准入: the shipped lists, tasks refused as 未准入 or accepted, applications reviewed in time
and late, revocation, the 减负 registers, and who may do what."""

from datetime import date

import pytest

from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.services import admission as svc
from huying.services import selectors_admission as sel
from huying.services.models import (
    AdmissionApplication,
    AdmissionItem,
    AdmissionList,
    AdmissionListStatus,
    ApplicationState,
    BurdenItem,
    BurdenKind,
    CommunityTaskState,
)

from . import admission_setup
from .admission_setup import DUE, SUBMITTED
from .conftest import at

adm = admission_setup.adm  # the shared fixture

NOW = at(2026, 9, 24, 1, 0)


def _item(name):
    return sel.items_in_force().get(name=name)


def test_seed_loads_old_and_new_lists_with_counts(adm):
    assert adm.seeded == {"lists": 2, "items": 76, "burden": 22}
    rows = {r.admission_list.version: r for r in sel.list_versions()}
    assert (rows["2015"].categories, rows["2015"].items, rows["2015"].declared) == (35, 175, True)
    assert rows["2015"].admission_list.status == AdmissionListStatus.SUPERSEDED
    assert (rows["2020"].categories, rows["2020"].items, rows["2020"].declared) == (15, 76, False)
    assert sel.items_in_force().filter(name__contains="人口普查").exists()
    assert svc.admission_demo_seed() == {"lists": 0, "items": 0, "burden": 0}  # idempotent


def _send(adm, *, item=None, community=None, actor=None, title="报送辖区困难群众名单"):
    return svc.community_task_send(department=adm.unit.civil, community=community or adm.unit.liushuijing,
                                   title=title, due_on=date(2026, 10, 9), item=item,
                                   actor=actor or adm.user.mz_handler, now=NOW)


def test_unadmitted_task_is_flagged_and_refused(adm):
    task = _send(adm)
    assert not task.admitted
    with pytest.raises(DomainError) as exc:
        svc.community_task_refuse(task, actor=adm.user.lsj_worker, reason="", now=NOW)
    assert exc.value.code == "services.task.reason_required"
    svc.community_task_refuse(task, actor=adm.user.lsj_worker, reason="不在准入清单内", now=NOW)
    task.refresh_from_db()
    assert task.state == CommunityTaskState.REFUSED and task.reason == "不在准入清单内"
    assert [e.action for e in audit_trail(task)] == ["services.task.sent", "services.task.refused"]
    counts = sel.task_counts(sel.tasks_for_department(actor=adm.user.mz_handler))
    assert counts["refused"] == 1 and counts["returned"] == 0 and counts["unadmitted"] == 1


def test_admitted_task_cannot_be_refused_as_unadmitted_but_accepted_or_returned(adm):
    item = _item("协助受理最低生活保障申请并入户调查")
    task = _send(adm, item=item)
    assert task.admitted
    with pytest.raises(DomainError) as exc:
        svc.community_task_refuse(task, actor=adm.user.lsj_worker, reason="不想做", now=NOW)
    assert exc.value.code == "services.task.admitted"
    task.refresh_from_db()
    assert task.state == CommunityTaskState.SENT
    svc.community_task_accept(task, actor=adm.user.lsj_worker, now=NOW)
    task.refresh_from_db()
    assert task.state == CommunityTaskState.ACCEPTED and task.decided_by == adm.user.lsj_worker
    with pytest.raises(DomainError):
        svc.community_task_accept(task, actor=adm.user.lsj_worker, now=NOW)
    other = _send(adm, item=item, title="入户核查")
    svc.community_task_return(other, actor=adm.user.lsj_worker, reason="对象不在本社区", now=NOW)
    counts = sel.task_counts(sel.tasks_for_community(actor=adm.user.lsj_worker))
    assert counts["accepted"] == 1 and counts["returned"] == 1 and counts["refused"] == 0


def test_task_scope_refusals(adm):
    task = _send(adm)
    # another committee's worker, and the other department, see nothing and may not act
    with pytest.raises(DomainError) as exc:
        svc.community_task_accept(task, actor=adm.user.lc_worker, now=NOW)
    assert exc.value.status == 403
    assert not sel.tasks_for_community(actor=adm.user.lc_worker).exists()
    assert not sel.tasks_for_department(actor=adm.user.cg_handler).exists()
    assert list(sel.tasks_for_department(actor=adm.user.mz_handler)) == [task]
    with pytest.raises(DomainError) as exc:
        _send(adm, actor=adm.user.cg_handler)  # not a handler of 民政局
    assert exc.value.code == "services.admission.not_department"
    with pytest.raises(DomainError) as exc:
        _send(adm, community=adm.unit.beijing)  # a street office is not a committee
    assert exc.value.code == "services.task.not_community"
    with pytest.raises(DomainError):
        svc.admission_apply(department=adm.unit.civil, category="x", name="y", legal_basis="z", funding="w",
                            actor=adm.user.lsj_worker, now=NOW)


def _apply(adm, name="协助开展居民电动自行车充电安全排查"):
    return svc.admission_apply(department=adm.unit.civil, category="消防、安全生产与应急", name=name,
                               legal_basis="《广州市电动自行车管理规定》", funding="部门专项经费",
                               reason="每年两次排查", actor=adm.user.mz_handler, now=SUBMITTED)


def test_application_due_in_working_days_across_holidays(adm):
    app = _apply(adm)
    assert app.review_due_at == DUE
    with pytest.raises(DomainError) as exc:
        svc.admission_apply(department=adm.unit.civil, category="x", name="y", legal_basis="z", funding="",
                            actor=adm.user.mz_handler, now=SUBMITTED)
    assert exc.value.field == "funding"


def test_admitted_in_time_makes_new_version_and_task_is_admitted(adm):
    old = sel.list_in_force()
    app = _apply(adm)
    assert list(sel.applications_to_review(actor=adm.user.yx_leader)) == [app]
    svc.admission_application_admit(app, actor=adm.user.yx_leader, note="同意", now=at(2026, 10, 21, 16, 0))
    app.refresh_from_db()
    assert app.state == ApplicationState.ADMITTED and app.reviewed_in_time is True
    new = sel.list_in_force()
    assert new != old and new.version == "20261021"
    old.refresh_from_db()
    assert old.status == AdmissionListStatus.SUPERSEDED and old.superseded_on == date(2026, 10, 21)
    assert new.items.count() == 77 and app.item.admission_list == new and app.item.code == "12-06"
    assert app.item.lead_department == adm.unit.civil
    # a task citing the carried-over copy of an old item is still admitted
    stale = AdmissionItem.objects.get(admission_list=old, code="04-01")
    assert _send(adm, item=stale).admitted
    task = _send(adm, item=app.item, title="电动自行车充电排查")
    assert task.admitted
    svc.community_task_accept(task, actor=adm.user.lsj_worker, now=NOW)
    assert [e.action for e in audit_trail(app)] == ["services.admission.applied", "services.admission.admitted"]


def test_late_review_is_recorded_and_draft_receives_item(adm):
    draft = svc.admission_list_create(version="2027", title="清单（2027修订稿）", actor=adm.user.admin,
                                      copy_from=sel.list_in_force())
    app = _apply(adm)
    svc.admission_application_admit(app, actor=adm.user.yx_leader, now=at(2026, 10, 22, 9, 30))
    app.refresh_from_db()
    assert app.reviewed_in_time is False and app.item.admission_list == draft
    # not yet in force: a task citing it is 未准入 until the draft is published
    assert not _send(adm, item=app.item).admitted
    svc.admission_list_publish(draft, actor=adm.user.admin, on=date(2026, 11, 1))
    assert sel.list_in_force() == draft and _send(adm, item=app.item).admitted


def test_rejection_needs_reason_and_reviewer_scope(adm, town):
    app = _apply(adm)
    for outsider in (adm.user.mz_handler, town.user.bj_staff, adm.user.lsj_worker):
        with pytest.raises(DomainError) as exc:
            svc.admission_application_reject(app, actor=outsider, note="不同意", now=SUBMITTED)
        assert exc.value.status == 403
        assert not sel.applications_to_review(actor=outsider).exists()
    with pytest.raises(DomainError):
        svc.admission_application_reject(app, actor=adm.user.yx_leader, note="", now=SUBMITTED)
    svc.admission_application_reject(app, actor=adm.user.yx_leader, note="属部门自身职责", now=SUBMITTED)
    app.refresh_from_db()
    assert app.state == ApplicationState.REJECTED and app.reviewed_in_time and app.item is None
    with pytest.raises(DomainError) as exc:
        svc.admission_application_admit(app, actor=adm.user.admin, now=SUBMITTED)
    assert exc.value.code == "services.admission.not_pending"
    assert AdmissionList.objects.count() == 2


def test_revocation_makes_later_tasks_unadmitted(adm):
    app = _apply(adm)
    svc.admission_application_admit(app, actor=adm.user.yx_leader, now=SUBMITTED)
    app.refresh_from_db()
    before = _send(adm, item=app.item)
    seeded = _item("协助开展人口普查")
    with pytest.raises(DomainError) as exc:  # a district leader may not revoke a city matter
        svc.admission_item_revoke(seeded, actor=adm.user.yx_leader, reason="x")
    assert exc.value.status == 403
    with pytest.raises(DomainError):
        svc.admission_item_revoke(app.item, actor=adm.user.yx_leader, reason="")
    svc.admission_item_revoke(app.item, actor=adm.user.yx_leader, reason="已由物业承担", on=date(2026, 9, 30))
    after = _send(adm, item=app.item)
    assert before.admitted and not after.admitted
    assert not sel.items_in_force().filter(pk=app.item.pk).exists()
    with pytest.raises(DomainError):
        svc.admission_item_revoke(app.item, actor=adm.user.admin, reason="again")
    svc.community_task_refuse(after, actor=adm.user.lsj_worker, reason="已撤销准入", now=NOW)


def test_burden_registers(adm):
    summary = {row["kind"]: row for row in sel.burden_summary()}
    assert (summary["letter"]["kept"], summary["letter"]["cut"]) == (0, 6)
    kept = BurdenItem.objects.filter(kind=BurdenKind.FORM, status="kept").first()
    svc.burden_item_cut(kept, actor=adm.user.admin, on=date(2026, 9, 1), reason="并入系统")
    assert {r["kind"]: r for r in sel.burden_summary()}["form"]["cut"] == summary["form"]["cut"] + 1
    with pytest.raises(DomainError):
        svc.burden_item_cut(kept, actor=adm.user.admin)


def test_pending_count_unaffected_by_other_districts(adm):
    _apply(adm)
    assert AdmissionApplication.objects.count() == 1
    assert sel.applications_to_review(actor=adm.user.admin).count() == 1


def test_only_admin_maintains_lists_and_registers(adm):
    for outsider in (adm.user.yx_leader, adm.user.lsj_worker):
        with pytest.raises(DomainError) as exc:
            svc.admission_list_create(version="2028", title="t", actor=outsider)
        assert exc.value.code == "services.admission.not_admin"
        with pytest.raises(DomainError):
            svc.admission_list_publish(sel.list_in_force(), actor=outsider)
        with pytest.raises(DomainError):
            svc.burden_item_cut(BurdenItem.objects.filter(status="kept").first(), actor=outsider)
    with pytest.raises(DomainError) as exc:
        svc.admission_list_publish(sel.list_in_force(), actor=adm.user.admin)
    assert exc.value.code == "services.admission.not_draft"
