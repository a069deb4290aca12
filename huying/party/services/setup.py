"""Set-up by the people who run it: a secretary's sub-organisations (created one by one or imported
from Excel/CSV), their secretaries, and new versions of the star-rating rule sets.

Scope: a secretary manages their own organisation and those below it (`access.can_manage_org`); an
administrator manages all. A secretary may give a territorial sub-organisation only a territory
inside their own organisation's territory, because a territorial unit's territory is what its
secretaries may then see (`access.staff_territory_codes`): otherwise a secretary could widen their
own view by founding a branch elsewhere.

The organisation import shares the member import's machinery (`imports.read_rows`, `refuse_rows`):
every row is checked, then every row is created through `suborganisation_create` inside one
transaction, each in a savepoint; any bad row refuses the whole file, naming each bad row.
"""

from __future__ import annotations

import re
import uuid

from django.db import transaction
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.people.models import Membership, RoleCode, Unit, User
from huying.people.services import membership_grant, membership_revoke
from huying.territory.models import UNIFIED_LAYER, Building, Division, Grid

from .. import access
from ..models import TERRITORIAL_TYPES, OrgType, PartyOrganisation, StarRating, StarRuleSet
from ..rating import Rules
from .common import forbid, require_org_manager, street_of
from .imports import _cell_text, filename_of, read_rows, refuse_rows, table_of, template_bytes
from .organisations import _org_dict, organisation_create, party_unit_code
from .rating import _rule_set_dict, star_rule_set_create

NAME_MAX = Unit._meta.get_field("name").max_length
CODE_MAX = Unit._meta.get_field("code").max_length
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


# -- sub-organisations -----------------------------------------------------------------------------
def _territory_code(org_type: str, *, division=None, grid=None, building=None) -> str | None:
    """The code of the territory a territorial organisation of this type would cover."""
    if org_type in (OrgType.STREET_COMMITTEE, OrgType.COMMUNITY_COMMITTEE):
        return division.code if division is not None else None
    if org_type == OrgType.GRID_BRANCH:
        return grid.code if grid is not None else None
    if org_type == OrgType.BUILDING_GROUP:
        return building.grid.code if building is not None else None
    return None


def _require_inside(parent: PartyOrganisation, actor, territory: str | None) -> None:
    """A secretary founds territorial organisations only inside their organisation's territory."""
    if access.is_admin(actor) or territory is None:
        return
    own = parent.unit.territory_code
    if own is None or not territory.startswith(own):
        raise DomainError("party.setup.outside", _("所选区划（网格）不在%(org)s的辖区内。") % {"org": parent},
                          field="division", status=403)


def _auto_code(org_type: str, *, division=None, grid=None, building=None) -> str:
    """The conventional code of a territorial organisation (as the mirror gives it), else a fresh one."""
    territory = _territory_code(org_type, division=division, grid=grid, building=building)
    if territory and org_type != OrgType.BUILDING_GROUP:
        return party_unit_code(territory)
    return f"party-{uuid.uuid4().hex[:12]}"


def _clean_name(name: str) -> str:
    name = clean_text(name or "", field="name", max_length=NAME_MAX).strip()
    if not name:
        raise DomainError("party.setup.name_required", _("请填写党组织名称。"), field="name")
    return name


