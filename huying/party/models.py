"""Party-specific records. A Party organisation IS a `people.Unit` of kind "party"; its members are
`people.User`s. This app adds only what is Party-specific: the organisation's profile and joint
bodies, the member registry, double reporting (双报到) and the service it leads to, joint
activities (四个一), star rating (评星定级) and co-building (1+X+N).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huying.people.models import Unit
from huying.territory.models import Building, Division, Grid


# -- organisations ----------------------------------------------------------------------------
class OrgType(models.TextChoices):
    STREET_COMMITTEE = "street_committee", _("街道大党工委")
    COMMUNITY_COMMITTEE = "community_committee", _("社区大党委")
    GRID_BRANCH = "grid_branch", _("网格党支部")
    BUILDING_GROUP = "building_group", _("楼栋党小组")
    GOVERNMENT = "government", _("机关")
    STATE_ENTERPRISE = "state_enterprise", _("国有企业")
    PRIVATE_ENTERPRISE = "private_enterprise", _("民营企业")
    SCHOOL = "school", _("学校")
    HOSPITAL = "hospital", _("医院")
    NEW_ECONOMY = "new_economy", _("新经济组织")
    SOCIAL_ORG = "social_org", _("社会组织")
    INDUSTRY_COMMITTEE = "industry_committee", _("行业联合党委")


# Territorial organisations mirror the territory: their Unit covers the Division / Grid they lead.
TERRITORIAL_TYPES = frozenset({OrgType.STREET_COMMITTEE, OrgType.COMMUNITY_COMMITTEE, OrgType.GRID_BRANCH,
                               OrgType.BUILDING_GROUP})
# Joint bodies list member units (a community 大党委's resident units, an alliance's firms).
JOINT_TYPES = frozenset({OrgType.COMMUNITY_COMMITTEE, OrgType.STREET_COMMITTEE, OrgType.INDUSTRY_COMMITTEE})


class PartyOrganisation(models.Model):
    """The Party-specific profile of a Unit of kind "party" (党组织).

    `division` / `grid` / `building` say where the organisation sits (located from its address for
    unit organisations; the mirrored territory for territorial ones). The Unit's own territory is
    only set for territorial organisations, because it is what their secretaries may see.
    """

    unit = models.OneToOneField(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="party_org")
    org_type = models.CharField(_("组织类型"), max_length=24, choices=OrgType.choices, db_index=True)
    size = models.PositiveIntegerField(_("党员规模"), default=0, help_text=_("登记的党员人数"))
    address = models.CharField(_("地址"), max_length=255, blank=True)
    division = models.ForeignKey(Division, verbose_name=_("所在区划"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="party_orgs_here")
    grid = models.ForeignKey(Grid, verbose_name=_("所在网格"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="party_orgs_here")
    building = models.ForeignKey(Building, verbose_name=_("所在楼栋"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="party_orgs_here")
    street = models.ForeignKey(Division, verbose_name=_("所在街道"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="party_orgs_in_street")
    rule_set = models.ForeignKey("StarRuleSet", verbose_name=_("评星规则"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="organisations",
                                 help_text=_("空：使用默认规则"))
    created_at = models.DateTimeField(_("建立时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")
        ordering = ["unit__code"]
        indexes = [models.Index(fields=["org_type", "street"])]

    def __str__(self):
        return self.unit.name

    @property
    def is_territorial(self) -> bool:
        return self.org_type in TERRITORIAL_TYPES


class JointBodyMember(models.Model):
    """A member unit of a joint body: a community 大党委's resident units, an industry alliance's firms."""

    body = models.ForeignKey(PartyOrganisation, verbose_name=_("联合组织"), on_delete=models.CASCADE,
                             related_name="member_units")
    unit = models.ForeignKey(Unit, verbose_name=_("成员单位"), on_delete=models.PROTECT, related_name="joint_bodies")
    position = models.CharField(_("职务"), max_length=40, blank=True, help_text=_("例如：兼职委员单位"))
    joined_on = models.DateField(_("加入日期"))
    active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("联合组织成员单位")
        verbose_name_plural = _("联合组织成员单位")
        constraints = [models.UniqueConstraint(fields=["body", "unit"], name="party_joint_member_unique")]

    def __str__(self):
        return f"{self.body} · {self.unit}"


# -- members ----------------------------------------------------------------------------------
class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("正常")
    EXEMPT = "exempt", _("免评（年老体弱）")
    LEFT = "left", _("已转出")


class Member(models.Model):
    """A Party member (党员): a User with their organisation and home community."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("人员"), on_delete=models.PROTECT,
                                related_name="party_member")
    organisation = models.ForeignKey(PartyOrganisation, verbose_name=_("所在党组织"), on_delete=models.PROTECT,
                                     related_name="members")
    joined_on = models.DateField(_("入党日期"), null=True, blank=True)
    in_service = models.BooleanField(_("在职党员"), default=True, help_text=_("在职党员须到居住社区报到"))
    home_address = models.CharField(_("居住地址"), max_length=255, blank=True)
    home_community = models.ForeignKey(Division, verbose_name=_("居住社区"), null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="resident_members")
    home_grid = models.ForeignKey(Grid, verbose_name=_("居住网格"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="resident_members")
    status = models.CharField(_("状态"), max_length=12, choices=MemberStatus.choices, default=MemberStatus.ACTIVE,
                              db_index=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("党员")
        verbose_name_plural = _("党员")
        ordering = ["id"]
        indexes = [models.Index(fields=["organisation", "status"]), models.Index(fields=["home_community", "status"])]

    def __str__(self):
        return str(self.user)


# -- double reporting (双报到) ------------------------------------------------------------------
class ReportStatus(models.TextChoices):
    PENDING = "pending", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    REJECTED = "rejected", _("已退回")
    ENDED = "ended", _("已结束")


class ReportBase(models.Model):
    """What a unit report and a member report share: a pending → confirmed/rejected decision."""

    status = models.CharField(_("状态"), max_length=12, choices=ReportStatus.choices, default=ReportStatus.PENDING,
                              db_index=True)
    reported_at = models.DateTimeField(_("报到时间"))
    decided_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("确认人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("说明"), max_length=255, blank=True)

    class Meta:
        abstract = True
        ordering = ["-reported_at"]


class UnitReport(ReportBase):
    """A unit Party organisation reports to the street where it sits (单位党组织到街道报到)."""

    organisation = models.ForeignKey(PartyOrganisation, verbose_name=_("报到党组织"), on_delete=models.PROTECT,
                                     related_name="unit_reports")
    street = models.ForeignKey(Division, verbose_name=_("报到街道"), on_delete=models.PROTECT,
                               related_name="unit_reports")
    commitments = models.TextField(_("服务承诺"), blank=True)

    class Meta(ReportBase.Meta):
        verbose_name = _("单位报到")
        verbose_name_plural = _("单位报到")
        indexes = [models.Index(fields=["street", "status"])]
        constraints = [models.UniqueConstraint(
            fields=["organisation"], condition=models.Q(status__in=["pending", "confirmed"]),
            name="party_unit_report_one_open")]

    def __str__(self):
        return f"{self.organisation} → {self.street.name}"


class MemberReport(ReportBase):
    """An in-service member reports to the community where they live (在职党员到社区报到)."""

    member = models.ForeignKey(Member, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="reports")
    community = models.ForeignKey(Division, verbose_name=_("报到社区"), on_delete=models.PROTECT,
                                  related_name="member_reports")
    skills = models.CharField(_("特长/服务意向"), max_length=255, blank=True)

    class Meta(ReportBase.Meta):
        verbose_name = _("党员报到")
        verbose_name_plural = _("党员报到")
        indexes = [models.Index(fields=["community", "status"])]
        constraints = [models.UniqueConstraint(
            fields=["member"], condition=models.Q(status__in=["pending", "confirmed"]),
            name="party_member_report_one_open")]

    def __str__(self):
        return f"{self.member} → {self.community.name}"


class ServiceTeam(models.Model):
    """A service team (服务队) formed in a community by reported members; a Unit of kind volunteer_team."""

    unit = models.OneToOneField(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="service_team")
    community = models.ForeignKey(Division, verbose_name=_("所在社区"), on_delete=models.PROTECT,
                                  related_name="service_teams")
    speciality = models.CharField(_("服务方向"), max_length=60, blank=True)
    members = models.ManyToManyField(Member, verbose_name=_("队员"), through="ServiceTeamMember",
                                     related_name="service_teams")
    created_at = models.DateTimeField(_("成立时间"))

    class Meta:
        verbose_name = _("服务队")
        verbose_name_plural = _("服务队")
        ordering = ["id"]

    def __str__(self):
        return self.unit.name


class ServiceTeamMember(models.Model):
    team = models.ForeignKey(ServiceTeam, verbose_name=_("服务队"), on_delete=models.CASCADE)
    member = models.ForeignKey(Member, verbose_name=_("党员"), on_delete=models.PROTECT)
    joined_at = models.DateTimeField(_("加入时间"))

    class Meta:
        verbose_name = _("服务队队员")
        verbose_name_plural = _("服务队队员")
        constraints = [models.UniqueConstraint(fields=["team", "member"], name="party_team_member_unique")]

    def __str__(self):
        return f"{self.team} · {self.member}"


class GridInstructor(models.Model):
    """An in-service member serving as a grid's instructor (网格指导员)."""

    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.PROTECT, related_name="instructors")
    member = models.ForeignKey(Member, verbose_name=_("党员"), on_delete=models.PROTECT,
                               related_name="grid_instructor_posts")
    started_on = models.DateField(_("开始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("网格指导员")
        verbose_name_plural = _("网格指导员")
        constraints = [models.UniqueConstraint(fields=["grid", "member"], condition=models.Q(ended_on__isnull=True),
                                               name="party_instructor_one_open")]

    def __str__(self):
        return f"{self.grid} · {self.member}"


class NeedKind(models.TextChoices):
    WISH = "wish", _("微心愿")
    COMMUNITY = "community", _("社区需求")


class NeedStatus(models.TextChoices):
    OPEN = "open", _("待认领")
    CLAIMED = "claimed", _("已认领")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已撤销")


class Need(models.Model):
    """A resident's small wish (微心愿) or a community need, posted by the community for members to claim."""

    community = models.ForeignKey(Division, verbose_name=_("社区"), on_delete=models.PROTECT, related_name="party_needs")
    kind = models.CharField(_("类别"), max_length=12, choices=NeedKind.choices)
    title = models.CharField(_("标题"), max_length=120)
    description = models.TextField(_("说明"), blank=True)
    requester_name = models.CharField(_("提出人"), max_length=60, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=NeedStatus.choices, default=NeedStatus.OPEN,
                              db_index=True)
    posted_at = models.DateTimeField(_("发布时间"))
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发布人"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    claimed_by_member = models.ForeignKey(Member, verbose_name=_("认领党员"), null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="claimed_needs")
    claimed_by_org = models.ForeignKey(PartyOrganisation, verbose_name=_("认领党组织"), null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="claimed_needs")
    claimed_at = models.DateTimeField(_("认领时间"), null=True, blank=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("微心愿/社区需求")
        verbose_name_plural = _("微心愿/社区需求")
        ordering = ["-posted_at"]
        indexes = [models.Index(fields=["community", "status"])]

    def __str__(self):
        return self.title


class ServiceKind(models.TextChoices):
    WISH = "wish", _("微心愿")
    NEED = "need", _("社区需求")
    TEAM = "team", _("服务队活动")
    GRID = "grid", _("网格指导")
    OTHER = "other", _("其他服务")


class ServiceRecord(models.Model):
    """Service done in a community by a reported member or unit organisation, with hours (服务记录)."""

    member = models.ForeignKey(Member, verbose_name=_("党员"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="service_records")
    organisation = models.ForeignKey(PartyOrganisation, verbose_name=_("党组织"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="service_records")
    community = models.ForeignKey(Division, verbose_name=_("服务社区"), on_delete=models.PROTECT,
                                  related_name="party_services")
    kind = models.CharField(_("服务类别"), max_length=12, choices=ServiceKind.choices)
    hours = models.DecimalField(_("服务时长(小时)"), max_digits=6, decimal_places=1)
    served_on = models.DateField(_("服务日期"), db_index=True)
    need = models.ForeignKey(Need, verbose_name=_("对应需求"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="service_records")
    team = models.ForeignKey(ServiceTeam, verbose_name=_("服务队"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="service_records")
    note = models.CharField(_("说明"), max_length=255, blank=True)
    confirmed = models.BooleanField(_("社区已确认"), default=False, db_index=True)
    recorded_at = models.DateTimeField(_("登记时间"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("服务记录")
        verbose_name_plural = _("服务记录")
        ordering = ["-served_on", "-id"]
        indexes = [models.Index(fields=["member", "served_on"]), models.Index(fields=["community", "served_on"])]
        constraints = [models.CheckConstraint(condition=models.Q(member__isnull=False) | models.Q(
            organisation__isnull=False), name="party_service_has_doer"),
            models.CheckConstraint(condition=models.Q(hours__gte=0), name="party_service_hours_nonneg")]

    def __str__(self):
        return f"{self.member or self.organisation} · {self.served_on} · {self.hours}h"


class HalfYearReturn(models.Model):
    """The community's half-year record of a member, sent back to the member's own organisation (反馈)."""

    member = models.ForeignKey(Member, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="returns")
    community = models.ForeignKey(Division, verbose_name=_("报到社区"), on_delete=models.PROTECT,
                                  related_name="party_returns")
    organisation = models.ForeignKey(PartyOrganisation, verbose_name=_("接收党组织"), on_delete=models.PROTECT,
                                     related_name="returns_received")
    period = models.CharField(_("半年度"), max_length=7, help_text=_("例如 2024H1"))
    services = models.PositiveIntegerField(_("服务次数"), default=0)
    hours = models.DecimalField(_("服务时长(小时)"), max_digits=7, decimal_places=1, default=0)
    activities = models.PositiveIntegerField(_("参加活动次数"), default=0)
    comment = models.CharField(_("社区评价"), max_length=255, blank=True)
    sent_at = models.DateTimeField(_("反馈时间"))
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("反馈人"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("半年反馈")
        verbose_name_plural = _("半年反馈")
        ordering = ["-period", "id"]
        constraints = [models.UniqueConstraint(fields=["member", "period"], name="party_return_once")]
        indexes = [models.Index(fields=["organisation", "period"])]

    def __str__(self):
        return f"{self.member} · {self.period}"


# -- joint activities (四个一) -------------------------------------------------------------------
class ActivityType(models.TextChoices):
    THEME_DAY = "theme_day", _("主题党日")
    LECTURE = "lecture", _("党课")
    ORG_LIFE = "org_life", _("组织生活会")
    VISIT = "visit", _("走访慰问")


class ActivityStatus(models.TextChoices):
    PLANNED = "planned", _("计划中")
    HELD = "held", _("已举行")
    CANCELLED = "cancelled", _("已取消")


class JointActivity(models.Model):
    """A joint activity (四个一) planned by a community with its resident units."""

    activity_type = models.CharField(_("活动类型"), max_length=12, choices=ActivityType.choices)
    title = models.CharField(_("主题"), max_length=120)
    community = models.ForeignKey(Division, verbose_name=_("社区"), on_delete=models.PROTECT,
                                  related_name="joint_activities")
    planned_at = models.DateTimeField(_("计划时间"), db_index=True)
    place = models.CharField(_("地点"), max_length=120, blank=True)
    planners = models.ManyToManyField(Unit, verbose_name=_("共同组织单位"), related_name="joint_activities")
    pairing = models.ForeignKey("CoBuildingPairing", verbose_name=_("共建项目"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="activities")
    status = models.CharField(_("状态"), max_length=12, choices=ActivityStatus.choices,
                              default=ActivityStatus.PLANNED)
    minutes = models.TextField(_("会议记录"), blank=True)
    held_at = models.DateTimeField(_("举行时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("联合活动")
        verbose_name_plural = _("联合活动")
        ordering = ["-planned_at"]
        indexes = [models.Index(fields=["community", "planned_at"])]

    def __str__(self):
        return self.title


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("出席")
    EXCUSED = "excused", _("请假")
    ABSENT = "absent", _("缺席")


class Attendance(models.Model):
    activity = models.ForeignKey(JointActivity, verbose_name=_("活动"), on_delete=models.CASCADE,
                                 related_name="attendance")
    member = models.ForeignKey(Member, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="attendance")
    status = models.CharField(_("出席情况"), max_length=10, choices=AttendanceStatus.choices)

    class Meta:
        verbose_name = _("出席记录")
        verbose_name_plural = _("出席记录")
        constraints = [models.UniqueConstraint(fields=["activity", "member"], name="party_attendance_once")]

    def __str__(self):
        return f"{self.activity} · {self.member} · {self.status}"


# -- star rating (评星定级) ----------------------------------------------------------------------
class RatingPeriod(models.TextChoices):
    YEAR = "year", _("年度")
    HALF = "half", _("半年")
    QUARTER = "quarter", _("季度")


class StarRuleSet(models.Model):
    """Rules as data: items (source, points, caps, negatives), the scoring period and star thresholds.

    `items`: [{"code", "label", "source", "points", "cap", "negative"}]; `source` is one of
    `party.rating.SOURCES`. `thresholds`: minimum score for 5★, 4★, 3★, 2★ (below: 1★).
    """

    name = models.CharField(_("名称"), max_length=80, unique=True)
    period = models.CharField(_("计分周期"), max_length=8, choices=RatingPeriod.choices, default=RatingPeriod.YEAR)
    base = models.DecimalField(_("基础分"), max_digits=6, decimal_places=1, default=0)
    max_total = models.DecimalField(_("最高分"), max_digits=6, decimal_places=1, null=True, blank=True,
                                    help_text=_("空：可超过 100 分"))
    items = models.JSONField(_("计分项目"))
    thresholds = models.JSONField(_("星级分数线"), help_text=_("五星、四星、三星、二星的最低分"))
    report_required = models.BooleanField(
        _("未报到不得评为合格及以上"), default=True,
        help_text=_("在职党员未到社区报到的，民主评议最高为基本合格"))
    is_default = models.BooleanField(_("默认规则"), default=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("评星规则")
        verbose_name_plural = _("评星规则")
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True),
                                               name="party_one_default_ruleset")]

    def __str__(self):
        return self.name


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("优秀")
    QUALIFIED = "qualified", _("合格")
    BASIC = "basic", _("基本合格")
    UNQUALIFIED = "unqualified", _("不合格")


class StarRating(models.Model):
    """A member's yearly stars: computed from recorded activity, then reviewed by the organisation."""

    member = models.ForeignKey(Member, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="ratings")
    year = models.PositiveSmallIntegerField(_("年度"))
    rule_set = models.ForeignKey(StarRuleSet, verbose_name=_("评星规则"), on_delete=models.PROTECT,
                                 related_name="ratings")
    computed_score = models.DecimalField(_("计算得分"), max_digits=6, decimal_places=1)
    adjustment = models.DecimalField(_("组织调整"), max_digits=6, decimal_places=1, default=0)
    score = models.DecimalField(_("最终得分"), max_digits=6, decimal_places=1)
    stars = models.PositiveSmallIntegerField(_("星级"))
    grade = models.CharField(_("评议等次"), max_length=12, choices=Grade.choices)
    reported = models.BooleanField(_("已报到"))
    explanation = models.JSONField(_("计分说明"), default=dict)
    computed_at = models.DateTimeField(_("计算时间"))
    review_reason = models.TextField(_("调整理由"), blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("审核人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("党员星级")
        verbose_name_plural = _("党员星级")
        ordering = ["-year", "member_id"]
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="party_rating_once_a_year")]

    def __str__(self):
        return f"{self.member} · {self.year} · {self.stars}★"


# -- co-building (1+X+N) -----------------------------------------------------------------------
class PairingKind(models.TextChoices):
    PAIRING = "pairing", _("结对共建")
    ALLIANCE = "alliance", _("行业联盟")


class CoBuildingPairing(models.Model):
    """A co-building (1+X+N, 联动共建): one leading organisation, several partners, many participants."""

    name = models.CharField(_("名称"), max_length=120)
    kind = models.CharField(_("类别"), max_length=12, choices=PairingKind.choices, default=PairingKind.PAIRING)
    lead = models.ForeignKey(Unit, verbose_name=_("牵头单位"), on_delete=models.PROTECT, related_name="pairings_led")
    joint_committee = models.ForeignKey(PartyOrganisation, verbose_name=_("联合党委"), null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="alliances")
    division = models.ForeignKey(Division, verbose_name=_("所在区划"), null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="pairings")
    started_on = models.DateField(_("开始日期"))
    active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(_("创建时间"))

    class Meta:
        verbose_name = _("共建项目")
        verbose_name_plural = _("共建项目")
        ordering = ["-started_on", "id"]

    def __str__(self):
        return self.name


class PartnerTier(models.TextChoices):
    X = "x", _("共建单位（X）")
    N = "n", _("参与主体（N）")


class CoBuildingPartner(models.Model):
    pairing = models.ForeignKey(CoBuildingPairing, verbose_name=_("共建项目"), on_delete=models.CASCADE,
                                related_name="partners")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="pairings")
    tier = models.CharField(_("层次"), max_length=2, choices=PartnerTier.choices, default=PartnerTier.X)
    joined_on = models.DateField(_("加入日期"))

    class Meta:
        verbose_name = _("共建单位")
        verbose_name_plural = _("共建单位")
        constraints = [models.UniqueConstraint(fields=["pairing", "unit"], name="party_partner_once")]

    def __str__(self):
        return f"{self.pairing} · {self.unit}"


class CoBuildingAgreement(models.Model):
    """A written co-building agreement (共建协议) with shared venues and commitments."""

    pairing = models.ForeignKey(CoBuildingPairing, verbose_name=_("共建项目"), on_delete=models.PROTECT,
                                related_name="agreements")
    title = models.CharField(_("标题"), max_length=120)
    text = models.TextField(_("协议内容"), blank=True)
    shared_venues = models.JSONField(_("共享阵地"), default=list, blank=True)
    signed_on = models.DateField(_("签订日期"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("共建协议")
        verbose_name_plural = _("共建协议")
        ordering = ["-signed_on", "id"]

    def __str__(self):
        return self.title


class CommitmentStatus(models.TextChoices):
    OPEN = "open", _("未开始")
    IN_PROGRESS = "in_progress", _("推进中")
    DONE = "done", _("已完成")
    DROPPED = "dropped", _("已终止")


class Commitment(models.Model):
    agreement = models.ForeignKey(CoBuildingAgreement, verbose_name=_("共建协议"), on_delete=models.PROTECT,
                                  related_name="commitments")
    unit = models.ForeignKey(Unit, verbose_name=_("承诺单位"), on_delete=models.PROTECT, related_name="commitments")
    description = models.CharField(_("承诺事项"), max_length=255)
    due_on = models.DateField(_("完成期限"), null=True, blank=True)
    progress = models.PositiveSmallIntegerField(_("进度(%)"), default=0)
    status = models.CharField(_("状态"), max_length=12, choices=CommitmentStatus.choices,
                              default=CommitmentStatus.OPEN)

    class Meta:
        verbose_name = _("共建承诺")
        verbose_name_plural = _("共建承诺")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(progress__lte=100), name="party_progress_max")]

    def __str__(self):
        return self.description


class CommitmentUpdate(models.Model):
    """Appended history of a commitment's progress."""

    commitment = models.ForeignKey(Commitment, verbose_name=_("承诺"), on_delete=models.CASCADE,
                                   related_name="updates")
    progress = models.PositiveSmallIntegerField(_("进度(%)"))
    status = models.CharField(_("状态"), max_length=12, choices=CommitmentStatus.choices)
    note = models.CharField(_("进展说明"), max_length=255, blank=True)
    at = models.DateTimeField(_("时间"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("填报人"), null=True, blank=True,
                           on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("承诺进展")
        verbose_name_plural = _("承诺进展")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.commitment} · {self.progress}%"


class ProblemStatus(models.TextChoices):
    OPEN = "open", _("待解决")
    SOLVED = "solved", _("已共同解决")
    WORK_ORDER = "work_order", _("已转工单")


class CoBuildingProblem(models.Model):
    """A problem raised in co-building: solved together, or turned into a work order.

    The order is referenced by id and code, not a foreign key: dispatch owns its tables and
    party only calls its services (ARCHITECTURE: dependencies point down the spine).
    """

    pairing = models.ForeignKey(CoBuildingPairing, verbose_name=_("共建项目"), on_delete=models.PROTECT,
                                related_name="problems")
    title = models.CharField(_("问题"), max_length=120)
    description = models.TextField(_("说明"), blank=True)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=ProblemStatus.choices, default=ProblemStatus.OPEN)
    resolution = models.TextField(_("解决情况"), blank=True)
    work_order_id = models.BigIntegerField(_("工单编号"), null=True, blank=True)
    work_order_code = models.CharField(_("工单号"), max_length=32, blank=True)
    raised_at = models.DateTimeField(_("提出时间"))
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("提出人"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("共建问题")
        verbose_name_plural = _("共建问题")
        ordering = ["-raised_at"]

    def __str__(self):
        return self.title


# -- representatives' studios (党代表工作室) ------------------------------------------------------
class RepresentativeLevel(models.TextChoices):
    NATIONAL = "national", _("全国党代表")
    PROVINCE = "province", _("省党代表")
    CITY = "city", _("市党代表")
    DISTRICT = "district", _("区党代表")
    STREET = "street", _("镇（街道）党代表")


class Representative(models.Model):
    """A Party representative (党代表) of one of the five levels; takes turns at community studios."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("人员"), on_delete=models.PROTECT,
                             related_name="party_representative_posts")
    level = models.CharField(_("党代表层级"), max_length=10, choices=RepresentativeLevel.choices, db_index=True)
    term = models.CharField(_("届次"), max_length=40, blank=True, help_text=_("例如：第十二次党代会"))
    constituency = models.CharField(_("选举单位"), max_length=120, blank=True)
    active = models.BooleanField(_("在任"), default=True)
    registered_at = models.DateTimeField(_("登记时间"))

    class Meta:
        verbose_name = _("党代表")
        verbose_name_plural = _("党代表")
        ordering = ["level", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "level"], condition=models.Q(active=True),
                                               name="party_representative_once_per_level")]

    def __str__(self):
        return f"{self.user} · {self.get_level_display()}"


class Studio(models.Model):
    """A representatives' studio (党代表工作室) in a community, where residents come to be heard."""

    name = models.CharField(_("名称"), max_length=120)
    community = models.ForeignKey(Division, verbose_name=_("所在社区"), on_delete=models.PROTECT,
                                  related_name="party_studios")
    host = models.ForeignKey(PartyOrganisation, verbose_name=_("依托党组织"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="studios")
    address = models.CharField(_("地址"), max_length=255, blank=True)
    opened_on = models.DateField(_("设立日期"))
    active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("党代表工作室")
        verbose_name_plural = _("党代表工作室")
        ordering = ["community__code", "id"]

    def __str__(self):
        return self.name


class StudioDuty(models.Model):
    """One representative's turn on a studio's duty roster (值班安排). Cancelled turns stay as history."""

    studio = models.ForeignKey(Studio, verbose_name=_("工作室"), on_delete=models.PROTECT, related_name="duties")
    representative = models.ForeignKey(Representative, verbose_name=_("值班党代表"), on_delete=models.PROTECT,
                                       related_name="duties")
    starts_at = models.DateTimeField(_("开始时间"), db_index=True)
    ends_at = models.DateTimeField(_("结束时间"))
    cancelled = models.BooleanField(_("已取消"), default=False)
    cancel_reason = models.CharField(_("取消原因"), max_length=255, blank=True)
    scheduled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("安排人"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("值班安排")
        verbose_name_plural = _("值班安排")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["studio", "starts_at"])]
        constraints = [models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                              name="party_duty_ends_after_start")]

    def __str__(self):
        return f"{self.studio} · {self.representative} · {self.starts_at:%Y-%m-%d %H:%M}"


class VisitStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    ANSWERED = "answered", _("已答复")
    WORK_ORDER = "work_order", _("已转工单")


class StudioVisit(models.Model):
    """A resident's visit to a studio (接待来访): answered there, or turned into a work order.

    The order is referenced by id and code, as with co-building problems: dispatch owns its tables.
    """

    studio = models.ForeignKey(Studio, verbose_name=_("工作室"), on_delete=models.PROTECT, related_name="visits")
    duty = models.ForeignKey(StudioDuty, verbose_name=_("值班安排"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="visits")
    representative = models.ForeignKey(Representative, verbose_name=_("接待党代表"), null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="visits")
    visitor_name = models.CharField(_("来访人"), max_length=60, blank=True)
    visitor_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    topic = models.CharField(_("反映事项"), max_length=120)
    content = models.TextField(_("具体内容"), blank=True)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=VisitStatus.choices, default=VisitStatus.OPEN,
                              db_index=True)
    reply = models.TextField(_("答复"), blank=True)
    received_at = models.DateTimeField(_("来访时间"), db_index=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    work_order_id = models.BigIntegerField(_("工单编号"), null=True, blank=True)
    work_order_code = models.CharField(_("工单号"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("来访记录")
        verbose_name_plural = _("来访记录")
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["studio", "status"])]

    def __str__(self):
        return self.topic


# -- the Party-building work system (书记领航, 四级动力轴, "四个一") -------------------------------------
# Each level's yearly plan with its measures list, demonstration sites and key projects; leaders'
# contact points with their visits; districts' joint meetings with their decisions.
class WorkStatus(models.TextChoices):
    OPEN = "open", _("未开始")
    IN_PROGRESS = "in_progress", _("推进中")
    DONE = "done", _("已完成")
    DROPPED = "dropped", _("已终止")


class WorkPlan(models.Model):
    """A Party organisation's yearly work plan (年度工作方案) for the territory it leads.

    `division` is the territory the plan covers (city, district, street or community): it gives the
    plan its level and puts it in a district's roll-up.
    """

    organisation = models.ForeignKey(PartyOrganisation, verbose_name=_("党组织"), on_delete=models.PROTECT,
                                     related_name="work_plans")
    division = models.ForeignKey(Division, verbose_name=_("所辖区划"), on_delete=models.PROTECT,
                                 related_name="party_work_plans")
    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("方案名称"), max_length=120)
    summary = models.TextField(_("主要内容"), blank=True)
    created_at = models.DateTimeField(_("建立时间"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("建立人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("年度工作方案")
        verbose_name_plural = _("年度工作方案")
        ordering = ["-year", "division__code"]
        constraints = [models.UniqueConstraint(fields=["organisation", "year"], name="party_work_plan_once_a_year")]

    def __str__(self):
        return f"{self.year} · {self.title}"


class WorkMeasure(models.Model):
    """One line of a plan's measures list (措施清单): what, who owns it, by when, how far."""

    plan = models.ForeignKey(WorkPlan, verbose_name=_("年度工作方案"), on_delete=models.CASCADE,
                             related_name="measures")
    item = models.CharField(_("措施"), max_length=255)
    owner_unit = models.ForeignKey(Unit, verbose_name=_("责任单位"), null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    owner_name = models.CharField(_("责任人"), max_length=60, blank=True)
    due_on = models.DateField(_("完成时限"))
    progress = models.PositiveSmallIntegerField(_("进度(%)"), default=0)
    status = models.CharField(_("状态"), max_length=12, choices=WorkStatus.choices, default=WorkStatus.OPEN,
                              db_index=True)

    class Meta:
        verbose_name = _("工作措施")
        verbose_name_plural = _("工作措施")
        ordering = ["due_on", "id"]

    def __str__(self):
        return self.item


class DemonstrationSite(models.Model):
    """A demonstration site (示范点) the plan builds: a division or an organisation, with a theme."""

    plan = models.ForeignKey(WorkPlan, verbose_name=_("年度工作方案"), on_delete=models.CASCADE,
                             related_name="sites")
    name = models.CharField(_("名称"), max_length=120)
    division = models.ForeignKey(Division, verbose_name=_("所在区划"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(PartyOrganisation, verbose_name=_("党组织"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    theme = models.CharField(_("示范主题"), max_length=120)
    rating = models.PositiveSmallIntegerField(_("评定星级"), null=True, blank=True, help_text=_("1–5 星；空：未评定"))
    designated_on = models.DateField(_("确定日期"))

    class Meta:
        verbose_name = _("示范点")
        verbose_name_plural = _("示范点")
        ordering = ["plan", "id"]

    def __str__(self):
        return self.name


class KeyProject(models.Model):
    """A key project (重点项目) of a plan: owner, milestones, progress, an optional budget."""

    plan = models.ForeignKey(WorkPlan, verbose_name=_("年度工作方案"), on_delete=models.CASCADE,
                             related_name="projects")
    name = models.CharField(_("项目名称"), max_length=120)
    owner_unit = models.ForeignKey(Unit, verbose_name=_("责任单位"), null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    owner_name = models.CharField(_("责任人"), max_length=60, blank=True)
    budget = models.DecimalField(_("预算（万元）"), max_digits=12, decimal_places=2, null=True, blank=True)
    due_on = models.DateField(_("完成时限"), null=True, blank=True)
    progress = models.PositiveSmallIntegerField(_("进度(%)"), default=0)
    status = models.CharField(_("状态"), max_length=12, choices=WorkStatus.choices, default=WorkStatus.OPEN,
                              db_index=True)

    class Meta:
        verbose_name = _("重点项目")
        verbose_name_plural = _("重点项目")
        ordering = ["plan", "id"]

    def __str__(self):
        return self.name


class Milestone(models.Model):
    """A dated step of a measure or of a key project; overdue when not done by its date (Beijing)."""

    measure = models.ForeignKey(WorkMeasure, verbose_name=_("工作措施"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="milestones")
    project = models.ForeignKey(KeyProject, verbose_name=_("重点项目"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("节点"), max_length=120)
    due_on = models.DateField(_("计划日期"))
    done_on = models.DateField(_("完成日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("节点")
        verbose_name_plural = _("节点")
        ordering = ["due_on", "id"]
        constraints = [models.CheckConstraint(
            condition=(models.Q(measure__isnull=False, project__isnull=True)
                       | models.Q(measure__isnull=True, project__isnull=False)),
            name="party_milestone_one_owner")]

    def __str__(self):
        return self.title


class WorkProgress(models.Model):
    """A progress report on a measure or key project (history, appended, never edited)."""

    measure = models.ForeignKey(WorkMeasure, verbose_name=_("工作措施"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="updates")
    project = models.ForeignKey(KeyProject, verbose_name=_("重点项目"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="updates")
    progress = models.PositiveSmallIntegerField(_("进度(%)"))
    status = models.CharField(_("状态"), max_length=12, choices=WorkStatus.choices)
    note = models.CharField(_("进展说明"), max_length=255, blank=True)
    at = models.DateTimeField(_("时间"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("填报人"), null=True, blank=True,
                           on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("工作进展")
        verbose_name_plural = _("工作进展")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.measure or self.project} · {self.progress}%"


class ContactPoint(models.Model):
    """A leader's contact point (联系点) at a street or community, which they visit in person."""

    leader = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("联系领导"), on_delete=models.PROTECT,
                               related_name="party_contact_points")
    division = models.ForeignKey(Division, verbose_name=_("联系街道（社区）"), on_delete=models.PROTECT,
                                 related_name="party_contact_points")
    post = models.CharField(_("职务"), max_length=60, blank=True, help_text=_("例如：市委常委"))
    since = models.DateField(_("建立日期"))
    active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("领导联系点")
        verbose_name_plural = _("领导联系点")
        ordering = ["division__code", "id"]
        constraints = [models.UniqueConstraint(fields=["leader", "division"], condition=models.Q(active=True),
                                               name="party_contact_point_once")]

    def __str__(self):
        return f"{self.leader} · {self.division}"


class ContactVisit(models.Model):
    """A leader's visit to their contact point: who went, what was found, the follow-ups.

    A problem found can become a work order, referenced by id and code as co-building problems are.
    """

    point = models.ForeignKey(ContactPoint, verbose_name=_("联系点"), on_delete=models.PROTECT, related_name="visits")
    visited_on = models.DateField(_("走访日期"), db_index=True)
    visitors = models.CharField(_("参加人员"), max_length=255)
    findings = models.TextField(_("发现的问题"), blank=True)
    follow_ups = models.TextField(_("跟进事项"), blank=True)
    address = models.CharField(_("问题地址"), max_length=255, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    work_order_id = models.BigIntegerField(_("工单编号"), null=True, blank=True)
    work_order_code = models.CharField(_("工单号"), max_length=32, blank=True)
    recorded_at = models.DateTimeField(_("登记时间"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("联系点走访")
        verbose_name_plural = _("联系点走访")
        ordering = ["-visited_on", "-id"]

    def __str__(self):
        return f"{self.point} · {self.visited_on}"


class JointMeeting(models.Model):
    """A district's Party-building joint meeting (党建联席会议), the "first-line headquarters"."""

    district = models.ForeignKey(Division, verbose_name=_("区"), on_delete=models.PROTECT,
                                 related_name="party_joint_meetings")
    title = models.CharField(_("会议名称"), max_length=120)
    held_on = models.DateField(_("召开日期"), db_index=True)
    agenda = models.JSONField(_("议题"), default=list, blank=True)
    created_at = models.DateTimeField(_("登记时间"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("党建联席会议")
        verbose_name_plural = _("党建联席会议")
        ordering = ["-held_on", "-id"]

    def __str__(self):
        return self.title


class MeetingAttendance(models.Model):
    """Whether a member unit was present at a joint meeting."""

    meeting = models.ForeignKey(JointMeeting, verbose_name=_("会议"), on_delete=models.CASCADE,
                                related_name="attendance")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    present = models.BooleanField(_("出席"), default=True)

    class Meta:
        verbose_name = _("会议出席")
        verbose_name_plural = _("会议出席")
        ordering = ["meeting", "unit__code"]
        constraints = [models.UniqueConstraint(fields=["meeting", "unit"], name="party_meeting_unit_once")]

    def __str__(self):
        return f"{self.meeting} · {self.unit}"


class DecisionStatus(models.TextChoices):
    OPEN = "open", _("待落实")
    DONE = "done", _("已落实")


class MeetingDecision(models.Model):
    """A decision of a joint meeting (议定事项), owned by a unit and tracked to done by its date."""

    meeting = models.ForeignKey(JointMeeting, verbose_name=_("会议"), on_delete=models.CASCADE,
                                related_name="decisions")
    text = models.CharField(_("议定事项"), max_length=255)
    owner_unit = models.ForeignKey(Unit, verbose_name=_("责任单位"), on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField(_("完成时限"))
    status = models.CharField(_("状态"), max_length=8, choices=DecisionStatus.choices, default=DecisionStatus.OPEN,
                              db_index=True)
    done_on = models.DateField(_("落实日期"), null=True, blank=True)
    done_note = models.CharField(_("落实情况"), max_length=255, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("议定事项")
        verbose_name_plural = _("议定事项")
        ordering = ["due_on", "id"]

    def __str__(self):
        return self.text
