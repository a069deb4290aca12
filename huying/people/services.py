"""State changes of units, users, roles and memberships. Each is audited in its own transaction."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date, datetime
from fnmatch import fnmatchcase

from django.contrib.auth import password_validation
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.territory.models import Division, Grid, Level

from .masking import mask_id_number, mask_phone
from .models import ApiToken, Membership, Role, RoleCode, Unit, UnitKind, User
from .scope import forget_scope

# -- roles ---------------------------------------------------------------------------------------
# Django permissions per role as "app_label.codename" globs. Apps that do not exist yet simply
# match nothing; running roles_ensure() again after they land grants their permissions.
_OWN_APPS = ("core", "territory", "people", "dispatch", "hot", "open311", "party", "services", "community", "sensing",
             "insight")
# Alerts (hot) and Open311 keys were dispatch's models until they became apps of their own (D71):
# a role's "dispatch.*" grants cover them as before.
_DISPATCH_APPS = ("hot", "open311")
_VIEW_ALL = [f"{app}.view_*" for app in _OWN_APPS]
_STAFF_BASE = ["territory.view_*", "people.view_unit", "core.view_calendarday"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    RoleCode.ADMIN: ["*"],
    RoleCode.LEADER: _VIEW_ALL,
    RoleCode.RESIDENT: [],
    RoleCode.OPERATOR: _STAFF_BASE + ["dispatch.view_*", "dispatch.add_*"],
    RoleCode.DISPATCHER: _STAFF_BASE + ["people.view_user", "dispatch.view_*", "dispatch.add_*", "dispatch.change_*"],
    RoleCode.HANDLER: _STAFF_BASE + ["dispatch.view_*", "dispatch.change_*"],
    RoleCode.UNIT_LEADER: _STAFF_BASE + ["people.view_user", "people.view_membership", "dispatch.view_*",
                                         "dispatch.change_*", "insight.view_*"],
    RoleCode.GRID_WORKER: _STAFF_BASE + ["territory.change_building", "dispatch.view_*", "dispatch.add_*",
                                         "sensing.view_*"],
    RoleCode.COMMUNITY_WORKER: _STAFF_BASE + ["dispatch.view_*", "dispatch.add_*", "dispatch.change_*"],
    RoleCode.PARTY_SECRETARY: _STAFF_BASE + ["people.view_user", "party.*", "community.*"],
    RoleCode.PARTY_MEMBER: ["party.view_*", "community.view_*"],
    # 全岗通 desk staff at a Party-mass service centre: take any item, open work orders for others
    RoleCode.SERVICE_DESK: _STAFF_BASE + ["services.view_*", "services.add_*", "services.change_*",
                                          "dispatch.view_*", "dispatch.add_*"],
    # the organisation department (组织部) of a district or the city: the Party-building work system
    RoleCode.ORG_DEPARTMENT: _STAFF_BASE + ["people.view_user", "party.*", "services.view_*"],
    # 议事厅 convener at a residents' committee: matters, meetings, votes, resolutions, mediation
    RoleCode.CONVENER: _STAFF_BASE + ["community.*", "dispatch.add_*"],
    # a volunteer in a team (广州街坊, 民间河长, service teams): activities, hours, patrol reports
    RoleCode.VOLUNTEER: ["community.view_*", "dispatch.add_*"],
}
ROLE_PERMISSIONS = {
    role: patterns + [f"{app}.{p.split('.', 1)[1]}" for p in patterns if p.startswith("dispatch.") for app in _DISPATCH_APPS]
    for role, patterns in ROLE_PERMISSIONS.items()
}

ROLE_DESCRIPTIONS: dict[str, str] = {
    RoleCode.ADMIN: "系统管理：全部权限，全市范围。",
    RoleCode.LEADER: "领导驾驶舱：查看全部数据，不办理。",
    RoleCode.RESIDENT: "居民：只看本人提交的诉求与本人信息。",
    RoleCode.OPERATOR: "话务员：受理来电，登记工单。",
    RoleCode.DISPATCHER: "派单员：在本单位辖区内派单、改派、督办。",
    RoleCode.HANDLER: "承办人：办理派给本单位的工单。",
    RoleCode.UNIT_LEADER: "单位负责人：审核本单位办理结果，查看本单位统计。",
    RoleCode.GRID_WORKER: "网格员：巡查上报，维护网格内楼栋信息。",
    RoleCode.COMMUNITY_WORKER: "社区工作者：在居（村）委会签收、办理派给本社区的工单。",
    RoleCode.PARTY_SECRETARY: "党组织书记：管理本组织党员、活动与共建。",
    RoleCode.PARTY_MEMBER: "党员：报到、参加活动。",
    RoleCode.SERVICE_DESK: "服务窗口人员：在党群服务中心受理任何服务事项（全岗通），首问负责到底。",
    RoleCode.ORG_DEPARTMENT: "组织部门：统筹党建工作计划、项目、联系点和联席会议，按区查看进展。",
    RoleCode.CONVENER: "议事厅召集人：收集议题、召开议事会、组织表决、跟踪决议落实、记录调解。",
    RoleCode.VOLUNTEER: "志愿者：报名参加活动、签到记时长；河长和街坊队员巡查发现问题即报。",
}


def _permissions_for(patterns: list[str], all_perms: list[tuple[str, Permission]]) -> list[Permission]:
    return [perm for key, perm in all_perms if any(fnmatchcase(key, p) for p in patterns)]


@transaction.atomic
def roles_ensure() -> dict[str, Role]:
    """A Role with its Group for every RoleCode; grants each group the permissions in ROLE_PERMISSIONS.

    Idempotent. Permissions are only added, never removed, so an administrator's additions survive.
    """
    all_perms = [
        (f"{p.content_type.app_label}.{p.codename}", p)
        for p in Permission.objects.select_related("content_type")
    ]
    roles: dict[str, Role] = {}
    for code, label in RoleCode.choices:
        role = Role.objects.select_related("group").filter(code=code).first()
        if role is None:
            group, _created = Group.objects.get_or_create(name=str(label))
            role = Role.objects.create(code=code, name=str(label), group=group,
                                       description=ROLE_DESCRIPTIONS.get(code, ""))
            audit_log(role, "people.role.created", new={"code": code, "name": role.name})
        wanted = _permissions_for(ROLE_PERMISSIONS.get(code, []), all_perms)
        have = set(role.group.permissions.values_list("pk", flat=True))
        missing = [p for p in wanted if p.pk not in have]
        if missing:
            role.group.permissions.add(*missing)
        roles[code] = role
    return roles


def _role(code: str) -> Role:
    if code not in RoleCode.values:
        raise DomainError("people.role.unknown", _("没有这个角色：%(code)s") % {"code": code}, field="role")
    role = Role.objects.filter(code=code).first()
    return role or roles_ensure()[code]


# -- validation ---------------------------------------------------------------------------------
_PHONE = re.compile(r"^1\d{10}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number_checksum_ok(value: str) -> bool:
    """GB 11643-1999: 17 digits, then a check character (0–9 or X) from the weighted sum mod 11."""
    if len(value) != 18 or not value[:17].isdigit() or value[17] not in "0123456789X":
        return False
    total = sum(int(ch) * w for ch, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def validate_phone(value: str) -> str:
    """A mainland mobile number (11 digits starting with 1), or empty."""
    value = (value or "").strip().replace(" ", "").replace("-", "")
    if value and not _PHONE.match(value):
        raise DomainError("people.user.bad_phone", _("手机号应为以 1 开头的 11 位数字。"), field="phone")
    return value


def validate_id_number(value: str) -> str:
    """An 18-character resident identity number with a valid birth date and check character, or empty."""
    value = (value or "").strip().upper()
    if not value:
        return value
    if not id_number_checksum_ok(value):
        raise DomainError("people.user.bad_id_number", _("身份证号应为 18 位，且末位校验码正确。"),
                          field="id_number")
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise DomainError("people.user.bad_id_number", _("身份证号中的出生日期无效。"),
                          field="id_number") from None
    return value


# -- units ---------------------------------------------------------------------------------------
def _unit_dict(unit: Unit) -> dict:
    return {
        "code": unit.code, "name": unit.name, "kind": unit.kind, "parent": unit.parent_id,
        "division": unit.division.code if unit.division_id else None,
        "grid": unit.grid.code if unit.grid_id else None, "active": unit.active,
    }


@transaction.atomic
def unit_create(
    *,
    code: str,
    name: str,
    kind: str,
    parent: Unit | None = None,
    division: Division | None = None,
    grid: Grid | None = None,
    actor,
) -> Unit:
    """Create a unit (条 department, 块 territorial office, Party organisation …) covering a territory."""
    code, name = (code or "").strip(), (name or "").strip()
    if not code:
        raise DomainError("people.unit.code_required", _("请填写单位编码。"), field="code")
    if len(code) > Unit._meta.get_field("code").max_length:
        raise DomainError("people.unit.code_too_long", _("单位编码过长。"), field="code")
    if not name:
        raise DomainError("people.unit.name_required", _("请填写单位名称。"), field="name")
    if kind not in UnitKind.values:
        raise DomainError("people.unit.bad_kind", _("单位类别无效。"), field="kind")
    if Unit.objects.filter(code=code).exists():
        raise DomainError("people.unit.code_taken", _("单位编码 %(code)s 已被使用。") % {"code": code},
                          field="code", status=409)
    if parent is not None and not parent.active:
        raise DomainError("people.unit.parent_inactive", _("上级单位已停用。"), field="parent")
    if grid is not None:
        if division is None:
            division = grid.community
        elif division.level != Level.CITY and not grid.code.startswith(division.code):
            raise DomainError("people.unit.grid_outside_division", _("所选网格不在所选区划内。"), field="grid")
    unit = Unit.objects.create(code=code, name=name, kind=kind, parent=parent, division=division, grid=grid)
    audit_log(unit, "people.unit.created", actor=actor, new=_unit_dict(unit))
    return unit


def username_check(username, *, other_than: User | None = None) -> str:
    """The username stripped, or DomainError: empty, too long, bad characters, or taken (case-insensitively)
    by someone other than `other_than`."""
    username = (username or "").strip()
    if not username:
        raise DomainError("people.user.username_required", _("请填写用户名。"), field="username")
    if len(username) > User._meta.get_field("username").max_length:
        raise DomainError("people.user.username_too_long", _("用户名过长。"), field="username")
    try:
        User.username_validator(username)
    except ValidationError:
        raise DomainError("people.user.bad_username", _("用户名只能包含字母、数字和 @/./+/-/_。"),
                          field="username") from None
    taken = User.objects.filter(username__iexact=username)
    if other_than is not None:
        taken = taken.exclude(pk=other_than.pk)
    if taken.exists():
        raise DomainError("people.user.username_taken", _("用户名 %(name)s 已被使用。") % {"name": username},
                          field="username", status=409)
    return username


# -- users ---------------------------------------------------------------------------------------
@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    display_name: str = "",
    phone: str = "",
    id_number: str = "",
    actor,
    is_staff: bool = False,
    is_superuser: bool = False,
    check_password: bool = True,
    can_log_in: bool = True,
) -> User:
    """Create a login. `check_password=False` skips Django's strength checks (the demo's shared password);
    `can_log_in=False` records a person who does not sign in (no password, none hashed)."""
    username = username_check(username)
    if not password and can_log_in:
        raise DomainError("people.user.password_required", _("请设置密码。"), field="password")
    phone = validate_phone(phone)
    id_number = validate_id_number(id_number)
    user = User(username=username, display_name=(display_name or "").strip(), phone=phone, id_number=id_number,
                is_staff=is_staff or is_superuser, is_superuser=is_superuser)
    if check_password and can_log_in:
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise DomainError("people.user.weak_password", " ".join(exc.messages), field="password") from None
    if can_log_in:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    # Personal data goes into the audit log masked: the log is read more widely than the record.
    audit_log(user, "people.user.created", actor=actor, new={
        "username": user.username, "display_name": user.display_name, "phone": mask_phone(phone),
        "id_number": mask_id_number(id_number), "is_staff": user.is_staff, "is_superuser": user.is_superuser,
    })
    return user


# -- memberships --------------------------------------------------------------------------------
def _membership_dict(m: Membership) -> dict:
    return {"user": m.user.username, "unit": m.unit.code, "role": m.role.code, "active": m.active}


@transaction.atomic
def membership_grant(user: User, *, unit: Unit, role_code: str, actor, reason: str = "") -> Membership:
    """Give `user` a role in `unit` (任职); re-activates a revoked membership of the same role."""
    role = _role(str(role_code))
    if not unit.active:
        raise DomainError("people.membership.unit_inactive", _("单位已停用，不能任职。"), field="unit")
    if not user.is_active:
        raise DomainError("people.membership.user_inactive", _("该用户已停用。"), field="user")
    membership = (Membership.objects.select_for_update()
                  .filter(user=user, unit=unit, role=role).select_related("user", "unit", "role").first())
    if membership is not None and membership.active:
        raise DomainError("people.membership.exists", _("%(user)s 已在 %(unit)s 担任 %(role)s。") % {
            "user": user, "unit": unit, "role": role}, field="role", status=409)
    if membership is None:
        membership = Membership.objects.create(user=user, unit=unit, role=role)
    else:
        membership.active = True
        membership.save(update_fields=["active"])
    user.groups.add(role.group)
    if role.code == RoleCode.ADMIN and not user.is_staff:
        # the admin site is the administrator's tool
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    audit_log(membership, "people.membership.granted", actor=actor, new=_membership_dict(membership), reason=reason)
    forget_scope(user)
    return membership


@transaction.atomic
def membership_revoke(membership: Membership, *, actor, reason: str) -> Membership:
    """End a membership (免职); the person loses the role's permissions unless another unit gives it."""
    if not (reason or "").strip():
        raise DomainError("people.membership.reason_required", _("请填写撤销原因。"), field="reason")
    given_user = membership._state.fields_cache.get("user")
    membership = (Membership.objects.select_for_update().select_related("user", "unit", "role")
                  .get(pk=membership.pk))
    if not membership.active:
        raise DomainError("people.membership.already_revoked", _("该任职已撤销。"), status=409)
    old = _membership_dict(membership)
    membership.active = False
    membership.save(update_fields=["active"])
    if not Membership.objects.filter(user=membership.user, role=membership.role, active=True).exists():
        membership.user.groups.remove(membership.role.group)
    audit_log(membership, "people.membership.revoked", actor=actor, old=old, new=_membership_dict(membership),
              reason=reason.strip())
    forget_scope(membership.user)
    forget_scope(given_user)
    return membership