@transaction.atomic
def suborganisation_create(
    parent: PartyOrganisation,
    *,
    actor,
    name: str,
    org_type: str,
    code: str = "",
    division: Division | None = None,
    grid: Grid | None = None,
    building: Building | None = None,
    address: str = "",
    size: int = 0,
    secretary: User | None = None,
) -> PartyOrganisation:
    """A secretary founds an organisation below their own (下级党组织), optionally naming its secretary."""
    require_org_manager(actor, parent)
    name = _clean_name(name)
    if org_type not in OrgType.values:
        raise DomainError("party.org.bad_type", _("党组织类型无效。"), field="org_type")
    _require_inside(parent, actor, _territory_code(org_type, division=division, grid=grid, building=building))
    code = (code or "").strip() or _auto_code(org_type, division=division, grid=grid, building=building)
    if not _CODE.match(code) or len(code) > CODE_MAX:
        raise DomainError("party.setup.bad_code", _("组织代码只能包含字母、数字和 - _ .，不超过 %(n)s 个字符。")
                          % {"n": CODE_MAX}, field="code")
    org = organisation_create(code=code, name=name, org_type=org_type, actor=actor, parent=parent.unit,
                              size=size, address=clean_text(address or "", field="address", max_length=255),
                              division=division, grid=grid, building=building)
    if secretary is not None:
        organisation_secretary_set(org, user=secretary, actor=actor)
    return org


def _is_below(unit_id: int, root_id: int) -> bool:
    """Whether `unit_id` is `root_id` or lies below it."""
    seen = set()
    current = unit_id
    while current is not None and current not in seen:
        if current == root_id:
            return True
        seen.add(current)
        current = Unit.objects.filter(pk=current).values_list("parent_id", flat=True).first()
    return False


@transaction.atomic
def organisation_update(
    org: PartyOrganisation,
    *,
    actor,
    name: str,
    size: int,
    address: str = "",
    org_type: str | None = None,
    parent: PartyOrganisation | None = None,
    division: Division | None = None,
) -> PartyOrganisation:
    """Edit an organisation: name, size, address; its parent (moved only between organisations the
    actor manages); for a unit organisation its type and the division it sits in. A territorial
    organisation keeps its type and territory: it mirrors the territory, whose secretaries it scopes."""
    org = PartyOrganisation.objects.select_for_update(of=("self",)).select_related(
        "unit__parent", "unit__division", "unit__grid", "division").get(pk=org.pk)
    require_org_manager(actor, org)
    unit = Unit.objects.select_for_update().get(pk=org.unit_id)
    old = {**_org_dict(org), "name": unit.name, "parent": unit.parent.code if unit.parent_id else None}
    name = _clean_name(name)
    if size is None or int(size) < 0:
        raise DomainError("party.org.bad_size", _("党员规模不能为负数。"), field="size")
    org_type = org_type or org.org_type
    if org_type not in OrgType.values:
        raise DomainError("party.org.bad_type", _("党组织类型无效。"), field="org_type")
    if org_type != org.org_type and (org.is_territorial or org_type in TERRITORIAL_TYPES):
        raise DomainError("party.setup.type_fixed",
                          _("区域党组织（大党工委、大党委、网格党支部、楼栋党小组）与区划对应，类型不能更改。"),
                          field="org_type")
    if parent is not None and parent.unit_id != unit.parent_id:
        if not access.is_admin(actor):
            current = getattr(unit.parent, "party_org", None) if unit.parent_id else None
            if current is None or not access.can_manage_org(actor, current):
                forbid(_("只有上级党组织书记或管理员可以调整本组织的上级。"))
            require_org_manager(actor, parent)
        if _is_below(parent.unit_id, unit.pk):
            raise DomainError("party.setup.cycle", _("不能把本组织放到它自己或其下级组织之下。"), field="parent")
        unit.parent = parent.unit
    if not org.is_territorial and division != org.division:
        org.division = division
        org.grid = org.grid if (division is not None and org.grid_id
                                and org.grid.code.startswith(division.code)) else None
        org.street = street_of(division)
    unit.name = name
    unit.save(update_fields=["name", "parent"])
    org.org_type, org.size = org_type, int(size)
    org.address = clean_text(address or "", field="address", max_length=255)
    org.save(update_fields=["org_type", "size", "address", "division", "grid", "street"])
    org.unit = unit
    new = {**_org_dict(org), "name": unit.name, "parent": unit.parent.code if unit.parent_id else None}
    changed = {k for k in new if new[k] != old.get(k)}
    if changed:
        audit_log(org, "party.organisation.changed", actor=actor, old={k: old.get(k) for k in sorted(changed)},
                  new={k: new[k] for k in sorted(changed)})
    return org


