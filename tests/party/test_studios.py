"""Representatives' studios (党代表工作室): five-level representatives on a community studio's roster,
a resident's visit recorded by the one on duty, answered there or turned into a work order through
dispatch's own intake service; visitors' names and phones masked outside the studio's territory."""

from datetime import date, timedelta

import pytest

from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.party import studio_selectors as sel
from huying.party.models import RepresentativeLevel, StudioDuty, StudioVisit, VisitStatus
from huying.party.services import studios as st

from .conftest import at


@pytest.fixture
def studio(city):
    u = city.user
    city.person("rep_wang", name="王代表")
    city.person("rep_li", name="李代表")
    wang = st.representative_register(u.rep_wang, level=RepresentativeLevel.DISTRICT, term="第十二次",
                                      actor=u.bj_secretary, now=at(2024, 1, 2, 9))
    li = st.representative_register(u.rep_li, level=RepresentativeLevel.CITY, actor=u.root, now=at(2024, 1, 2, 9))
    s = st.studio_create(community=city.div["440104003001"], name="流水井社区党代表工作室", address="文德路12号",
                         opened_on=date(2024, 1, 1), actor=u.lsj_secretary)
    duty = st.studio_duty_schedule(s, representative=wang, starts_at=at(2024, 3, 5, 9), ends_at=at(2024, 3, 5, 12),
                                   actor=u.lsj_secretary)
    s.wang, s.li, s.duty = wang, li, duty
    return s


def test_representatives_are_registered_by_the_street_or_above(city):
    u = city.user
    city.person("rep_zhao")
    with pytest.raises(DomainError) as e:  # a community secretary keeps the roster, not the register
        st.representative_register(u.rep_zhao, level=RepresentativeLevel.STREET, actor=u.lsj_secretary)
    assert e.value.status == 403
    with pytest.raises(DomainError) as e:
        st.representative_register(u.rep_zhao, level="village", actor=u.bj_secretary)
    assert e.value.field == "level"
    rep = st.representative_register(u.rep_zhao, level=RepresentativeLevel.STREET, actor=u.bj_secretary)
    with pytest.raises(DomainError) as e:
        st.representative_register(u.rep_zhao, level=RepresentativeLevel.STREET, actor=u.bj_secretary)
    assert e.value.status == 409
    # the same person may sit at several levels (a district representative is often a city one too)
    st.representative_register(u.rep_zhao, level=RepresentativeLevel.DISTRICT, actor=u.root)
    with pytest.raises(DomainError):
        st.representative_retire(rep, actor=u.bj_secretary, reason=" ")
    st.representative_retire(rep, actor=u.bj_secretary, reason="任期届满")
    assert [r.level for r in sel.representative_list(search="rep_zhao")] == ["district"]
    assert audit_trail(rep).last().action == "party.representative.retired"


def test_studio_and_roster(city, studio):
    u = city.user
    assert studio.host == city.org["party-440104003001"]
    with pytest.raises(DomainError) as e:
        st.studio_create(community=city.div["440104003001"], name="x", opened_on=date(2024, 1, 1),
                         actor=u.lc_secretary)
    assert e.value.status == 403
    with pytest.raises(DomainError) as e:
        st.studio_create(community=city.div["440104003"], name="x", opened_on=date(2024, 1, 1), actor=u.bj_secretary)
    assert e.value.field == "community"
    other = st.studio_create(community=city.div["440104003002"], name="龙藏工作室", opened_on=date(2024, 1, 1),
                             actor=u.lc_secretary)
    # one person, one place at a time, across studios
    with pytest.raises(DomainError) as e:
        st.studio_duty_schedule(other, representative=studio.wang, starts_at=at(2024, 3, 5, 11),
                                ends_at=at(2024, 3, 5, 14), actor=u.lc_secretary)
    assert (e.value.code, e.value.status) == ("party.studio.duty_overlap", 409)
    with pytest.raises(DomainError) as e:
        st.studio_duty_schedule(other, representative=studio.li, starts_at=at(2024, 3, 5, 11),
                                ends_at=at(2024, 3, 5, 10), actor=u.lc_secretary)
    assert e.value.field == "ends_at"
    with pytest.raises(DomainError) as e:  # another community's roster
        st.studio_duty_schedule(studio, representative=studio.li, starts_at=at(2024, 3, 6, 9),
                                ends_at=at(2024, 3, 6, 11), actor=u.lc_secretary)
    assert e.value.status == 403
    back_to_back = st.studio_duty_schedule(other, representative=studio.wang, starts_at=at(2024, 3, 5, 12),
                                           ends_at=at(2024, 3, 5, 14), actor=u.lc_secretary)
    with pytest.raises(DomainError):
        st.studio_duty_cancel(back_to_back, actor=u.lc_secretary, reason="")
    st.studio_duty_cancel(back_to_back, actor=u.lc_secretary, reason="临时会议")
    week = (at(2024, 3, 4, 0), at(2024, 3, 11, 0))
    assert list(sel.studio_roster(other, start=week[0], end=week[1])) == []
    assert list(sel.studio_roster(other, start=week[0], end=week[1], include_cancelled=True)) == [back_to_back]
    assert list(sel.studio_roster(studio, start=week[0], end=week[1])) == [studio.duty]
    assert [s.name for s in sel.studio_list(actor=u.resident, community=city.div["440104003"])] == [
        "流水井社区党代表工作室", "龙藏工作室"]
    assert StudioDuty.objects.filter(cancelled=True).get().cancel_reason == "临时会议"


