"""Co-building (1+X+N, 红色引领、联动共建): a leading organisation with partners, written agreements
with commitments and shared venues, progress tracked, problems solved together — or handed to
dispatch as a work order through `dispatch.services.work_order_create`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.people.models import Unit
from huying.territory.models import Division

from .. import access
from ..models import (
    CoBuildingAgreement,
    CoBuildingPairing,
    CoBuildingPartner,
    CoBuildingProblem,
    Commitment,
    CommitmentStatus,
    CommitmentUpdate,
    OrgType,
    PairingKind,
    PartnerTier,
    PartyOrganisation,
    ProblemStatus,
)
from .common import forbid, now_or, open_work_order


def _may_manage(actor, pairing: CoBuildingPairing) -> bool:
    if access.is_admin(actor):
        return True
    managed = access.managed_unit_ids(actor)
    if pairing.lead_id in managed:
        return True
    if pairing.joint_committee_id and pairing.joint_committee.unit_id in managed:
        return True
    return pairing.division_id is not None and access.can_act_for_territory(actor, pairing.division.code)


def _require_manager(actor, pairing: CoBuildingPairing) -> None:
    if not _may_manage(actor, pairing):
        forbid(_("只有牵头单位书记、联合党委或所在区划负责人可以进行此操作。"))


def _text(value: str, field: str, message: str, limit: int = 120) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit:
        raise DomainError("party.cobuilding.required", message, field=field)
    return value


@transaction.atomic
def pairing_create(
    *,
    name: str,
    lead: Unit,
    started_on: date,
    actor,
    kind: str = PairingKind.PAIRING,
    joint_committee: PartyOrganisation | None = None,
    division: Division | None = None,
    now=None,
) -> CoBuildingPairing:
    """Start a co-building: the leading unit ("1"); partners ("X", "N") are added after."""
    now = now_or(now)
    name = _text(name, "name", _("请填写共建项目名称（不超过 120 字）。"))
    if kind not in PairingKind.values:
        raise DomainError("party.cobuilding.bad_kind", _("共建类别无效。"), field="kind")
    if kind == PairingKind.ALLIANCE and (joint_committee is None
                                         or joint_committee.org_type != OrgType.INDUSTRY_COMMITTEE):
        raise DomainError("party.cobuilding.committee_required", _("行业联盟需要指定其行业联合党委。"),
                          field="joint_committee")
    pairing = CoBuildingPairing(name=name, kind=kind, lead=lead, joint_committee=joint_committee, division=division,
                                started_on=started_on, created_at=now)
    _require_manager(actor, pairing)
    pairing.save()
    audit_log(pairing, "party.cobuilding.created", actor=actor, new={
        "name": name, "kind": kind, "lead": lead.code, "division": division.code if division else None,
        "joint_committee": joint_committee.unit.code if joint_committee else None})
    return pairing


@transaction.atomic
def pairing_partner_add(pairing: CoBuildingPairing, *, unit: Unit, actor, joined_on: date,
                        tier: str = PartnerTier.X) -> CoBuildingPartner:
    _require_manager(actor, pairing)
    if tier not in PartnerTier.values:
        raise DomainError("party.cobuilding.bad_tier", _("共建层次无效。"), field="tier")
    if unit.pk == pairing.lead_id:
        raise DomainError("party.cobuilding.lead_is_partner", _("牵头单位不需要再列为共建单位。"), field="unit")
    if CoBuildingPartner.objects.filter(pairing=pairing, unit=unit).exists():
        raise DomainError("party.cobuilding.partner_exists", _("该单位已在共建项目中。"), field="unit", status=409)
    partner = CoBuildingPartner.objects.create(pairing=pairing, unit=unit, tier=tier, joined_on=joined_on)
    audit_log(pairing, "party.cobuilding.partner_added", actor=actor, new={"unit": unit.code, "tier": tier})
    return partner


@transaction.atomic
def agreement_sign(
    pairing: CoBuildingPairing,
    *,
    title: str,
    signed_on: date,
    actor,
    text: str = "",
    shared_venues: Iterable[str] = (),
    commitments: Iterable[Mapping] = (),
) -> CoBuildingAgreement:
    """Record a written agreement with its shared venues and each party's commitments.

    `commitments`: [{"unit": Unit, "description": str, "due_on": date | None}]; every committing
    unit must be the lead or a partner.
    """
    _require_manager(actor, pairing)
    title = _text(title, "title", _("请填写协议标题（不超过 120 字）。"))
    parties = {pairing.lead_id} | set(pairing.partners.values_list("unit_id", flat=True))
    venues = [v.strip() for v in shared_venues if (v or "").strip()]
    agreement = CoBuildingAgreement.objects.create(pairing=pairing, title=title, text=(text or "").strip(),
                                                   shared_venues=venues, signed_on=signed_on, created_by=actor)
    made = []
    for c in commitments:
        unit = c["unit"]
        if unit.pk not in parties:
            raise DomainError("party.cobuilding.not_party", _("%(unit)s 不是本共建项目的单位。") % {"unit": unit},
                              field="commitments")
        made.append(Commitment(agreement=agreement, unit=unit, due_on=c.get("due_on"),
                               description=_text(c.get("description"), "commitments",
                                                 _("请填写承诺事项（不超过 255 字）。"), 255)))
    Commitment.objects.bulk_create(made)
    audit_log(agreement, "party.cobuilding.agreement_signed", actor=actor, new={
        "pairing": pairing.pk, "title": title, "signed_on": signed_on.isoformat(), "venues": venues,
        "commitments": [{"unit": c.unit.code, "description": c.description} for c in made]})
    return agreement


@transaction.atomic
def commitment_progress(commitment: Commitment, *, progress: int, actor, note: str = "", status: str | None = None,
                        now=None) -> Commitment:
    """Report progress on a commitment (appended to its history); 100% means done."""
    now = now_or(now)
    commitment = Commitment.objects.select_for_update(of=("self",)).select_related("agreement__pairing").get(pk=commitment.pk)
    pairing = commitment.agreement.pairing
    if not (_may_manage(actor, pairing) or commitment.unit_id in access.managed_unit_ids(actor)):
        forbid(_("只有承诺单位或牵头单位可以填报进展。"))
    if commitment.status in (CommitmentStatus.DONE, CommitmentStatus.DROPPED):
        raise DomainError("party.cobuilding.commitment_closed", _("该承诺已完成或已终止。"), status=409)
    try:
        progress = int(progress)
    except (TypeError, ValueError):
        raise DomainError("party.cobuilding.bad_progress", _("进度应为 0–100 的整数。"), field="progress") from None
    if not 0 <= progress <= 100:
        raise DomainError("party.cobuilding.bad_progress", _("进度应为 0–100 的整数。"), field="progress")
    if progress < commitment.progress and status != CommitmentStatus.DROPPED:
        raise DomainError("party.cobuilding.progress_back", _("进度不能倒退；如需终止请选择“已终止”。"),
                          field="progress")
    if status is None:
        status = CommitmentStatus.DONE if progress == 100 else (
            CommitmentStatus.IN_PROGRESS if progress > 0 else CommitmentStatus.OPEN)
    elif status not in CommitmentStatus.values:
        raise DomainError("party.cobuilding.bad_status", _("承诺状态无效。"), field="status")
    if status == CommitmentStatus.DROPPED and not (note or "").strip():
        raise DomainError("party.reason_required", _("终止承诺请说明原因。"), field="note")
    old = {"progress": commitment.progress, "status": commitment.status}
    commitment.progress, commitment.status = progress, status
    commitment.save(update_fields=["progress", "status"])
    CommitmentUpdate.objects.create(commitment=commitment, progress=progress, status=status,
                                    note=(note or "").strip()[:255], at=now, by=actor)
    audit_log(commitment, "party.cobuilding.progress", actor=actor, old=old,
              new={"progress": progress, "status": status}, reason=(note or "").strip())
    return commitment


def _require_party(actor, pairing: CoBuildingPairing) -> None:
    if _may_manage(actor, pairing):
        return
    managed = access.managed_unit_ids(actor)
    if not pairing.partners.filter(unit_id__in=managed).exists():
        forbid(_("只有共建单位可以提出问题。"))


@transaction.atomic
def problem_raise(pairing: CoBuildingPairing, *, title: str, actor, description: str = "", address: str = "",
                  lng: float | None = None, lat: float | None = None, now=None) -> CoBuildingProblem:
    """A party to the co-building raises a problem to solve together."""
    now = now_or(now)
    _require_party(actor, pairing)
    title = _text(title, "title", _("请填写问题（不超过 120 字）。"))
    problem = CoBuildingProblem.objects.create(pairing=pairing, title=title, description=(description or "").strip(),
                                               address=(address or "").strip()[:255], lng=lng, lat=lat,
                                               raised_at=now, raised_by=actor)
    audit_log(problem, "party.cobuilding.problem_raised", actor=actor, new={"pairing": pairing.pk, "title": title})
    return problem


@transaction.atomic
def problem_solve(problem: CoBuildingProblem, *, resolution: str, actor, now=None) -> CoBuildingProblem:
    """The parties solved the problem themselves (共商共治)."""
    now = now_or(now)
    problem = CoBuildingProblem.objects.select_for_update(of=("self",)).select_related("pairing").get(pk=problem.pk)
    _require_manager(actor, problem.pairing)
    if problem.status != ProblemStatus.OPEN:
        raise DomainError("party.cobuilding.problem_closed", _("该问题已处理。"), status=409)
    resolution = _text(resolution, "resolution", _("请填写解决情况。"), 2000)
    problem.status, problem.resolution, problem.closed_at = ProblemStatus.SOLVED, resolution, now
    problem.save(update_fields=["status", "resolution", "closed_at"])
    audit_log(problem, "party.cobuilding.problem_solved", actor=actor, old={"status": ProblemStatus.OPEN},
              new={"status": problem.status})
    return problem


@transaction.atomic
def problem_to_work_order(problem: CoBuildingProblem, *, subject, actor, request_type=None, urgency=None,
                          now=None) -> CoBuildingProblem:
    """Hand a co-building problem to dispatch as a work order (工单), in this same transaction.

    Idempotent through dispatch's key: a retry returns the same order. A refusal by dispatch (no
    location, outside the city …) is raised unchanged and nothing is stored.
    """
    now = now_or(now)
    problem = CoBuildingProblem.objects.select_for_update(of=("self",)).select_related("pairing").get(pk=problem.pk)
    _require_manager(actor, problem.pairing)
    if problem.status != ProblemStatus.OPEN:
        raise DomainError("party.cobuilding.problem_closed", _("该问题已处理。"), status=409)
    description = problem.description or problem.title
    order = open_work_order(
        subject=subject, request_type=request_type, urgency=urgency,
        title=problem.title, description=_("【共建问题·%(pairing)s】%(text)s") % {
            "pairing": problem.pairing.name, "text": description},
        key=f"party-cobuilding-problem-{problem.pk}", lng=problem.lng, lat=problem.lat,
        address=problem.address, actor=actor, now=now)
    problem.status, problem.closed_at = ProblemStatus.WORK_ORDER, now
    problem.work_order_id, problem.work_order_code = order.pk, order.code
    problem.save(update_fields=["status", "closed_at", "work_order_id", "work_order_code"])
    audit_log(problem, "party.cobuilding.problem_to_order", actor=actor, old={"status": ProblemStatus.OPEN},
              new={"status": problem.status, "work_order": order.code})
    return problem
