"""The member registry: register a User as a Party member, move house, change status."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.people.masking import mask_address
from huying.people.models import Membership, RoleCode, User
from huying.people.services import membership_grant

from .. import access
from ..models import Member, MemberReport, MemberStatus, PartyOrganisation, ReportStatus
from .common import locate, require_org_manager


def _member_dict(m: Member) -> dict:
    # The audit log is read more widely than the record: the address goes in masked.
    return {"user": m.user.username, "organisation": m.organisation.unit.code,
            "joined_on": m.joined_on.isoformat() if m.joined_on else None, "in_service": m.in_service,
            "home_address": mask_address(m.home_address),
            "home_community": m.home_community.code if m.home_community_id else None,
            "home_grid": m.home_grid.code if m.home_grid_id else None, "status": m.status}


def _place_home(member: Member, address: str) -> None:
    where = locate(address)
    if where.outside:
        raise DomainError("party.member.home_outside", _("居住地址不在本市范围内，无法到社区报到。"),
                          field="home_address")
    member.home_address = address
    member.home_community = where.community
    member.home_grid = where.grid


@transaction.atomic
def member_register(
    user: User,
    *,
    organisation: PartyOrganisation,
    actor,
    joined_on: date | None = None,
    home_address: str = "",
    in_service: bool = True,
) -> Member:
    """Register `user` as a member of `organisation`; the home community is found from the address."""
    require_org_manager(actor, organisation)
    if Member.objects.filter(user=user).exists():
        raise DomainError("party.member.exists", _("%(user)s 已登记为党员。") % {"user": user}, field="user", status=409)
    member = Member(user=user, organisation=organisation, joined_on=joined_on, in_service=bool(in_service))
    _place_home(member, (home_address or "").strip())
    member.save()
    if not Membership.objects.filter(user=user, unit=organisation.unit, role__code=RoleCode.PARTY_MEMBER,
                                     active=True).exists():
        membership_grant(user, unit=organisation.unit, role_code=RoleCode.PARTY_MEMBER, actor=actor,
                         reason=_("党员登记"))
    access.forget(user)
    audit_log(member, "party.member.registered", actor=actor, new=_member_dict(member))
    return member


@transaction.atomic
def member_move_home(member: Member, *, home_address: str, actor) -> Member:
    """A member moves house: re-locate; an open report to the old community ends."""
    member = Member.objects.select_for_update(of=("self",)).select_related("organisation__unit", "user").get(pk=member.pk)
    if getattr(actor, "pk", None) != member.user_id:
        require_org_manager(actor, member.organisation)
    old = _member_dict(member)
    _place_home(member, (home_address or "").strip())
    member.save(update_fields=["home_address", "home_community", "home_grid"])
    ended = MemberReport.objects.filter(member=member, status__in=[ReportStatus.PENDING, ReportStatus.CONFIRMED]
                                        ).exclude(community=member.home_community)
    ended_ids = list(ended.values_list("pk", flat=True))
    # decided_at keeps the confirmation date: the history says when they had reported
    ended.update(status=ReportStatus.ENDED, note=_("迁居"))
    audit_log(member, "party.member.moved", actor=actor, old=old, new=_member_dict(member),
              data={"reports_ended": ended_ids})
    return member


@transaction.atomic
def member_set_status(member: Member, *, status: str, actor, reason: str) -> Member:
    """Exempt a frail member from rating (免评), transfer out, or back to normal."""
    if status not in MemberStatus.values:
        raise DomainError("party.member.bad_status", _("党员状态无效。"), field="status")
    if not (reason or "").strip():
        raise DomainError("party.reason_required", _("请填写原因。"), field="reason")
    member = Member.objects.select_for_update(of=("self",)).select_related("organisation__unit", "user").get(pk=member.pk)
    require_org_manager(actor, member.organisation)
    old = member.status
    member.status = status
    member.save(update_fields=["status"])
    audit_log(member, "party.member.status_changed", actor=actor, old={"status": old}, new={"status": status},
              reason=reason.strip())
    return member