def test_visit_recorded_by_the_representative_on_duty(city, studio):
    u = city.user
    during = at(2024, 3, 5, 10)
    v = st.studio_visit_record(studio, topic="楼道灯坏了", content="3 栋 2 楼楼道灯不亮", visitor_name="赵大妈",
                               visitor_phone="13812345678", actor=u.rep_wang, now=during)
    assert (v.representative, v.duty, v.status) == (studio.wang, studio.duty, VisitStatus.OPEN)
    with pytest.raises(DomainError) as e:  # not on duty now
        st.studio_visit_record(studio, topic="x", actor=u.rep_li, now=during)
    assert e.value.status == 403
    with pytest.raises(DomainError) as e:
        st.studio_visit_record(studio, topic="x", actor=u.rep_wang, now=at(2024, 3, 5, 13))
    assert e.value.status == 403
    with pytest.raises(DomainError) as e:
        st.studio_visit_record(studio, topic="  ", actor=u.rep_wang, now=during)
    assert e.value.field == "topic"
    # the community's staff record a walk-in outside any turn: no representative on it
    walk_in = st.studio_visit_record(studio, topic="咨询报到", actor=u.lsj_director, now=at(2024, 3, 6, 15))
    assert walk_in.representative is None and walk_in.duty is None
    assert "赵大妈" not in str(audit_trail(v).get().new)

    # who sees the visit, and how
    def seen(actor):
        return [(r.topic, r.visitor_name, r.visitor_phone) for r in sel.studio_visits(actor=actor)]

    assert seen(u.rep_wang) == [("楼道灯坏了", "赵大妈", "13812345678")]
    assert seen(u.lsj_secretary)[1] == ("楼道灯坏了", "赵大妈", "13812345678")
    assert seen(u.bj_secretary)[1] == ("楼道灯坏了", "赵大妈", "13812345678")  # the street above
    assert seen(u.lc_secretary) == [] and seen(u.rep_li) == [] and seen(u.resident) == []

    v = st.studio_visit_reply(v, reply="已联系物业当天修复", actor=u.rep_wang, now=at(2024, 3, 5, 11))
    assert (v.status, v.closed_at) == (VisitStatus.ANSWERED, at(2024, 3, 5, 11))
    with pytest.raises(DomainError) as e:
        st.studio_visit_reply(v, reply="again", actor=u.rep_wang)
    assert e.value.status == 409


def test_visit_becomes_a_work_order(city, studio):
    from huying.dispatch.models import WorkOrder
    from huying.dispatch.seed import dispatch_seed

    dispatch_seed()
    u = city.user
    v = st.studio_visit_record(studio, topic="文德路人行道破损", content="路面砖松动，老人易摔倒", visitor_name="钱伯",
                               visitor_phone="13900002222", address="越秀区流水井社区文德路", lng=113.271,
                               lat=23.126, actor=u.rep_wang, now=at(2024, 3, 5, 10))
    with pytest.raises(DomainError) as e:  # another community's secretary
        st.studio_visit_to_work_order(v, subject="E0102", actor=u.lc_secretary, now=at(2024, 3, 5, 11))
    assert e.value.status == 403
    with pytest.raises(DomainError) as e:  # dispatch's refusal comes through unchanged; nothing stored
        st.studio_visit_to_work_order(v, subject="NOPE", actor=u.rep_wang, now=at(2024, 3, 5, 11))
    assert e.value.code == "dispatch.unknown_subject"
    v.refresh_from_db()
    assert v.status == VisitStatus.OPEN and WorkOrder.objects.count() == 0
    v = st.studio_visit_to_work_order(v, subject="E0102", actor=u.rep_wang, now=at(2024, 3, 5, 11))
    order = WorkOrder.objects.get()
    assert (v.status, v.work_order_id, v.work_order_code) == (VisitStatus.WORK_ORDER, order.pk, order.code)
    assert order.title == "文德路人行道破损" and "流水井社区党代表工作室" in order.description
    assert (order.reporter_name, order.reporter_phone) == ("钱伯", "13900002222")
    assert order.grid.code == "440104003001001" and order.channel == "other"
    assert audit_trail(v).last().new == {"status": "work_order", "work_order": order.code}
    with pytest.raises(DomainError) as e:
        st.studio_visit_to_work_order(v, subject="E0102", actor=u.rep_wang)
    assert e.value.status == 409
    assert StudioVisit.objects.get().work_order_code == order.code
    assert sel.visit_get(v.pk, actor=u.lc_secretary) is None
    assert sel.visit_get(v.pk, actor=u.lsj_secretary).pk == v.pk
    assert timedelta(0) <= order.created_at - at(2024, 3, 5, 11) < timedelta(seconds=1)