def secretaries_of(org: PartyOrganisation) -> list[Membership]:
    return list(Membership.objects.filter(unit_id=org.unit_id, role__code=RoleCode.PARTY_SECRETARY, active=True)
                .select_related("user").order_by("id"))


@transaction.atomic
def organisation_secretary_set(org: PartyOrganisation, *, user: User, actor, reason: str = "") -> Membership:
    """Name the organisation's secretary (书记); a previous secretary's post ends (换届), with the reason."""
    require_org_manager(actor, org)
    current = secretaries_of(org)
    if any(m.user_id == user.pk for m in current):
        raise DomainError("party.setup.already_secretary", _("%(user)s 已是本组织书记。") % {"user": user},
                          field="user", status=409)
    reason = (reason or "").strip() or _("更换书记")
    for m in current:
        membership_revoke(m, actor=actor, reason=reason)
    membership = membership_grant(user, unit=org.unit, role_code=RoleCode.PARTY_SECRETARY, actor=actor,
                                  reason=reason)
    audit_log(org, "party.organisation.secretary_set", actor=actor,
              old={"secretaries": [m.user.username for m in current]}, new={"secretary": user.username},
              reason=reason)
    return membership


# -- organisation import ---------------------------------------------------------------------------
ORG_COLUMNS = {
    "name": ("党组织名称", "名称", "组织名称"),
    "org_type": ("组织类型", "类型"),
    "code": ("组织代码", "党组织代码", "单位编码"),
    "parent_code": ("上级党组织代码", "上级组织代码"),
    "division_code": ("区划代码",),
    "grid_code": ("网格代码",),
    "building_code": ("楼栋编码",),
    "address": ("地址",),
    "size": ("党员规模",),
    "secretary": ("书记用户名",),
}
ORG_REQUIRED = ("name", "org_type")
ORG_TEMPLATE_HEADER = [names[0] for names in ORG_COLUMNS.values()]
ORG_MAX_ROWS = 2000
# a service's field → the column its refusal belongs to
_FIELD_COLUMN = {"name": "name", "org_type": "org_type", "code": "code", "division": "division_code",
                 "grid": "grid_code", "building": "building_code", "address": "address", "size": "size",
                 "user": "secretary", "role": "secretary", "parent": "parent_code"}


def _org_type_of(text: str) -> str | None:
    text = text.strip()
    if text in OrgType.values:
        return text
    for value, label in OrgType.choices:
        if text == str(label):
            return value
    return None


