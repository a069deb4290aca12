"""Party organisations: the tree that mirrors the territory, unit organisations, joint bodies."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.people.models import Unit, UnitKind
from huying.people.services import unit_create
from huying.territory.models import UNIFIED_LAYER, Building, Division, Grid, Level

from .. import access
from ..models import JOINT_TYPES, TERRITORIAL_TYPES, JointBodyMember, OrgType, PartyOrganisation
from .common import forbid, locate, require_org_manager, street_of

# The level each territorial organisation mirrors.
_TERRITORY_LEVEL = {OrgType.STREET_COMMITTEE: Level.STREET, OrgType.COMMUNITY_COMMITTEE: Level.COMMUNITY}


def party_unit_code(territory_code: str) -> str:
    """The unit code of the territorial Party organisation of a Division or Grid (as the demo uses)."""
    return f"party-{territory_code}"


def _org_dict(org: PartyOrganisation) -> dict:
    return {"unit": org.unit.code, "org_type": org.org_type, "size": org.size, "address": org.address,
            "division": org.division.code if org.division_id else None,
            "grid": org.grid.code if org.grid_id else None,
            "street": org.street.code if org.street_id else None}


def _territory_for(org_type: str, *, division, grid, building) -> tuple[Division | None, Grid | None]:
    """The territory a territorial organisation covers; refuses a mismatch of type and level."""
    if org_type in _TERRITORY_LEVEL:
        if division is None or division.level != _TERRITORY_LEVEL[org_type]:
            raise DomainError("party.org.bad_territory",
                              _("街道大党工委对应街道，社区大党委对应社区：请选择相应的区划。"), field="division")
        return division, None
    if org_type == OrgType.GRID_BRANCH:
        if grid is None or grid.layer != UNIFIED_LAYER:
            raise DomainError("party.org.grid_required", _("网格党支部需要选择一个网格。"), field="grid")
        return grid.community, grid
    if building is None:
        raise DomainError("party.org.building_required", _("楼栋党小组需要选择一个楼栋。"), field="building")
    return building.grid.community, building.grid


@transaction.atomic
def organisation_create(
    *,
    code: str,
    name: str,
    org_type: str,
    actor,
    parent: Unit | None = None,
    size: int = 0,
    address: str = "",
    division: Division | None = None,
    grid: Grid | None = None,
    building: Building | None = None,
    rule_set=None,
) -> PartyOrganisation:
    """Create a Party organisation: its Unit (kind party) and its Party profile.

    Territorial organisations cover the Division / Grid they mirror; unit organisations (firms,
    schools …) cover no territory and are located from their address instead.
    """
    if org_type not in OrgType.values:
        raise DomainError("party.org.bad_type", _("党组织类型无效。"), field="org_type")
    if parent is not None:
        parent_org = getattr(parent, "party_org", None) if parent.kind == UnitKind.PARTY else None
        if not (access.is_admin(actor) or (parent_org is not None and access.can_manage_org(actor, parent_org))):
            forbid(_("只有上级党组织书记或管理员可以建立党组织。"))
    elif not access.is_admin(actor):
        forbid(_("只有管理员可以建立没有上级的党组织。"))
    if size is None or int(size) < 0:
        raise DomainError("party.org.bad_size", _("党员规模不能为负数。"), field="size")
    address = (address or "").strip()
    street = None
    if org_type in TERRITORIAL_TYPES:
        unit_division, unit_grid = _territory_for(org_type, division=division, grid=grid, building=building)
        if (org_type != OrgType.BUILDING_GROUP and PartyOrganisation.objects.filter(
                org_type=org_type, unit__division=unit_division, unit__grid=unit_grid).exists()):
            raise DomainError("party.org.territory_taken", _("该区划（网格）已有同类党组织。"), field="division",
                              status=409)
        division, grid = unit_division, unit_grid
        street = street_of(division)
    else:
        unit_division = unit_grid = None
        if address and division is None and grid is None:
            where = locate(address)
            if where.outside:
                raise DomainError("party.org.outside", _("该地址不在本市范围内。"), field="address")
            division, grid, building = where.deepest, where.grid, where.building
        if grid is not None and division is None:
            division = grid.community
        street = street_of(division)
    unit = unit_create(code=code, name=name, kind=UnitKind.PARTY, parent=parent, division=unit_division,
                       grid=unit_grid, actor=actor)
    org = PartyOrganisation.objects.create(unit=unit, org_type=org_type, size=int(size), address=address,
                                           division=division, grid=grid, building=building, street=street,
                                           rule_set=rule_set)
    audit_log(org, "party.organisation.created", actor=actor, new=_org_dict(org))
    return org


@transaction.atomic
def organisations_mirror_territory(root: Division, *, actor, grids: bool = True) -> dict[str, int]:
    """Give every street, community (and unified grid) under `root` its territorial organisation.

    Street 大党工委 → community 大党委 → grid Party branch, each the parent of the next. Idempotent:
    an existing Party unit with the conventional code (the demo's street 党工委) is adopted.
    """
    if not access.is_admin(actor):
        forbid(_("只有管理员可以按区划批量建立党组织。"))
    sub = root.subtree_q("code")
    counts = {"street": 0, "community": 0, "grid": 0, "adopted": 0}
    units = {u.code: u for u in Unit.objects.filter(code__startswith="party-").select_related("division")}
    profiled = set(PartyOrganisation.objects.values_list("unit_id", flat=True))

    def ensure(code, name, org_type, parent, division, grid, street, key):
        unit = units.get(code)
        if unit is None:
            unit = Unit.objects.create(code=code, name=name[:120], kind=UnitKind.PARTY, parent=parent,
                                       division=division, grid=grid)
            units[code] = unit
            counts[key] += 1
        if unit.pk not in profiled:
            if unit.kind != UnitKind.PARTY:
                raise DomainError("party.org.code_clash", _("单位编码 %(code)s 已被非党组织单位使用。") % {"code": code},
                                  status=409)
            PartyOrganisation.objects.create(unit=unit, org_type=org_type, division=division, grid=grid,
                                             street=street)
            profiled.add(unit.pk)
            if code in adopted_candidates:
                counts["adopted"] += 1
        return unit

    adopted_candidates = set(units)
    streets = {}
    for s in Division.objects.filter(sub, level=Level.STREET).select_related("parent").order_by("code"):
        kind = _("党工委") if s.kind != "镇" else _("党委")
        streets[s.pk] = ensure(party_unit_code(s.code), f"中共{s.name}{kind}", OrgType.STREET_COMMITTEE, None, s,
                               None, s, "street")
    communities = {}
    for c in Division.objects.filter(sub, level=Level.COMMUNITY).select_related("parent").order_by("code"):
        short = c.short_name or c.name
        communities[c.pk] = ensure(party_unit_code(c.code), f"中共{short}委员会", OrgType.COMMUNITY_COMMITTEE,
                                   streets.get(c.parent_id), c, None, c.parent, "community")
    if grids:
        for g in (Grid.objects.filter(layer=UNIFIED_LAYER).filter(root.subtree_q("code"))
                  .select_related("community__parent").order_by("code")):
            ensure(party_unit_code(g.code), f"{g.name}党支部", OrgType.GRID_BRANCH, communities.get(g.community_id),
                   g.community, g, g.community.parent, "grid")
    audit_log(root, "party.organisation.mirrored", actor=actor, data=counts)
    return counts


@transaction.atomic
def joint_body_member_add(body: PartyOrganisation, *, unit: Unit, actor, joined_on: date,
                          position: str = "") -> JointBodyMember:
    """Add a member unit to a joint body (a community 大党委's resident unit, an alliance's firm)."""
    require_org_manager(actor, body)
    if body.org_type not in JOINT_TYPES:
        raise DomainError("party.joint.not_joint", _("只有大党委、大党工委和行业联合党委可以吸收成员单位。"), field="body")
    if unit.pk == body.unit_id:
        raise DomainError("party.joint.self", _("不能把本组织列为自己的成员单位。"), field="unit")
    row = JointBodyMember.objects.select_for_update(of=("self",)).filter(body=body, unit=unit).first()
    if row is not None and row.active:
        raise DomainError("party.joint.exists", _("%(unit)s 已是成员单位。") % {"unit": unit}, field="unit", status=409)
    if row is None:
        row = JointBodyMember.objects.create(body=body, unit=unit, position=(position or "").strip(),
                                             joined_on=joined_on)
    else:
        row.active, row.joined_on, row.position = True, joined_on, (position or "").strip()
        row.save(update_fields=["active", "joined_on", "position"])
    audit_log(body, "party.joint.member_added", actor=actor,
              new={"unit": unit.code, "position": row.position, "joined_on": joined_on.isoformat()})
    return row


@transaction.atomic
def joint_body_member_remove(row: JointBodyMember, *, actor, reason: str) -> JointBodyMember:
    require_org_manager(actor, row.body)
    if not (reason or "").strip():
        raise DomainError("party.reason_required", _("请填写原因。"), field="reason")
    row = JointBodyMember.objects.select_for_update(of=("self",)).select_related("body", "unit").get(pk=row.pk)
    if not row.active:
        raise DomainError("party.joint.already_removed", _("该成员单位已退出。"), status=409)
    row.active = False
    row.save(update_fields=["active"])
    audit_log(row.body, "party.joint.member_removed", actor=actor, old={"unit": row.unit.code}, reason=reason.strip())
    return row
