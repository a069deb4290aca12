"""Deliberation halls (议事厅): a matter through a meeting and a vote (quorum met or not), one vote
per household, a resolution done when its tasks are, scope across communities, and a matter
handed to dispatch as a work order."""

import pytest

from huying.community import halls
from huying.community import selectors_halls as sel
from huying.community.models import Ballot, MatterStatus, RaiserKind
from huying.core.audit import audit_trail
from huying.core.errors import DomainError

from . import halls_setup
from .halls_setup import at

hc = halls_setup.hc  # the shared fixture

pytestmark = pytest.mark.django_db


def test_matter_meeting_vote_passed_with_quorum(hc):
    u, hall = hc.user, hc.hall
    m = halls.matter_raise(hall, title="加装电梯\u200b", body="联系 13912345678", actor=u.cat, now=at(2024, 3, 1, 9))
    assert (m.title, m.raiser_kind, m.raiser_phone) == ("加装电梯", RaiserKind.RESIDENT, u.cat.phone)
    # the raiser's phone and phones in the text are masked beyond the convener unit
    row = sel.matter_rows(hall, viewer=u.amy)[0]
    assert row["phone"] != u.cat.phone and "****" in row["phone"] and "13912345678" not in row["body"]
    assert sel.matter_rows(hall, viewer=u.convener)[0]["phone"] == u.cat.phone
    meeting = halls.meeting_schedule(hall, title="三月议事会", starts_at=at(2024, 3, 5, 19), matters=[m],
                                     actor=u.convener)
    m.refresh_from_db()
    assert m.status == MatterStatus.SCHEDULED
    assert halls.meeting_attendance(meeting, users=[u.amy, u.cat], households=["大塘街3号"], actor=u.convener) == 3
    halls.meeting_minutes(meeting, minutes="讨论加装电梯方案", actor=u.convener)
    v = halls.vote_open(m, question="是否同意加装电梯", meeting=meeting, actor=u.convener, now=at(2024, 3, 5, 20))
    halls.ballot_cast(v, choice="yes", actor=u.amy)
    halls.ballot_cast(v, choice="yes", actor=u.cat)
    v = halls.vote_close(v, actor=u.convener, now=at(2024, 3, 5, 21))
    # 3 households on the roll, 2 voted (≥ 50 %), 2 yes of 2
    assert (v.eligible, v.counted, v.yes, v.quorum_met, v.passed, v.is_open) == (3, 2, 2, True, True, False)
    assert audit_trail(v).last().new["passed"] is True
    with pytest.raises(DomainError) as e:
        halls.ballot_cast(v, choice="no", actor=u.dan)
    assert e.value.code == "community.vote.closed"


def test_vote_without_quorum_fails(hc):
    u = hc.user
    m = halls.matter_raise(hc.hall, title="改造小广场", actor=u.convener)
    assert m.raiser_kind == RaiserKind.UNIT and m.raiser_unit == hc.unit.lsj
    v = halls.vote_open(m, question="是否改造", actor=u.convener)
    halls.ballot_cast(v, choice="yes", actor=u.dan)  # 1 of 3 households < 50 %
    v = halls.vote_close(v, actor=u.convener)
    assert (v.counted, v.yes, v.quorum_met, v.passed) == (1, 1, False, False)
    m.refresh_from_db()
    assert m.status == MatterStatus.REJECTED
    with pytest.raises(DomainError) as e:
        halls.resolution_adopt(m, text="改造", vote=v, actor=u.convener)
    assert e.value.code == "community.resolution.not_passed"


def test_one_vote_per_household_and_per_person(hc):
    u, hall = hc.user, hc.hall
    m = halls.matter_raise(hall, title="楼道堆物清理", actor=u.amy)
    v = halls.vote_open(m, question="是否清理", actor=u.convener)
    halls.ballot_cast(v, choice="no", actor=u.amy)
    with pytest.raises(DomainError) as e:  # ben lives with amy: their household has voted
        halls.ballot_cast(v, choice="yes", actor=u.ben)
    assert e.value.code == "community.vote.household_cast"
    with pytest.raises(DomainError) as e:
        halls.ballot_cast(v, choice="yes", actor=u.amy)
    assert e.value.code == "community.vote.already_cast"
    halls.ballot_cast(v, choice="yes", actor=u.cat)
    # even a ballot slipped in past the service counts once for its household
    Ballot.objects.create(vote=v, voter=u.ben, household="文德路12号301", choice="yes", cast_at=at(2099, 1, 1, 9))
    r = halls.tally(v)
    assert (r["eligible"], r["counted"], r["yes"], r["no"]) == (3, 2, 1, 1)
    assert r["passed"] is False  # a tie is not a majority
    # per person: the same ballots count each person
    halls.hall_rules_set(hall, quorum_share="0.6", pass_share="0.5", secret=True, per_household=False,
                         actor=u.convener)
    v2 = halls.vote_open(halls.matter_raise(hall, title="议题二", actor=u.amy), question="q", actor=u.convener)
    assert (v2.per_household, v2.secret, str(v2.quorum_share)) == (False, True, "0.600")
    for name in ("amy", "ben", "cat"):
        halls.ballot_cast(v2, choice="yes", actor=getattr(u, name))
    v2 = halls.vote_close(v2, actor=u.convener)
    assert (v2.eligible, v2.counted, v2.quorum_met, v2.passed) == (4, 3, True, True)
    assert audit_trail(v2).filter(action="community.vote.cast").first().data == {}  # secret: no choice kept