@transaction.atomic
def organisations_import(source, *, organisation: PartyOrganisation, actor, filename: str = "") -> dict:
    """Create every organisation listed in an .xlsx/.csv file (or a list of rows) below `organisation`, or none.

    "上级党组织代码" names an existing organisation the actor manages or one on an earlier row; empty
    means `organisation`. Refuses the whole file with `party.import.rows_invalid` (`rows`: each bad
    row's {row, field, message}, header = row 1). Returns {"created": n, "file": name}.
    """
    require_org_manager(actor, organisation)
    filename = filename_of(source, filename)
    rows, _columns = read_rows(table_of(source, filename), ORG_COLUMNS, ORG_REQUIRED,
                               no_rows=_("文件中没有党组织数据。"),
                               too_many=_("一次最多导入 %(n)s 个党组织。") % {"n": ORG_MAX_ROWS}, max_rows=ORG_MAX_ROWS)
    errors: list[dict] = []

    def bad(n, key, message):
        errors.append({"row": n, "field": ORG_COLUMNS[key][0], "message": str(message)})

    parsed = []
    seen_code: dict[str, int] = {}
    for row in rows:
        n, before, text = row.number, len(errors), {}
        for key in ORG_COLUMNS:
            try:
                text[key] = clean_text(_cell_text(row.values.get(key)), field=key, max_length=255).strip()
            except DomainError as exc:
                bad(n, key, exc.message)
                text[key] = ""
        if not text["name"]:
            bad(n, "name", _("必填"))
        elif len(text["name"]) > NAME_MAX:
            bad(n, "name", _("名称过长"))
        org_type = _org_type_of(text["org_type"])
        if org_type is None:
            bad(n, "org_type", _("必填，应为：%(types)s") % {"types": "、".join(str(lb) for _v, lb in OrgType.choices)}
                if not text["org_type"] else _("组织类型“%(t)s”无效") % {"t": text["org_type"]})
        code = text["code"]
        if code:
            if code in seen_code:
                bad(n, "code", _("与第 %(row)s 行的组织代码重复") % {"row": seen_code[code]})
            else:
                seen_code[code] = n
        size = 0
        if text["size"]:
            try:
                size = int(text["size"])
                if size < 0:
                    raise ValueError
            except ValueError:
                bad(n, "size", _("应为不小于 0 的整数"))
        found = {}
        for key, model, label in (("division_code", Division, "code"), ("grid_code", Grid, "code"),
                                  ("building_code", Building, "code")):
            found[key] = None
            if text[key]:
                qs = model.objects.filter(**{label: text[key]})
                if model is Grid:
                    qs = qs.filter(layer=UNIFIED_LAYER)
                found[key] = qs.first()
                if found[key] is None:
                    bad(n, key, _("找不到 %(code)s") % {"code": text[key]})
        secretary = None
        if text["secretary"]:
            secretary = User.objects.filter(username=text["secretary"], is_active=True).first()
            if secretary is None:
                bad(n, "secretary", _("找不到用户 %(name)s") % {"name": text["secretary"]})
        if len(errors) == before:
            parsed.append((n, text, org_type, size, found, secretary))

    created: dict[str, PartyOrganisation] = {}
    row_of_code = dict(seen_code)
    count = 0
    for n, text, org_type, size, found, secretary in parsed:
        parent = organisation
        if text["parent_code"]:
            pcode = text["parent_code"]
            parent = created.get(pcode)
            if parent is None and pcode in row_of_code and row_of_code[pcode] >= n:
                bad(n, "parent_code", _("上级党组织 %(code)s 须列在本行之前") % {"code": pcode})
                continue
            if parent is None and pcode in row_of_code:
                bad(n, "parent_code", _("上级党组织 %(code)s（第 %(row)s 行）有错误") % {
                    "code": pcode, "row": row_of_code[pcode]})
                continue
            if parent is None:
                parent = PartyOrganisation.objects.select_related("unit").filter(unit__code=pcode).first()
                if parent is None:
                    bad(n, "parent_code", _("找不到党组织 %(code)s") % {"code": pcode})
                    continue
                if not _is_below(parent.unit_id, organisation.unit_id):
                    bad(n, "parent_code", _("党组织 %(code)s 不在%(org)s之下") % {"code": pcode, "org": organisation})
                    continue
        try:
            with transaction.atomic():
                org = suborganisation_create(
                    parent, actor=actor, name=text["name"], org_type=org_type, code=text["code"],
                    division=found["division_code"], grid=found["grid_code"], building=found["building_code"],
                    address=text["address"], size=size, secretary=secretary)
        except DomainError as exc:
            bad(n, _FIELD_COLUMN.get(exc.field or "", "name"), exc.message)
            continue
        if text["code"]:
            created[text["code"]] = org
        count += 1
    if errors:
        refuse_rows(errors, _("导入被拒绝，未建立任何党组织：第 %(rows)s 行有错误（共 %(n)s 行），请改正后重新导入。"))
    audit_log(organisation, "party.organisation.imported", actor=actor,
              data={"count": count, "file": filename, "organisation": organisation.unit.code})
    return {"created": count, "file": filename}


