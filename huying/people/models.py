"""Units (any body that can be given work or hold people), users, roles and memberships.

A person's scope follows from their memberships: the role says what they may do, the unit's
territory (Division or Grid) says where. See `people.scope`.
"""

from django.contrib.auth.models import AbstractUser, Group
from django.db import models
from django.utils.translation import gettext_lazy as _

from huying.territory.models import Division, Grid


class UnitKind(models.TextChoices):
    COMMAND = "command", _("指挥调度中心")
    TERRITORIAL = "territorial", _("属地单位（块）")
    DEPARTMENT = "department", _("职能部门（条）")
    PARTY = "party", _("党组织")
    ENTERPRISE = "enterprise", _("企事业单位")
    AGENCY = "agency", _("社会服务机构")
    VOLUNTEER_TEAM = "volunteer_team", _("志愿服务队")


class Unit(models.Model):
    """A body that can be given work or hold people: 条 (department) or 块 (territorial office), Party
    organisation, enterprise, agency, volunteer team. `division`/`grid` is the territory it covers."""

    code = models.CharField(_("单位编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=120, db_index=True)
    kind = models.CharField(_("类别"), max_length=20, choices=UnitKind.choices, db_index=True)
    parent = models.ForeignKey("self", verbose_name=_("上级单位"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    division = models.ForeignKey(Division, verbose_name=_("覆盖区划"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="units")
    grid = models.ForeignKey(Grid, verbose_name=_("覆盖网格"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="units")
    active = models.BooleanField(_("启用"), default=True)
    # 审核本单位办理结果: a handler's 办结 waits for a unit leader's approval before it leaves the unit.
    review_results = models.BooleanField(_("负责人审核办理结果"), default=False,
                                         help_text=_("开启后，承办人办结的工单须经本单位负责人审核"))

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["code"]
        indexes = [models.Index(fields=["kind", "division"])]

    def __str__(self):
        return self.name

    @property
    def territory_code(self) -> str | None:
        """The code prefix of the territory this unit covers (a grid code, a division code, or None)."""
        if self.grid_id:
            return self.grid.code
        if self.division_id:
            return self.division.code
        return None


class User(AbstractUser):
    """Someone who signs in: staff, grid worker, Party member, resident."""

    display_name = models.CharField(_("姓名"), max_length=60, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True, db_index=True)
    id_number = models.CharField(_("身份证号"), max_length=18, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self):
        return self.display_name or self.username


class RoleCode(models.TextChoices):
    RESIDENT = "resident", _("居民")
    OPERATOR = "operator", _("话务员")
    DISPATCHER = "dispatcher", _("派单员")
    HANDLER = "handler", _("承办人")
    UNIT_LEADER = "unit_leader", _("单位负责人")
    GRID_WORKER = "grid_worker", _("网格员")
    COMMUNITY_WORKER = "community_worker", _("社区工作者")
    PARTY_SECRETARY = "party_secretary", _("党组织书记")
    PARTY_MEMBER = "party_member", _("党员")
    SERVICE_DESK = "service_desk", _("服务窗口人员")
    ORG_DEPARTMENT = "org_department", _("组织部门")
    CONVENER = "convener", _("议事厅召集人")
    VOLUNTEER = "volunteer", _("志愿者")
    LEADER = "leader", _("领导（驾驶舱）")
    ADMIN = "admin", _("系统管理员")


class Role(models.Model):
    """A role held as data; its Django group carries the permissions."""

    code = models.CharField(_("角色代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    group = models.OneToOneField(Group, verbose_name=_("权限组"), on_delete=models.PROTECT, related_name="role")
    description = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A person's role in a unit (任职): the unit's territory bounds what the role may see."""

    user = models.ForeignKey(User, verbose_name=_("人员"), on_delete=models.CASCADE, related_name="memberships")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="memberships")
    role = models.ForeignKey(Role, verbose_name=_("角色"), on_delete=models.PROTECT, related_name="memberships")
    active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(_("任职时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("任职")
        verbose_name_plural = _("任职")
        constraints = [models.UniqueConstraint(fields=["user", "unit", "role"], name="membership_unique")]

    def __str__(self):
        return f"{self.user} · {self.unit} · {self.role}"


class ApiToken(models.Model):
    """An API token (接口令牌) for a system or script acting as a user; only its SHA-256 digest is kept.

    The token itself is shown once, when it is created (`people.services.api_token_create`); it
    carries 256 random bits, so a fast hash is enough — nobody can guess their way back from it.
    """

    user = models.ForeignKey(User, verbose_name=_("人员"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("用途"), max_length=80)
    prefix = models.CharField(_("令牌前缀"), max_length=12, help_text=_("令牌开头几位，用于识别，不能用于登录"))
    digest = models.CharField(_("令牌摘要"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("创建时间"))
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class AccessGeneration(models.Model):
    """One row whose number changes whenever anything a scope is made of changes.

    Database triggers (migration people 0004) bump it in the same transaction as any write to
    memberships, roles, units (their parent, territory, kind, active), users (active, superuser)
    and division or grid codes, whichever path made the write (services, admin, bulk loads, SQL).
    Every process keeps the scopes it has built with the number they were built at and rebuilds a
    scope once the number has moved (`people.scope.scope_for`), so a change is seen by the next request
    everywhere, and an unchanged scope costs no query.
    """

    value = models.BigIntegerField(_("版本"), default=0)

    class Meta:
        verbose_name = _("权限范围版本")
        verbose_name_plural = _("权限范围版本")

    def __str__(self):
        return str(self.value)
