"""State changes of the admission list (社区事务准入) and the 减负 registers.

申请 → 审批 → 准入 → 撤销: a department applies for a new matter, a reviewer admits it (into the
draft list if one is being prepared, else into a new in-force version) or rejects it within
REVIEW_WORKING_DAYS working days, and may later revoke it. A task a department sends to a
residents' committee that cites no in-force matter is 未准入, and the committee may refuse it.
Each function checks, changes and writes its audit row in one transaction.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.core.worktime import get_calendar
from huying.people.models import Unit, UnitKind

from . import selectors_admission as sel
from .models import (
    AdmissionApplication,
    AdmissionItem,
    AdmissionList,
    AdmissionListStatus,
    ApplicationState,
    BurdenItem,
    BurdenStatus,
    CommunityTask,
    CommunityTaskState,
)

# 北京西城 (2018): the joint group approves an application within 15 working days.
REVIEW_WORKING_DAYS = 15
DATA_FILE = Path(__file__).parent / "data" / "admission.json"


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _list_snapshot(lst: AdmissionList) -> dict:
    return {"version": lst.version, "status": lst.status,
            "published_on": lst.published_on.isoformat() if lst.published_on else None,
            "superseded_on": lst.superseded_on.isoformat() if lst.superseded_on else None}


def _item_snapshot(item: AdmissionItem) -> dict:
    return {"list": item.admission_list.version, "code": item.code, "category": item.category, "name": item.name,
            "legal_basis": item.legal_basis, "lead_department": item.lead_department_id,
            "lead_department_name": item.lead_department_name, "funding": item.funding}


# -- lists ------------------------------------------------------------------------------------------

def _require_admin(actor) -> None:
    if not sel.is_admin(actor):
        raise DomainError("services.admission.not_admin", _("只有系统管理员可以维护准入清单和减负登记。"), status=403)


@transaction.atomic
def admission_list_create(*, version: str, title: str, actor, source_note: str = "",
                          copy_from: AdmissionList | None = None) -> AdmissionList:
    """Start a draft version (optionally copying the standing, unrevoked items of another version)."""
    _require_admin(actor)
    return _list_create(version=version, title=title, actor=actor, source_note=source_note, copy_from=copy_from)


@transaction.atomic
def admission_list_publish(lst: AdmissionList, *, actor, on: date | None = None) -> AdmissionList:
    """Put a draft in force; the version in force until now is superseded the same day."""
    _require_admin(actor)
    return _list_publish(lst, actor=actor, on=on)


def _list_create(*, version: str, title: str, actor, source_note: str, copy_from: AdmissionList | None):
    version = clean_text(version, field="version", max_length=40)
    title = clean_text(title, field="title", max_length=160)
    if not version or not title:
        raise DomainError("services.admission.list_required", _("请填写版本和名称。"), field="version")
    if AdmissionList.objects.filter(version=version).exists():
        raise DomainError("services.admission.version_taken", _("该版本号已存在。"), field="version", status=409)
    lst = AdmissionList.objects.create(version=version, title=title, source_note=source_note)
    if copy_from is not None:
        AdmissionItem.objects.bulk_create([
            AdmissionItem(admission_list=lst, code=i.code, category=i.category, name=i.name,
                          legal_basis=i.legal_basis, lead_department_id=i.lead_department_id,
                          lead_department_name=i.lead_department_name, funding=i.funding)
            for i in copy_from.items.filter(revoked_on__isnull=True)])
    audit_log(lst, "services.admission.list_created", actor=actor, new=_list_snapshot(lst),
              data={"copied_from": copy_from.version if copy_from else None})
    return lst


def _list_publish(lst: AdmissionList, *, actor, on: date | None) -> AdmissionList:
    lst = AdmissionList.objects.select_for_update().get(pk=lst.pk)
    if lst.status != AdmissionListStatus.DRAFT:
        raise DomainError("services.admission.not_draft", _("只有草稿可以发布。"), status=409)
    on = on or timezone.localdate()
    for old in AdmissionList.objects.select_for_update().filter(status=AdmissionListStatus.IN_FORCE):
        before = _list_snapshot(old)
        old.status, old.superseded_on = AdmissionListStatus.SUPERSEDED, on
        old.save(update_fields=["status", "superseded_on"])
        audit_log(old, "services.admission.list_superseded", actor=actor, old=before, new=_list_snapshot(old),
                  data={"by": lst.version})
    before = _list_snapshot(lst)
    lst.status, lst.published_on = AdmissionListStatus.IN_FORCE, on
    lst.save(update_fields=["status", "published_on"])
    audit_log(lst, "services.admission.list_published", actor=actor, old=before, new=_list_snapshot(lst))
    return lst


def _next_code(lst: AdmissionList, category: str) -> str:
    codes = list(lst.items.values_list("code", "category"))
    prefix = next((c.split("-")[0] for c, cat in codes if cat == category), None)
    if prefix is None:
        numbers = [int(c.split("-")[0]) for c, _cat in codes if c.split("-")[0].isdigit()]
        prefix = f"{max(numbers, default=0) + 1:02d}"
    used = [int(c.split("-")[1]) for c, _cat in codes if c.startswith(prefix + "-") and c.split("-")[1].isdigit()]
    return f"{prefix}-{max(used, default=0) + 1:02d}"


@transaction.atomic
def admission_item_revoke(item: AdmissionItem, *, actor, reason: str, on: date | None = None) -> AdmissionItem:
    """撤销: a matter of the list in force no longer may be asked of committees (tasks sent from now are 未准入)."""
    item = AdmissionItem.objects.select_for_update().select_related("admission_list").get(pk=item.pk)
    reason = clean_text(reason, field="reason", max_length=255)
    # A district leader revokes what a department of the district got admitted; the rest is the administrator's.
    if not (sel.is_admin(actor) or (item.lead_department_id and sel.may_review(actor, item.lead_department))):
        raise DomainError("services.admission.not_reviewer", _("您无权撤销该准入事项。"), status=403)
    if not reason:
        raise DomainError("services.admission.reason_required", _("请填写撤销理由。"), field="reason")
    if item.revoked_on is not None:
        raise DomainError("services.admission.already_revoked", _("该事项已撤销。"), status=409)
    if item.admission_list.status == AdmissionListStatus.SUPERSEDED:
        raise DomainError("services.admission.list_superseded", _("该事项所在清单已废止。"), status=409)
    item.revoked_on, item.revoked_reason = on or timezone.localdate(), reason
    item.save(update_fields=["revoked_on", "revoked_reason"])
    audit_log(item, "services.admission.item_revoked", actor=actor, old={"revoked_on": None},
              new={"revoked_on": item.revoked_on.isoformat()}, reason=reason)
    return item


# -- applications (申请 → 审批 → 准入) ------------------------------------------------------------------

def _department_of(actor, department: Unit) -> None:
    if department.kind != UnitKind.DEPARTMENT or not sel.department_units(actor).filter(pk=department.pk).exists():
        raise DomainError("services.admission.not_department", _("您不是该职能部门的承办人或负责人。"), status=403)


@transaction.atomic
def admission_apply(*, department: Unit, category: str, name: str, legal_basis: str, funding: str, actor,
                    reason: str = "", now: datetime | None = None) -> AdmissionApplication:
    """A department applies for a new matter to be admitted; the review is due in REVIEW_WORKING_DAYS working days."""
    _department_of(actor, department)
    now = _now(now)
    values = {}
    given = {"category": category, "name": name, "legal_basis": legal_basis, "funding": funding}
    for key, limit in (("category", 60), ("name", 200), ("legal_basis", 255), ("funding", 160)):
        values[key] = clean_text(given[key], field=key, max_length=limit)
        if not values[key]:
            # 权随责走、费随事转: no matter is admitted without its legal basis and its funding.
            raise DomainError(f"services.admission.{key}_required", _("此项必填。"), field=key)
    reason = clean_text(reason, field="reason", max_length=2000, multiline=True)
    app = AdmissionApplication.objects.create(
        department=department, reason=reason, submitted_by=actor, submitted_at=now,
        review_due_at=get_calendar().add(now, days=REVIEW_WORKING_DAYS), **values)
    audit_log(app, "services.admission.applied", actor=actor,
              new={**values, "department": department.pk, "review_due_at": app.review_due_at.isoformat()})
    return app


def _lock_pending(app: AdmissionApplication, actor) -> AdmissionApplication:
    app = AdmissionApplication.objects.select_for_update(of=("self",)).select_related("department__division").get(pk=app.pk)
    if not sel.may_review(actor, app.department):
        raise DomainError("services.admission.not_reviewer", _("您无权审核该部门的准入申请。"), status=403)
    if app.state != ApplicationState.PENDING:
        raise DomainError("services.admission.not_pending", _("该申请已审核。"), status=409)
    return app


@transaction.atomic
def admission_application_admit(app: AdmissionApplication, *, actor, note: str = "",
                                now: datetime | None = None) -> AdmissionApplication:
    """准入: add the matter to the draft list if one is being prepared, else to a new version put in force today."""
    app = _lock_pending(app, actor)
    now = _now(now)
    note = clean_text(note, field="note", max_length=255)
    target = sel.list_draft()
    new_version = target is None
    if new_version:
        current = sel.list_in_force()
        base = timezone.localdate(now).strftime("%Y%m%d")
        version, n = base, 1
        while AdmissionList.objects.filter(version=version).exists():
            n += 1
            version = f"{base}-{n}"
        target = _list_create(
            version=version, title=current.title if current else _("居委会协助政府工作事项清单"), actor=actor,
            copy_from=current, source_note=_("准入申请“%(name)s”获准后修订") % {"name": app.name})
    item = AdmissionItem.objects.create(
        admission_list=target, code=_next_code(target, app.category), category=app.category, name=app.name,
        legal_basis=app.legal_basis, lead_department=app.department, lead_department_name=app.department.name,
        funding=app.funding)
    audit_log(item, "services.admission.item_added", actor=actor, new=_item_snapshot(item),
              data={"application": app.pk})
    if new_version:
        _list_publish(target, actor=actor, on=timezone.localdate(now))
    _close(app, ApplicationState.ADMITTED, actor=actor, note=note, now=now, item=item)
    return app


@transaction.atomic
def admission_application_reject(app: AdmissionApplication, *, actor, note: str,
                                 now: datetime | None = None) -> AdmissionApplication:
    """不予准入, with the reason the department will read."""
    app = _lock_pending(app, actor)
    note = clean_text(note, field="note", max_length=255)
    if not note:
        raise DomainError("services.admission.note_required", _("请填写不予准入的理由。"), field="note")
    _close(app, ApplicationState.REJECTED, actor=actor, note=note, now=_now(now))
    return app


def _close(app: AdmissionApplication, state: str, *, actor, note: str, now: datetime,
           item: AdmissionItem | None = None) -> None:
    app.state, app.reviewed_by, app.reviewed_at, app.review_note, app.item = state, actor, now, note, item
    app.reviewed_in_time = now <= app.review_due_at
    app.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_note", "item", "reviewed_in_time"])
    audit_log(app, f"services.admission.{state}", actor=actor, old={"state": ApplicationState.PENDING},
              new={"state": state, "item": item.pk if item else None, "in_time": app.reviewed_in_time},
              reason=note)


# -- tasks to communities -----------------------------------------------------------------------------

@transaction.atomic
def community_task_send(*, department: Unit, community: Unit, title: str, due_on: date, actor,
                        item: AdmissionItem | None = None, detail: str = "",
                        now: datetime | None = None) -> CommunityTask:
    """A department gives a committee a task; without an in-force matter cited it is flagged 未准入."""
    _department_of(actor, department)
    if not sel.is_community_committee(community):
        raise DomainError("services.task.not_community", _("只能向社区（村）居委会交办任务。"), field="community")
    if not sel.department_reaches(department, community):
        raise DomainError("services.task.outside", _("该社区不在本部门辖区内。"), field="community", status=403)
    title = clean_text(title, field="title", max_length=200)
    if not title:
        raise DomainError("services.task.title_required", _("请填写任务名称。"), field="title")
    detail = clean_text(detail, field="detail", max_length=4000, multiline=True)
    now = _now(now)
    if due_on is None or due_on < timezone.localdate(now):
        raise DomainError("services.task.bad_due", _("完成期限不能早于今天。"), field="due_on")
    if item is not None:
        item = sel.item_current(item)
    admitted = sel.item_in_force(item)
    task = CommunityTask.objects.create(department=department, community=community, title=title, detail=detail,
                                        due_on=due_on, item=item, admitted=admitted, created_by=actor,
                                        created_at=now)
    audit_log(task, "services.task.sent", actor=actor,
              new={"department": department.pk, "community": community.pk, "title": title,
                   "due_on": due_on.isoformat(), "item": item.code if item else None, "admitted": admitted})
    return task


def _lock_for_community(task: CommunityTask, actor) -> CommunityTask:
    task = CommunityTask.objects.select_for_update().get(pk=task.pk)
    if not sel.community_units(actor).filter(pk=task.community_id).exists():
        raise DomainError("services.task.not_community_worker", _("您不是该社区的社区工作者。"), status=403)
    if task.state != CommunityTaskState.SENT:
        raise DomainError("services.task.decided", _("该任务已处理。"), status=409)
    return task


def _decide(task: CommunityTask, state: str, *, actor, reason: str, now: datetime | None, action: str):
    task.state, task.reason, task.decided_by, task.decided_at = state, reason, actor, _now(now)
    task.save(update_fields=["state", "reason", "decided_by", "decided_at"])
    audit_log(task, action, actor=actor, old={"state": CommunityTaskState.SENT}, new={"state": state},
              reason=reason, data={"admitted": task.admitted})
    return task


@transaction.atomic
def community_task_accept(task: CommunityTask, *, actor, now: datetime | None = None) -> CommunityTask:
    """The committee takes the task on (an unadmitted one too, if it chooses)."""
    task = _lock_for_community(task, actor)
    return _decide(task, CommunityTaskState.ACCEPTED, actor=actor, reason="", now=now,
                   action="services.task.accepted")


@transaction.atomic
def community_task_refuse(task: CommunityTask, *, actor, reason: str, now: datetime | None = None) -> CommunityTask:
    """拒绝未准入事项: only a task that cites no in-force matter may be refused on that ground."""
    task = _lock_for_community(task, actor)
    if task.admitted:
        raise DomainError("services.task.admitted", _("该任务依据已准入事项，不能以“未准入”为由拒绝；如有困难请退回并说明理由。"),
                          status=409)
    reason = clean_text(reason, field="reason", max_length=255)
    if not reason:
        raise DomainError("services.task.reason_required", _("请填写拒绝理由。"), field="reason")
    return _decide(task, CommunityTaskState.REFUSED, actor=actor, reason=reason, now=now,
                   action="services.task.refused")


@transaction.atomic
def community_task_return(task: CommunityTask, *, actor, reason: str, now: datetime | None = None) -> CommunityTask:
    """退回 an admitted task with a reason (counted apart from 未准入 refusals)."""
    task = _lock_for_community(task, actor)
    if not task.admitted:
        raise DomainError("services.task.not_admitted", _("未准入的任务请直接拒绝。"), status=409)
    reason = clean_text(reason, field="reason", max_length=255)
    if not reason:
        raise DomainError("services.task.reason_required", _("请填写退回理由。"), field="reason")
    return _decide(task, CommunityTaskState.RETURNED, actor=actor, reason=reason, now=now,
                   action="services.task.returned")


# -- 减负 registers ---------------------------------------------------------------------------------

@transaction.atomic
def burden_item_cut(entry: BurdenItem, *, actor, on: date | None = None, reason: str = "") -> BurdenItem:
    """Record that a form, responsibility letter or plaque is no longer demanded of communities."""
    _require_admin(actor)
    entry = BurdenItem.objects.select_for_update().get(pk=entry.pk)
    if entry.status == BurdenStatus.CUT:
        raise DomainError("services.burden.already_cut", _("该项已取消。"), status=409)
    entry.status, entry.cut_on = BurdenStatus.CUT, on or timezone.localdate()
    entry.save(update_fields=["status", "cut_on"])
    audit_log(entry, "services.burden.cut", actor=actor, old={"status": BurdenStatus.KEPT},
              new={"status": BurdenStatus.CUT, "cut_on": entry.cut_on.isoformat()}, reason=reason)
    return entry


# -- demo -----------------------------------------------------------------------------------------

@transaction.atomic
def admission_demo_seed(*, actor=None, path: Path = DATA_FILE) -> dict:
    """Load the shipped lists (old 35/175 as a superseded record, 15/76 in force) and 减负 registers; idempotent."""
    data = json.loads(path.read_text(encoding="utf-8"))
    created = {"lists": 0, "items": 0, "burden": 0}
    in_force_version = None
    for spec in data["lists"]:
        if AdmissionList.objects.filter(version=spec["version"]).exists():
            continue
        lst = AdmissionList.objects.create(
            version=spec["version"], title=spec["title"], status=spec["status"],
            published_on=date.fromisoformat(spec["published_on"]) if spec.get("published_on") else None,
            superseded_on=date.fromisoformat(spec["superseded_on"]) if spec.get("superseded_on") else None,
            declared_categories=spec.get("declared_categories"), declared_items=spec.get("declared_items"),
            source_note=data["source"])
        audit_log(lst, "services.admission.list_loaded", actor=actor, new=_list_snapshot(lst))
        created["lists"] += 1
        if spec["status"] == AdmissionListStatus.IN_FORCE:
            in_force_version = lst
    if in_force_version is not None:
        items = [AdmissionItem(admission_list=in_force_version, code=i["code"], category=i["category"],
                               name=i["name"], legal_basis=i["legal_basis"],
                               lead_department_name=i["lead_department"], funding=i["funding"])
                 for i in data["items"]]
        AdmissionItem.objects.bulk_create(items)
        created["items"] = len(items)
    if not BurdenItem.objects.exists():
        rows = [BurdenItem(kind=b["kind"], name=b["name"], department_name=b["department"], status=b["status"],
                           cut_on=date.fromisoformat(b["cut_on"]) if b["cut_on"] else None, note=b["note"])
                for b in data["burden"]]
        BurdenItem.objects.bulk_create(rows)
        created["burden"] = len(rows)
    return created
