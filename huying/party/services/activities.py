"""Joint activities (四个一): theme Party day, Party lecture, organisational-life meeting, visit of help
and condolence — planned jointly by a community and its units, with attendance and minutes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.people.models import Unit
from huying.territory.models import Division, Level

from .. import access
from ..models import ActivityStatus, ActivityType, Attendance, AttendanceStatus, JointActivity, Member
from .common import forbid, now_or


@transaction.atomic
def joint_activity_plan(
    *,
    community: Division,
    activity_type: str,
    title: str,
    planned_at,
    planners: Iterable[Unit],
    actor,
    place: str = "",
    pairing=None,
) -> JointActivity:
    """Plan a joint activity; the community's 大党委 and at least one resident unit plan it together.

    The community itself, or the secretary of a planning unit, may plan it.
    """
    if community.level != Level.COMMUNITY:
        raise DomainError("party.activity.not_community", _("联合活动在社区举行。"), field="community")
    if activity_type not in ActivityType.values:
        raise DomainError("party.activity.bad_type", _("活动类型无效。"), field="activity_type")
    title = (title or "").strip()
    if not title or len(title) > 120:
        raise DomainError("party.activity.title", _("请填写主题（不超过 120 字）。"), field="title")
    planners = list({u.pk: u for u in planners}.values())
    community_unit = Unit.objects.filter(code=f"party-{community.code}").first()
    if community_unit is not None and community_unit.pk not in {u.pk for u in planners}:
        planners.insert(0, community_unit)
    others = [u for u in planners if community_unit is None or u.pk != community_unit.pk]
    if not others:
        raise DomainError("party.activity.no_partner", _("联合活动需要至少一个共同组织的单位。"), field="planners")
    if not access.can_act_for_territory(actor, community.code):
        managed = access.managed_unit_ids(actor)
        if not any(u.pk in managed for u in planners):
            forbid(_("只有社区或共同组织单位的书记可以安排联合活动。"))
    activity = JointActivity.objects.create(activity_type=activity_type, title=title, community=community,
                                            planned_at=planned_at, place=(place or "").strip()[:120],
                                            pairing=pairing, created_by=actor)
    activity.planners.set(planners)
    audit_log(activity, "party.activity.planned", actor=actor, new={
        "type": activity_type, "title": title, "community": community.code,
        "planned_at": planned_at.isoformat(), "planners": [u.code for u in planners]})
    return activity


def _require_organiser(actor, activity: JointActivity) -> None:
    if access.can_act_for_territory(actor, activity.community.code):
        return
    managed = access.managed_unit_ids(actor)
    if not activity.planners.filter(pk__in=managed).exists():
        forbid(_("只有社区或共同组织单位的书记可以登记活动。"))


@transaction.atomic
def joint_activity_record(
    activity: JointActivity,
    *,
    attendance: Mapping[Member, str],
    minutes: str,
    actor,
    held_at=None,
    now=None,
) -> JointActivity:
    """Record that the activity was held: who attended (出席/请假/缺席) and the minutes (会议记录)."""
    now = now_or(now)
    activity = JointActivity.objects.select_for_update(of=("self",)).select_related("community").get(pk=activity.pk)
    _require_organiser(actor, activity)
    if activity.status == ActivityStatus.CANCELLED:
        raise DomainError("party.activity.cancelled", _("该活动已取消。"), status=409)
    minutes = (minutes or "").strip()
    if not minutes:
        raise DomainError("party.activity.minutes_required", _("请填写会议记录。"), field="minutes")
    held_at = held_at or now
    if held_at > now:
        raise DomainError("party.activity.future", _("活动举行时间不能晚于现在。"), field="held_at")
    for status in attendance.values():
        if status not in AttendanceStatus.values:
            raise DomainError("party.activity.bad_attendance", _("出席情况无效。"), field="attendance")
    existing = {a.member_id: a for a in Attendance.objects.filter(activity=activity)}
    new, changed = [], []
    for member, status in attendance.items():
        row = existing.get(member.pk)
        if row is None:
            new.append(Attendance(activity=activity, member=member, status=status))
        elif row.status != status:
            row.status = status
            changed.append(row)
    Attendance.objects.bulk_create(new)
    Attendance.objects.bulk_update(changed, ["status"])
    old = {"status": activity.status}
    activity.status, activity.minutes, activity.held_at = ActivityStatus.HELD, minutes, held_at
    activity.save(update_fields=["status", "minutes", "held_at"])
    counts = {s: sum(1 for v in attendance.values() if v == s) for s in AttendanceStatus.values}
    audit_log(activity, "party.activity.held", actor=actor, old=old,
              new={"status": activity.status, "held_at": held_at.isoformat(), "attendance": counts})
    return activity


@transaction.atomic
def joint_activity_cancel(activity: JointActivity, *, actor, reason: str) -> JointActivity:
    activity = JointActivity.objects.select_for_update(of=("self",)).select_related("community").get(pk=activity.pk)
    _require_organiser(actor, activity)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("party.reason_required", _("请填写原因。"), field="reason")
    if activity.status != ActivityStatus.PLANNED:
        raise DomainError("party.activity.not_planned", _("只能取消尚未举行的活动。"), status=409)
    activity.status = ActivityStatus.CANCELLED
    activity.save(update_fields=["status"])
    audit_log(activity, "party.activity.cancelled", actor=actor, old={"status": ActivityStatus.PLANNED},
              new={"status": activity.status}, reason=reason)
    return activity
