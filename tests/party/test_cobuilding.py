"""Co-building (1+X+N): pairings, agreements and commitments with progress, and a problem that
becomes a work order through dispatch's own intake service."""

from datetime import date

import pytest

from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.party import selectors
from huying.party import services as s
from huying.party.models import CommitmentStatus, CommitmentUpdate, PairingKind, PartnerTier, ProblemStatus

from .conftest import at


@pytest.fixture
def pairing(city):
    """The metro leads a pairing in 北京街道 with the hospital (X) and a small firm (N)."""
    from huying.party.models import OrgType

    u = city.user
    firm = s.organisation_create(code="party-firm", name="某科技公司党支部", org_type=OrgType.PRIVATE_ENTERPRISE,
                                 address="越秀区流水井社区文德路20号", actor=u.root)
    city.person("firm_secretary", firm.unit, "party_secretary", "小微企业书记")
    p = s.pairing_create(name="地铁结对共建", lead=city.org["metro"].unit, division=city.div["440104003"],
                         started_on=date(2024, 1, 1), actor=u.metro_secretary, now=at(2024, 1, 1, 9))
    s.pairing_partner_add(p, unit=city.org["hospital"].unit, joined_on=date(2024, 1, 1), actor=u.metro_secretary)
    s.pairing_partner_add(p, unit=firm.unit, tier=PartnerTier.N, joined_on=date(2024, 1, 1), actor=u.bj_secretary)
    p.firm = firm
    return p


def test_pairing_agreement_commitments_and_progress(city, pairing):
    u = city.user
    with pytest.raises(DomainError) as e:  # only the lead, the joint committee or the territory manage it
        s.pairing_partner_add(pairing, unit=city.org["alliance"].unit, joined_on=date(2024, 1, 1),
                              actor=u.hosp_secretary)
    assert e.value.status == 403
    with pytest.raises(DomainError) as e:
        s.agreement_sign(pairing, title="共建协议", signed_on=date(2024, 1, 5), actor=u.metro_secretary,
                         commitments=[{"unit": city.org["alliance"].unit, "description": "x"}])
    assert e.value.code == "party.cobuilding.not_party"
    ag = s.agreement_sign(pairing, title="2024 年共建协议", signed_on=date(2024, 1, 5), actor=u.metro_secretary,
                          shared_venues=["地铁站党群服务站", " ", "医院健康驿站"],
                          commitments=[{"unit": city.org["metro"].unit, "description": "开放站内党员活动室"},
                                       {"unit": city.org["hospital"].unit, "description": "每月义诊一次",
                                        "due_on": date(2024, 12, 31)}])
    assert ag.shared_venues == ["地铁站党群服务站", "医院健康驿站"]
    hosp = ag.commitments.get(unit=city.org["hospital"].unit)
    # the committing unit reports its own progress; history is appended
    s.commitment_progress(hosp, progress=50, note="已义诊 6 次", actor=u.hosp_secretary, now=at(2024, 6, 30, 9))
    with pytest.raises(DomainError) as e:
        s.commitment_progress(hosp, progress=40, actor=u.hosp_secretary, now=at(2024, 7, 1, 9))
    assert e.value.code == "party.cobuilding.progress_back"
    with pytest.raises(DomainError) as e:
        s.commitment_progress(hosp, progress=60, actor=u.lsj_secretary, now=at(2024, 7, 1, 9))
    assert e.value.status == 403
    hosp = s.commitment_progress(hosp, progress=100, note="全年完成", actor=u.hosp_secretary, now=at(2024, 12, 20, 9))
    assert hosp.status == CommitmentStatus.DONE
    assert list(CommitmentUpdate.objects.filter(commitment=hosp).values_list("progress", "status")) == [
        (50, "in_progress"), (100, "done")]
    with pytest.raises(DomainError) as e:
        s.commitment_progress(hosp, progress=100, actor=u.hosp_secretary)
    assert e.value.status == 409
    progress = selectors.pairing_progress(pairing)
    assert progress == {"partners": 2, "agreements": 1, "commitments": 2, "commitments_done": 1, "progress": 50,
                        "activities": 0, "problems_open": 0, "problems_solved": 0, "problems_to_orders": 0}
    # who sees the pairing
    assert list(selectors.pairing_list(actor=u.firm_secretary)) == [pairing]
    assert list(selectors.pairing_list(actor=u.bj_secretary)) == [pairing]
    assert list(selectors.pairing_list(actor=u.jnh_secretary)) == []