# -- API tokens ---------------------------------------------------------------------------------
API_TOKEN_PREFIX = "hy_"


def api_token_digest(token: str) -> str:
    """The stored form of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(user: User, *, name: str, actor, expires_at=None, now=None) -> tuple[ApiToken, str]:
    """Issue an API token for `user`; returns (the stored row, the token), the token only this once."""
    now = now or timezone.now()
    name = (name or "").strip()
    if not name:
        raise DomainError("people.api_token.name_required", _("请填写令牌用途。"), field="name")
    if len(name) > ApiToken._meta.get_field("name").max_length:
        raise DomainError("people.api_token.name_too_long", _("令牌用途过长。"), field="name")
    if not user.is_active:
        raise DomainError("people.api_token.user_inactive", _("该用户已停用。"), field="user")
    if expires_at is not None and expires_at <= now:
        raise DomainError("people.api_token.bad_expiry", _("过期时间须晚于现在。"), field="expires_at")
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(user=user, name=name, prefix=token[:10], digest=api_token_digest(token),
                                  created_at=now, expires_at=expires_at)
    audit_log(row, "people.api_token.created", actor=actor,
              new={"user": user.username, "name": name, "prefix": row.prefix,
                   "expires_at": expires_at.isoformat() if expires_at else None})
    return row, token


@transaction.atomic
def api_token_revoke(token: ApiToken, *, actor, reason: str = "", now=None) -> ApiToken:
    """Revoke a token at once; requests carrying it are refused from then on."""
    now = now or timezone.now()
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise DomainError("people.api_token.already_revoked", _("该令牌已吊销。"), status=409)
    token.revoked_at = now
    token.save(update_fields=["revoked_at"])
    audit_log(token, "people.api_token.revoked", actor=actor, old={"revoked_at": None},
              new={"revoked_at": now.isoformat()}, reason=(reason or "").strip())
    return token


# -- edits made by an administrator ----------------------------------------------------------------
def _admin_value(name: str, value):
    if name == "phone":
        return mask_phone(value) if value else value
    if name == "id_number":
        return mask_id_number(value) if value else value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def _changed(obj, values: dict) -> tuple[dict, dict]:
    """Old and new values (as logged) of the fields `values` changes on `obj`; sets them on `obj`."""
    old, new = {}, {}
    for name, value in values.items():
        attname = obj._meta.get_field(name).attname
        before = getattr(obj, attname)
        after = value.pk if hasattr(value, "pk") and attname != name else value
        if isinstance(before, datetime) and isinstance(after, datetime):
            # forms show whole seconds: a stored date with microseconds comes back "changed"
            same = before.replace(microsecond=0) == after.replace(microsecond=0)
        else:
            same = before == after
        if not same:
            old[name], new[name] = _admin_value(name, before), _admin_value(name, after)
            setattr(obj, attname, after)
    return old, new


_USER_FIELDS = ("username", "display_name", "phone", "id_number", "first_name", "last_name", "email",
                "is_active", "is_staff", "is_superuser", "last_login", "date_joined")


@transaction.atomic
def user_update(user: User, *, values: dict, actor, reason: str = "") -> User:
    """Change a login's details, flags and direct groups/permissions; personal data is logged masked.

    Roles are normally given through memberships; groups set here directly are audited too. A
    password is changed by `user_set_password`, never here.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    fields = {k: v for k, v in values.items() if k in _USER_FIELDS}
    if "username" in fields:
        fields["username"] = username_check(fields["username"], other_than=user)
    if "phone" in fields:
        fields["phone"] = validate_phone(fields["phone"])
    if "id_number" in fields:
        fields["id_number"] = validate_id_number(fields["id_number"])
    if "email" in fields:
        fields["email"] = (fields["email"] or "").strip()
        if fields["email"]:
            try:
                validate_email(fields["email"])
            except ValidationError:
                raise DomainError("people.user.bad_email", _("电子邮箱格式不正确。"), field="email") from None
    for name in ("display_name", "first_name", "last_name"):
        if name in fields:
            fields[name] = (fields[name] or "").strip()
            if len(fields[name]) > User._meta.get_field(name).max_length:
                raise DomainError("people.user.too_long", _("内容过长。"), field=name)
    if getattr(actor, "pk", None) == user.pk:
        for flag in ("is_active", "is_staff", "is_superuser"):
            if flag in fields and getattr(user, flag) and not fields[flag]:
                raise DomainError("people.user.self_lockout", _("不能取消自己账号的启用、职员或超级用户状态。"),
                                  field=flag)
    old, new = _changed(user, fields)
    for name, manager in (("groups", user.groups), ("user_permissions", user.user_permissions)):
        if name not in values:
            continue
        label = (lambda p: f"{p.content_type.app_label}.{p.codename}") if name == "user_permissions" else str
        before = {label(o): o for o in manager.all()}
        after = {label(o): o for o in (values[name] or [])}
        if set(before) != set(after):
            old[name], new[name] = sorted(before), sorted(after)
            manager.set(list(after.values()))
    if not old:
        return user
    user.save()
    audit_log(user, "people.user.changed", actor=actor, old=old, new=new, reason=(reason or "").strip())
    forget_scope(user)
    return user