def test_resolution_done_when_its_tasks_are_done(hc):
    u = hc.user
    m = halls.matter_raise(hc.hall, title="加装电梯", actor=u.amy)
    v = halls.vote_open(m, question="是否加装", actor=u.convener)
    for name in ("amy", "cat", "dan"):
        halls.ballot_cast(v, choice="yes", actor=getattr(u, name))
    v = halls.vote_close(v, actor=u.convener)
    res = halls.resolution_adopt(m, text="启动加装电梯", vote=v, actor=u.convener, tasks=[
        {"title": "征集业主意见", "owner_unit": hc.unit.lsj}, {"title": "报建", "owner_name": "吴芳"}])
    t1, t2 = res.tasks.order_by("pk")
    halls.task_progress(t1, progress=100, actor=u.convener, now=at(2024, 4, 1, 9))
    res.refresh_from_db()
    assert not res.done
    halls.task_progress(t2, progress=50, actor=u.convener)
    with pytest.raises(DomainError):
        halls.task_progress(t2, progress=40, actor=u.convener)
    halls.task_progress(t2, progress=100, actor=u.convener, now=at(2024, 5, 1, 9))
    res.refresh_from_db()
    assert res.done and res.done_at == at(2024, 5, 1, 9)
    m.refresh_from_db()
    assert m.status == MatterStatus.RESOLVED


def test_scope_across_communities(hc):
    u, hall = hc.user, hc.hall
    m = halls.matter_raise(hall, title="议题", actor=u.amy)
    v = halls.vote_open(m, question="q", actor=u.convener)
    with pytest.raises(DomainError) as e:  # a resident of 龙藏 cannot vote in 流水井
        halls.ballot_cast(v, choice="yes", actor=u.outsider)
    assert e.value.status == 403
    with pytest.raises(DomainError) as e:
        halls.matter_raise(hall, title="x", actor=u.outsider)
    assert e.value.status == 403
    for call in (lambda: halls.vote_close(v, actor=u.lc_convener),
                 lambda: halls.vote_open(m, question="q", actor=u.lc_convener),
                 lambda: halls.meeting_schedule(hall, title="x", starts_at=at(2024, 1, 1, 9), actor=u.lc_convener),
                 lambda: halls.dispute_open(hall, title="x", parties="张三", actor=u.lc_convener),
                 lambda: halls.voter_add(hall, user=u.outsider, household="x", actor=u.lc_convener),
                 lambda: halls.vote_close(v, actor=u.amy)):
        with pytest.raises(DomainError) as e:
            call()
        assert e.value.status == 403
    with pytest.raises(DomainError) as e:  # only the community's own residents go on its roll
        halls.voter_add(hall, user=u.outsider, household="x", actor=u.convener)
    assert e.value.code == "community.hall.not_resident"
    assert list(sel.halls_managed(u.lc_convener)) == [hc.lc_hall]
    assert sel.my_hall(u.outsider) == hc.lc_hall and not sel.may_view(u.outsider, hall)


def test_dispute_mediated_with_parties_masked(hc):
    u = hc.user
    d = halls.dispute_open(hc.hall, title="楼上漏水", parties="张三丰、李四", description="电话 13912345678",
                           actor=u.convener)
    d = halls.dispute_close(d, settled=True, outcome="张三丰承担维修费用", actor=u.convener)
    assert d.status == "settled"
    row = sel.dispute_rows(hc.hall, viewer=u.amy)[0]
    assert row["parties"] == "张**、李*"
    assert sel.dispute_rows(hc.hall, viewer=u.convener)[0]["parties"] == "张三丰、李四"
    # The dashboard tile counts it: settled of those closed in the last year, in the hall's territory.
    from django.utils import timezone

    from huying.community.selectors_halls import disputes_tile

    other = halls.dispute_open(hc.hall, title="噪音", parties="王五", actor=u.convener)
    halls.dispute_close(other, settled=False, outcome="未达成一致", actor=u.convener)
    now = timezone.now()
    assert disputes_tile(prefix=hc.hall.division.code, now=now).value == "1 / 2"
    assert disputes_tile(prefix="", now=now).value == "1 / 2"
    assert disputes_tile(prefix="440199", now=now) is None


def test_matter_becomes_a_work_order(hc):
    from huying.dispatch.models import WorkOrder
    from huying.dispatch.seed import dispatch_seed

    dispatch_seed()
    u = hc.user
    m = halls.matter_raise(hc.hall, title="路灯不亮", body="文德路12号门口路灯坏了", actor=u.amy)
    with pytest.raises(DomainError) as e:
        halls.matter_to_work_order(m, subject="E0102", lng=113.271, lat=23.126, actor=u.lc_convener)
    assert e.value.status == 403
    with pytest.raises(DomainError) as e:  # dispatch's refusal comes through; nothing stored
        halls.matter_to_work_order(m, subject="NOPE", lng=113.271, lat=23.126, actor=u.convener)
    assert e.value.code == "dispatch.unknown_subject"
    m = halls.matter_to_work_order(m, subject="E0102", lng=113.271, lat=23.126, actor=u.convener,
                                   now=at(2024, 3, 1, 10))
    order = WorkOrder.objects.get()
    assert (m.status, m.work_order_id, m.work_order_code) == (MatterStatus.WORK_ORDER, order.pk, order.code)
    assert order.grid.code == "440104003001001" and "流水井" in order.description
    with pytest.raises(DomainError) as e:
        halls.matter_to_work_order(m, subject="E0102", actor=u.convener)
    assert e.value.status == 409
