"""Joint activities (四个一): planned jointly, held with attendance and minutes."""

import pytest

from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.party import selectors
from huying.party import services as s
from huying.party.models import ActivityStatus, ActivityType, Attendance, AttendanceStatus

from .conftest import at


def test_plan_hold_and_record(city, members):
    u, o, comm = city.user, city.org, city.div["440104003001"]
    act = s.joint_activity_plan(community=comm, activity_type=ActivityType.THEME_DAY, title="七一主题党日",
                                planned_at=at(2024, 7, 1, 9), planners=[o["metro"].unit], place="社区党群服务中心",
                                actor=u.metro_secretary)
    # the community's 大党委 always plans with its units
    assert set(act.planners.values_list("code", flat=True)) == {"party-440104003001", "party-metro"}
    assert act.status == ActivityStatus.PLANNED
    with pytest.raises(DomainError) as e:
        s.joint_activity_record(act, attendance={}, minutes="", actor=u.lsj_secretary, now=at(2024, 7, 1, 12))
    assert e.value.code == "party.activity.minutes_required"
    with pytest.raises(DomainError) as e:
        s.joint_activity_record(act, attendance={}, minutes="x", held_at=at(2024, 7, 2, 9), actor=u.lsj_secretary,
                                now=at(2024, 7, 1, 12))
    assert e.value.code == "party.activity.future"
    with pytest.raises(DomainError) as e:  # neither the community nor a planner
        s.joint_activity_record(act, attendance={}, minutes="x", actor=u.hosp_secretary, now=at(2024, 7, 1, 12))
    assert e.value.status == 403
    att = {members.alice: AttendanceStatus.PRESENT, members.bob: AttendanceStatus.PRESENT,
           members.dave: AttendanceStatus.ABSENT, members.carol: AttendanceStatus.EXCUSED}
    act = s.joint_activity_record(act, attendance=att, minutes="重温入党誓词；学习党章。", held_at=at(2024, 7, 1, 9),
                                  actor=u.metro_secretary, now=at(2024, 7, 1, 12))
    assert act.status == ActivityStatus.HELD and act.minutes.startswith("重温")
    assert dict(Attendance.objects.filter(activity=act).values_list("member__user__username", "status")) == {
        "alice": "present", "bob": "present", "dave": "absent", "carol": "excused"}
    # a correction re-records one person; nobody is duplicated
    s.joint_activity_record(act, attendance={members.dave: AttendanceStatus.EXCUSED}, minutes=act.minutes,
                            held_at=act.held_at, actor=u.lsj_secretary, now=at(2024, 7, 2, 9))
    assert Attendance.objects.filter(activity=act).count() == 4
    assert Attendance.objects.get(activity=act, member=members.dave).status == "excused"
    trail = list(audit_trail(act))
    assert [a.action for a in trail] == ["party.activity.planned", "party.activity.held", "party.activity.held"]
    assert trail[1].new["attendance"] == {"present": 2, "excused": 1, "absent": 1}
    with pytest.raises(DomainError) as e:
        s.joint_activity_cancel(act, actor=u.lsj_secretary, reason="下雨")
    assert e.value.status == 409
    # who sees it: the community, the planners, the attendees — not another community
    assert list(selectors.activity_list(actor=u.lsj_secretary)) == [act]
    assert list(selectors.activity_list(actor=u.metro_secretary)) == [act]
    assert list(selectors.activity_list(actor=members.carol.user)) == [act]
    assert list(selectors.activity_list(actor=u.lc_secretary)) == []


def test_plan_needs_a_partner_unit_and_a_right_to_plan(city):
    u, comm = city.user, city.div["440104003001"]
    with pytest.raises(DomainError) as e:
        s.joint_activity_plan(community=comm, activity_type=ActivityType.LECTURE, title="党课", planners=[],
                              planned_at=at(2024, 5, 1, 9), actor=u.lsj_secretary)
    assert e.value.code == "party.activity.no_partner"
    with pytest.raises(DomainError) as e:
        s.joint_activity_plan(community=comm, activity_type="party", title="x", planners=[city.org["metro"].unit],
                              planned_at=at(2024, 5, 1, 9), actor=u.lsj_secretary)
    assert e.value.code == "party.activity.bad_type"
    with pytest.raises(DomainError) as e:
        s.joint_activity_plan(community=comm, activity_type=ActivityType.VISIT, title="走访困难党员",
                              planners=[city.org["metro"].unit], planned_at=at(2024, 5, 1, 9), actor=u.operator)
    assert e.value.status == 403
    act = s.joint_activity_plan(community=comm, activity_type=ActivityType.ORG_LIFE, title="组织生活会",
                                planners=[city.org["hospital"].unit], planned_at=at(2024, 5, 1, 9),
                                actor=u.lsj_secretary)
    act = s.joint_activity_cancel(act, actor=u.hosp_secretary, reason="改期")
    assert act.status == ActivityStatus.CANCELLED