@transaction.atomic
def user_set_password(user: User, *, password: str | None, actor, reason: str = "") -> User:
    """Set a new password, or with None make the account one that cannot sign in with a password."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if password is None:
        user.set_unusable_password()
    elif not password:
        raise DomainError("people.user.password_required", _("请设置密码。"), field="password1")
    else:
        user.set_password(password)
    user.save(update_fields=["password"])
    audit_log(user, "people.user.password_changed", actor=actor, new={"usable_password": password is not None},
              reason=(reason or "").strip())
    return user


@transaction.atomic
def user_delete(user: User, *, actor, reason: str = "") -> None:
    user = User.objects.select_for_update().get(pk=user.pk)
    if getattr(actor, "pk", None) == user.pk:
        raise DomainError("people.user.self_delete", _("不能删除自己的账号。"), status=409)
    audit_log(user, "people.user.deleted", actor=actor, old={
        "username": user.username, "display_name": user.display_name, "phone": _admin_value("phone", user.phone),
        "is_staff": user.is_staff, "is_superuser": user.is_superuser}, reason=(reason or "").strip())
    user.delete()


@transaction.atomic
def unit_update(unit: Unit, *, values: dict, actor, reason: str = "") -> Unit:
    """Change a unit's code, name, kind, parent, territory or flags, with the checks `unit_create` makes."""
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    fields = {k: v for k, v in values.items() if k in ("code", "name", "kind", "parent", "division", "grid",
                                                          "active", "review_results")}
    if "code" in fields:
        code = fields["code"] = (fields["code"] or "").strip()
        if not code:
            raise DomainError("people.unit.code_required", _("请填写单位编码。"), field="code")
        if len(code) > Unit._meta.get_field("code").max_length:
            raise DomainError("people.unit.code_too_long", _("单位编码过长。"), field="code")
        if Unit.objects.filter(code=code).exclude(pk=unit.pk).exists():
            raise DomainError("people.unit.code_taken", _("单位编码 %(code)s 已被使用。") % {"code": code},
                              field="code", status=409)
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
        if not fields["name"]:
            raise DomainError("people.unit.name_required", _("请填写单位名称。"), field="name")
    if "kind" in fields and fields["kind"] not in UnitKind.values:
        raise DomainError("people.unit.bad_kind", _("单位类别无效。"), field="kind")
    parent = fields.get("parent", unit.parent)
    if "parent" in fields and parent is not None and parent.pk != unit.parent_id:
        ancestor, seen = parent, set()
        while ancestor is not None and ancestor.pk not in seen:
            if ancestor.pk == unit.pk:
                raise DomainError("people.unit.parent_cycle", _("上级单位不能是本单位或其下级单位。"), field="parent")
            seen.add(ancestor.pk)
            ancestor = ancestor.parent
        if not parent.active:
            raise DomainError("people.unit.parent_inactive", _("上级单位已停用。"), field="parent")
    division = fields.get("division", unit.division)
    grid = fields.get("grid", unit.grid)
    if grid is not None and division is not None and division.level != Level.CITY \
            and not grid.code.startswith(division.code):
        raise DomainError("people.unit.grid_outside_division", _("所选网格不在所选区划内。"), field="grid")
    old, new = _changed(unit, fields)
    if not old:
        return unit
    unit.save()
    audit_log(unit, "people.unit.changed", actor=actor, old=old, new=new, reason=(reason or "").strip())
    return unit


@transaction.atomic
def unit_delete(unit: Unit, *, actor, reason: str = "") -> None:
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    audit_log(unit, "people.unit.deleted", actor=actor, old=_unit_dict(unit), reason=(reason or "").strip())
    unit.delete()