def test_alliance_needs_its_joint_committee(city):
    u = city.user
    with pytest.raises(DomainError) as e:
        s.pairing_create(name="轨道交通联盟", kind=PairingKind.ALLIANCE, lead=city.org["metro"].unit,
                         started_on=date(2024, 1, 1), actor=u.root)
    assert e.value.code == "party.cobuilding.committee_required"
    alliance = s.pairing_create(name="轨道交通联盟", kind=PairingKind.ALLIANCE, lead=city.org["metro"].unit,
                                joint_committee=city.org["alliance"], started_on=date(2024, 1, 1),
                                actor=u.rail_secretary)
    assert list(selectors.pairing_list(actor=u.rail_secretary)) == [alliance]


def test_problem_solved_together(city, pairing):
    u = city.user
    p = s.problem_raise(pairing, title="员工午餐难", actor=u.firm_secretary, now=at(2024, 3, 1, 9))
    with pytest.raises(DomainError):
        s.problem_raise(pairing, title="x", actor=u.jnh_secretary)
    p = s.problem_solve(p, resolution="地铁食堂向园区企业开放", actor=u.metro_secretary, now=at(2024, 3, 9, 9))
    assert p.status == ProblemStatus.SOLVED
    with pytest.raises(DomainError) as e:
        s.problem_solve(p, resolution="again", actor=u.metro_secretary)
    assert e.value.status == 409


def test_problem_becomes_a_work_order(city, pairing):
    from huying.dispatch.models import WorkOrder
    from huying.dispatch.seed import dispatch_seed

    dispatch_seed()
    u = city.user
    p = s.problem_raise(pairing, title="地铁口占道堆放杂物", description="B 出口旁长期堆放纸箱",
                        address="越秀区流水井社区文德路", lng=113.271, lat=23.126, actor=u.firm_secretary,
                        now=at(2024, 3, 1, 9))
    with pytest.raises(DomainError) as e:  # a partner raises it; the lead (or territory) hands it over
        s.problem_to_work_order(p, subject="E0102", actor=u.firm_secretary, now=at(2024, 3, 1, 10))
    assert e.value.status == 403
    with pytest.raises(DomainError) as e:  # dispatch's refusal comes through unchanged; nothing stored
        s.problem_to_work_order(p, subject="NOPE", actor=u.metro_secretary, now=at(2024, 3, 1, 10))
    assert e.value.code == "dispatch.unknown_subject"
    p.refresh_from_db()
    assert p.status == ProblemStatus.OPEN and WorkOrder.objects.count() == 0
    p = s.problem_to_work_order(p, subject="E0102", actor=u.metro_secretary, now=at(2024, 3, 1, 10))
    order = WorkOrder.objects.get()
    assert (p.status, p.work_order_id, p.work_order_code) == (ProblemStatus.WORK_ORDER, order.pk, order.code)
    assert order.title == "地铁口占道堆放杂物" and "地铁结对共建" in order.description
    assert order.grid.code == "440104003001001" and order.channel == "other"
    assert audit_trail(p).last().new == {"status": "work_order", "work_order": order.code}
    with pytest.raises(DomainError) as e:
        s.problem_to_work_order(p, subject="E0102", actor=u.metro_secretary)
    assert e.value.status == 409
    assert selectors.pairing_progress(pairing)["problems_to_orders"] == 1
