"""Helpers shared by the Party services."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core.errors import DomainError
from huying.territory.models import Building, Division, Grid, Level

from .. import access


def now_or(now):
    return now if now is not None else timezone.now()


def forbid(message=None, code: str = "party.forbidden"):
    raise DomainError(code, message or _("您没有权限进行此操作。"), status=403)


def require_org_manager(actor, organisation) -> None:
    if not access.can_manage_org(actor, organisation):
        forbid(_("只有本组织（或上级党组织）书记可以进行此操作。"))


def open_work_order(*, key: str, title: str, description: str, subject, actor, now, request_type=None,
                    urgency=None, address: str = "", lng=None, lat=None, reporter_name: str = "",
                    reporter_phone: str = ""):
    """Hand a Party record to dispatch as a work order (工单), in the caller's transaction.

    The one path co-building problems, studio visits and leaders' contact-point visits share.
    Idempotent through dispatch's key: a retry returns the same order; a refusal by dispatch (no
    location, unknown subject …) is raised unchanged, so the caller stores nothing.
    """
    from huying.dispatch.services import work_order_create

    return work_order_create(
        channel="other", subject=subject, request_type=request_type, urgency=urgency, title=title[:120],
        description=description, idempotency_key=key, lng=lng, lat=lat, address=address,
        reporter_name=reporter_name, reporter_phone=reporter_phone, actor=actor, now=now)


def require_territory(actor, division: Division) -> None:
    if not access.can_act_for_territory(actor, division.code):
        forbid(_("只有%(name)s的书记或负责人可以进行此操作。") % {"name": division.name})


@dataclass(frozen=True)
class Located:
    """Where an address lies, as far as the locator can tell."""

    found: bool = False
    outside: bool = False
    community: Division | None = None
    street: Division | None = None
    grid: Grid | None = None
    building: Building | None = None

    @property
    def deepest(self) -> Division | None:
        return self.community or self.street


def locate(address: str) -> Located:
    """Place an address on the territory through the locator (never guessing)."""
    from huying.territory import locator

    address = (address or "").strip()
    if not address:
        return Located()
    match = locator.locate_address(address)
    if match.outside:
        return Located(outside=True)
    if not match.found or match.location is None:
        return Located()
    loc = match.location
    codes = [p.code for p in (loc.community, loc.street) if p is not None]
    divisions = {d.code: d for d in Division.objects.filter(code__in=codes)} if codes else {}
    grid = Grid.objects.filter(pk=loc.grid_id).first() if loc.grid_id else None
    building = Building.objects.filter(address=address, grid=grid).first() if grid else None
    community = divisions.get(loc.community.code) if loc.community else None
    street = divisions.get(loc.street.code) if loc.street else None
    return Located(found=True, community=community, street=street, grid=grid, building=building)


def street_of(division: Division | None) -> Division | None:
    """The street/town a division lies in (itself when it is one)."""
    d = division
    while d is not None and d.level not in (Level.STREET,):
        if d.level in (Level.CITY, Level.DISTRICT):
            return None
        d = d.parent
    return d