def organisations_template_bytes() -> bytes:
    return template_bytes(ORG_TEMPLATE_HEADER, sheet="党组织", widths=(28, 14, 22, 22, 14, 18, 12, 36, 10, 16),
                          text_columns="CDEFG")


# -- star-rating rule sets ------------------------------------------------------------------------
def rule_set_in_use(rule_set: StarRuleSet) -> bool:
    """A rule set that has rated anyone is history: never edited again, only succeeded by a new version."""
    return StarRating.objects.filter(rule_set=rule_set).exists()


def _require_rules_admin(actor) -> None:
    if not access.is_admin(actor):
        forbid(_("只有管理员可以制定评星规则。"))


@transaction.atomic
def star_rule_set_version(rule_set: StarRuleSet, *, actor, name: str) -> StarRuleSet:
    """A new version of a rule set: a copy under a new name, editable until it rates someone."""
    _require_rules_admin(actor)
    new = star_rule_set_create(name=name, items=rule_set.items, thresholds=rule_set.thresholds, actor=actor,
                               period=rule_set.period, base=rule_set.base, max_total=rule_set.max_total,
                               report_required=rule_set.report_required)
    audit_log(new, "party.rules.versioned", actor=actor, data={"from": rule_set.pk, "from_name": rule_set.name})
    return new


@transaction.atomic
def star_rule_set_update(rule_set: StarRuleSet, *, actor, name: str, period: str, base, max_total, items: list,
                         thresholds: list, report_required: bool) -> StarRuleSet:
    """Edit a draft rule set (one that has rated no one); a rule set in use is refused."""
    _require_rules_admin(actor)
    rs = StarRuleSet.objects.select_for_update().get(pk=rule_set.pk)
    if rule_set_in_use(rs):
        raise DomainError("party.rules.in_use", _("该规则已用于评星，不能修改；请新建一个版本。"), status=409)
    name = (name or "").strip()
    if not name:
        raise DomainError("party.rules.name_required", _("请填写规则名称。"), field="name")
    if StarRuleSet.objects.filter(name=name).exclude(pk=rs.pk).exists():
        raise DomainError("party.rules.name_taken", _("规则名称已被使用。"), field="name", status=409)
    rules = Rules.build(name=name, period=period, base=base, max_total=max_total, items=items,
                        thresholds=thresholds, report_required=report_required)
    old = _rule_set_dict(rs)
    rs.name, rs.period, rs.base, rs.max_total = name, rules.period, rules.base, rules.max_total
    rs.items = [i.as_dict() for i in rules.items]
    rs.thresholds = [str(t) for t in rules.thresholds]
    rs.report_required = rules.report_required
    rs.save()
    audit_log(rs, "party.rules.changed", actor=actor, old=old, new=_rule_set_dict(rs))
    return rs


@transaction.atomic
def star_rule_set_make_default(rule_set: StarRuleSet, *, actor) -> StarRuleSet:
    """Organisations without their own rule set are rated by the default from now on."""
    _require_rules_admin(actor)
    previous = StarRuleSet.objects.select_for_update().filter(is_default=True).exclude(pk=rule_set.pk).first()
    if previous is not None:
        previous.is_default = False
        previous.save(update_fields=["is_default"])
    rs = StarRuleSet.objects.select_for_update().get(pk=rule_set.pk)
    if not rs.is_default:
        rs.is_default = True
        rs.save(update_fields=["is_default"])
    audit_log(rs, "party.rules.made_default", actor=actor,
              old={"default": previous.name if previous else None}, new={"default": rs.name})
    return rs


__all__ = [
    "ORG_TEMPLATE_HEADER", "organisation_secretary_set", "organisation_update", "organisations_import",
    "organisations_template_bytes", "rule_set_in_use", "secretaries_of", "star_rule_set_make_default",
    "star_rule_set_update", "star_rule_set_version", "suborganisation_create",
]
