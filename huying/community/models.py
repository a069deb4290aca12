"""协同共治: deliberation halls, co-governance projects, volunteers (issue 15).

Each part appends its models below under its own header; the spine (Division, Grid, Unit, User,
WorkOrder) is referred to, never copied (ARCHITECTURE.md)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# -- projects --
# 共治项目: lift retrofits (加装电梯), elderly canteens (长者饭堂), old-estate micro-renovation (微改造).


class LiftState(models.TextChoices):
    DESIGN = "design", _("方案设计")
    APPROVAL = "approval", _("审批")
    WORKS = "works", _("施工")
    ACCEPTANCE = "acceptance", _("竣工验收")


class LiftProject(models.Model):
    """A lift retrofit in an old building (既有住宅加装电梯), decided by the building's owners."""

    building = models.ForeignKey("territory.Building", verbose_name=_("楼栋"), on_delete=models.PROTECT,
                                 related_name="lift_projects")
    community = models.ForeignKey("territory.Division", verbose_name=_("社区"), on_delete=models.PROTECT,
                                  related_name="lift_projects")
    title = models.CharField(_("项目名称"), max_length=120)
    state = models.CharField(_("阶段"), max_length=12, choices=LiftState.choices, default=LiftState.DESIGN,
                             db_index=True)
    total_cost = models.DecimalField(_("总造价(元)"), max_digits=12, decimal_places=2, default=0)
    created_at = models.DateTimeField(_("创建时间"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True,
                                   blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("加装电梯项目")
        verbose_name_plural = _("加装电梯项目")
        ordering = ["-created_at", "pk"]

    def __str__(self):
        return self.title


class OwnerVote(models.TextChoices):
    AGREE = "agree", _("同意")
    DISAGREE = "disagree", _("反对")
    ABSTAIN = "abstain", _("弃权")
    NONE = "none", _("未参与表决")


class LiftOwner(models.Model):
    """An owner (业主) of one flat in the building, with their exclusive area and their vote."""

    project = models.ForeignKey(LiftProject, verbose_name=_("项目"), on_delete=models.CASCADE,
                                related_name="owners")
    flat = models.CharField(_("单元/房号"), max_length=30)
    floor = models.PositiveSmallIntegerField(_("楼层"))
    area_m2 = models.DecimalField(_("专有部分面积(平方米)"), max_digits=8, decimal_places=2)
    name = models.CharField(_("业主姓名"), max_length=60)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("业主账号"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="lift_flats")
    vote = models.CharField(_("表决意见"), max_length=10, choices=OwnerVote.choices, default=OwnerVote.NONE)
    voted_at = models.DateTimeField(_("表决时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("业主")
        verbose_name_plural = _("业主")
        ordering = ["project", "floor", "flat"]
        constraints = [models.UniqueConstraint(fields=["project", "flat"], name="lift_owner_flat_unique")]

    def __str__(self):
        return f"{self.project_id} · {self.flat}"


class HouseholdType(models.TextChoices):
    ORDINARY = "ordinary", _("普通老人")
    LOW_INCOME = "low_income", _("低保、低收入家庭老人")
    DESTITUTE = "destitute", _("特困供养老人")


class Canteen(models.Model):
    """An elderly canteen (长者饭堂) serving a community."""

    community = models.ForeignKey("territory.Division", verbose_name=_("社区"), on_delete=models.PROTECT,
                                  related_name="canteens")
    name = models.CharField(_("名称"), max_length=120)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    operator = models.ForeignKey("people.Unit", verbose_name=_("运营机构"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="canteens")
    meal_price = models.DecimalField(_("每餐价格(元)"), max_digits=6, decimal_places=2, default=15)
    created_at = models.DateTimeField(_("创建时间"))

    class Meta:
        verbose_name = _("长者饭堂")
        verbose_name_plural = _("长者饭堂")
        ordering = ["community", "name"]

    def __str__(self):
        return self.name


class CanteenEnrolment(models.Model):
    """A resident enrolled to eat at a canteen (助餐登记)."""

    canteen = models.ForeignKey(Canteen, verbose_name=_("长者饭堂"), on_delete=models.CASCADE,
                                related_name="enrolments")
    name = models.CharField(_("姓名"), max_length=60)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    age = models.PositiveSmallIntegerField(_("年龄"))
    household_type = models.CharField(_("家庭类别"), max_length=12, choices=HouseholdType.choices,
                                      default=HouseholdType.ORDINARY)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("账号"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="canteen_enrolments")
    enrolled_on = models.DateField(_("登记日期"))

    class Meta:
        verbose_name = _("助餐登记")
        verbose_name_plural = _("助餐登记")
        ordering = ["canteen", "pk"]

    def __str__(self):
        return f"{self.canteen_id} · {self.pk}"


class CanteenMeal(models.Model):
    """One meal served to an enrolled diner, with the subsidy the rules gave it that day."""

    canteen = models.ForeignKey(Canteen, verbose_name=_("长者饭堂"), on_delete=models.CASCADE,
                                related_name="meals")
    enrolment = models.ForeignKey(CanteenEnrolment, verbose_name=_("就餐人"), on_delete=models.CASCADE,
                                  related_name="meals")
    served_on = models.DateField(_("就餐日期"), db_index=True)
    price = models.DecimalField(_("价格(元)"), max_digits=6, decimal_places=2)
    subsidy = models.DecimalField(_("补贴(元)"), max_digits=6, decimal_places=2)

    class Meta:
        verbose_name = _("助餐记录")
        verbose_name_plural = _("助餐记录")
        ordering = ["-served_on", "pk"]

    def __str__(self):
        return f"{self.canteen_id} · {self.served_on}"


class CanteenRating(models.Model):
    """A diner's rating of a canteen (1–5 stars)."""

    canteen = models.ForeignKey(Canteen, verbose_name=_("长者饭堂"), on_delete=models.CASCADE,
                                related_name="ratings")
    enrolment = models.ForeignKey(CanteenEnrolment, verbose_name=_("就餐人"), on_delete=models.CASCADE,
                                  related_name="ratings")
    stars = models.PositiveSmallIntegerField(_("评分"))
    comment = models.CharField(_("评价"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("评价时间"))

    class Meta:
        verbose_name = _("就餐评价")
        verbose_name_plural = _("就餐评价")
        ordering = ["-created_at", "pk"]

    def __str__(self):
        return f"{self.canteen_id} · {self.stars}★"


class RenovationStage(models.TextChoices):
    PLANNING = "planning", _("征求意见")
    DESIGN = "design", _("方案设计")
    CONSTRUCTION = "construction", _("施工")
    ACCEPTED = "accepted", _("竣工验收")


class Renovation(models.Model):
    """An old-estate micro-renovation project (老旧小区微改造) in a community."""

    community = models.ForeignKey("territory.Division", verbose_name=_("社区"), on_delete=models.PROTECT,
                                  related_name="renovations")
    title = models.CharField(_("项目名称"), max_length=120)
    stage = models.CharField(_("阶段"), max_length=14, choices=RenovationStage.choices,
                             default=RenovationStage.PLANNING, db_index=True)
    progress = models.PositiveSmallIntegerField(_("进度(%)"), default=0)
    created_at = models.DateTimeField(_("创建时间"))

    class Meta:
        verbose_name = _("微改造项目")
        verbose_name_plural = _("微改造项目")
        ordering = ["-created_at", "pk"]

    def __str__(self):
        return self.title


class RenovationContribution(models.Model):
    """What an enterprise or agency (共建单位) contributed to a micro-renovation."""

    renovation = models.ForeignKey(Renovation, verbose_name=_("微改造项目"), on_delete=models.CASCADE,
                                   related_name="contributions")
    unit = models.ForeignKey("people.Unit", verbose_name=_("共建单位"), on_delete=models.PROTECT,
                             related_name="renovation_contributions")
    what = models.CharField(_("贡献内容"), max_length=200)
    amount = models.DecimalField(_("折合金额(元)"), max_digits=12, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("共建贡献")
        verbose_name_plural = _("共建贡献")
        ordering = ["renovation", "pk"]

    def __str__(self):
        return self.what


# -- volunteers --


class TeamType(models.TextChoices):
    NEIGHBOURHOOD_WATCH = "watch", _("广州街坊（群防共治）")
    RIVER_CHIEFS = "river", _("民间河长")
    SERVICE = "service", _("志愿服务队")


class VolunteerTeam(models.Model):
    """A volunteer team's profile (志愿服务队): the people.Unit of kind volunteer_team it describes."""

    unit = models.OneToOneField("people.Unit", verbose_name=_("单位"), on_delete=models.PROTECT,
                                related_name="volunteer_team")
    team_type = models.CharField(_("队伍类型"), max_length=12, choices=TeamType.choices, default=TeamType.SERVICE)
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("队长"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="led_volunteer_teams")

    class Meta:
        verbose_name = _("志愿服务队")
        verbose_name_plural = _("志愿服务队")

    def __str__(self):
        return str(self.unit)


class VolunteerProfile(models.Model):
    """A registered volunteer (志愿者): only what the work needs, skills and availability."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("人员"), on_delete=models.CASCADE,
                                related_name="volunteer_profile")
    skills = models.CharField(_("技能特长"), max_length=200, blank=True)
    availability = models.CharField(_("可服务时间"), max_length=200, blank=True)
    registered_by = models.ForeignKey("people.Unit", verbose_name=_("登记单位"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="registered_volunteers")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("志愿者")
        verbose_name_plural = _("志愿者")

    def __str__(self):
        return str(self.user)


class VolunteerActivity(models.Model):
    """A team's volunteer activity (志愿活动) people sign up to, with a capacity and a time span."""

    team = models.ForeignKey(VolunteerTeam, verbose_name=_("志愿服务队"), on_delete=models.PROTECT,
                             related_name="activities")
    title = models.CharField(_("活动名称"), max_length=120)
    place = models.CharField(_("地点"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("开始时间"), db_index=True)
    ends_at = models.DateTimeField(_("结束时间"))
    capacity = models.PositiveIntegerField(_("名额"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发布人"), null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("发布时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("志愿活动")
        verbose_name_plural = _("志愿活动")
        ordering = ["starts_at", "id"]

    def __str__(self):
        return self.title


class ActivitySignup(models.Model):
    """A volunteer's sign-up (报名), check-in (签到), check-out (签退) and the hours credited."""

    activity = models.ForeignKey(VolunteerActivity, verbose_name=_("志愿活动"), on_delete=models.CASCADE,
                                 related_name="signups")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("志愿者"), on_delete=models.PROTECT,
                             related_name="volunteer_signups")
    signed_up_at = models.DateTimeField(_("报名时间"))
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("签退时间"), null=True, blank=True)
    hours = models.DecimalField(_("服务时长（小时）"), max_digits=6, decimal_places=2, default=0)
    served_on = models.DateField(_("服务日期"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("活动报名")
        verbose_name_plural = _("活动报名")
        constraints = [models.UniqueConstraint(fields=["activity", "user"], name="vol_signup_unique")]
        indexes = [models.Index(fields=["user", "served_on"])]

    def __str__(self):
        return f"{self.activity_id}·{self.user_id}"


class RiverStretch(models.Model):
    """A river stretch (河段) a river chief patrols: the grids or community it runs through."""

    name = models.CharField(_("河段名称"), max_length=120)
    community = models.ForeignKey("territory.Division", verbose_name=_("所在社区"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="river_stretches")
    grids = models.ManyToManyField("territory.Grid", verbose_name=_("流经网格"), blank=True,
                                   related_name="river_stretches")
    geometry = models.TextField(_("走向(GeoJSON)"), blank=True)

    class Meta:
        verbose_name = _("河段")
        verbose_name_plural = _("河段")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class PatrolKind(models.TextChoices):
    RIVER = "river", _("巡河")
    WATCH = "watch", _("街坊巡查")


class Patrol(models.Model):
    """A volunteer's patrol (巡河 / 巡查) on a river stretch or a grid, with its findings."""

    team = models.ForeignKey(VolunteerTeam, verbose_name=_("志愿服务队"), on_delete=models.PROTECT,
                             related_name="patrols")
    patroller = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("巡查人"),
                                  on_delete=models.PROTECT, related_name="volunteer_patrols")
    kind = models.CharField(_("类型"), max_length=8, choices=PatrolKind.choices)
    stretch = models.ForeignKey(RiverStretch, verbose_name=_("河段"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="patrols")
    grid = models.ForeignKey("territory.Grid", verbose_name=_("网格"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="volunteer_patrols")
    patrolled_at = models.DateTimeField(_("巡查时间"), db_index=True)
    note = models.TextField(_("巡查记录"), blank=True)

    class Meta:
        verbose_name = _("巡查")
        verbose_name_plural = _("巡查")
        ordering = ["-patrolled_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.patrolled_at:%Y-%m-%d}"


class PatrolFinding(models.Model):
    """One thing seen on a patrol; a problem becomes a work order (channel "volunteer")."""

    patrol = models.ForeignKey(Patrol, verbose_name=_("巡查"), on_delete=models.CASCADE, related_name="findings")
    description = models.CharField(_("发现情况"), max_length=500)
    is_problem = models.BooleanField(_("需处置的问题"), default=False)
    subject_code = models.CharField(_("事项分类"), max_length=20, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    work_order_id = models.BigIntegerField(_("工单"), null=True, blank=True)
    work_order_code = models.CharField(_("工单编号"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("巡查发现")
        verbose_name_plural = _("巡查发现")
        ordering = ["id"]

    def __str__(self):
        return self.description


# -- halls --
# 议事厅: one hall per community; matters, meetings, votes, resolutions and disputes.



class Hall(models.Model):
    """A community's deliberation hall (议事厅); the vote rules below are its defaults, copied onto each vote."""

    division = models.OneToOneField("territory.Division", verbose_name=_("社区"), on_delete=models.PROTECT,
                                    related_name="hall")
    convener_unit = models.ForeignKey("people.Unit", verbose_name=_("召集单位"), on_delete=models.PROTECT,
                                      related_name="halls")
    name = models.CharField(_("名称"), max_length=120)
    quorum_share = models.DecimalField(_("法定人数比例"), max_digits=4, decimal_places=3, default=Decimal("0.500"))
    pass_share = models.DecimalField(_("通过比例"), max_digits=4, decimal_places=3, default=Decimal("0.500"))
    secret = models.BooleanField(_("无记名投票"), default=False)
    per_household = models.BooleanField(_("按户表决"), default=True)
    created_at = models.DateTimeField(_("创建时间"))

    class Meta:
        verbose_name = _("议事厅")
        verbose_name_plural = _("议事厅")

    def __str__(self):
        return self.name


class HallVoter(models.Model):
    """A person on the hall's roll (议事名册): who may vote, and in which household."""

    hall = models.ForeignKey(Hall, verbose_name=_("议事厅"), on_delete=models.CASCADE, related_name="voters")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("人员"), on_delete=models.CASCADE,
                             related_name="hall_rolls")
    household = models.CharField(_("户"), max_length=60)
    added_at = models.DateTimeField(_("登记时间"))

    class Meta:
        verbose_name = _("议事名册")
        verbose_name_plural = _("议事名册")
        constraints = [models.UniqueConstraint(fields=["hall", "user"], name="community_hallvoter_once")]

    def __str__(self):
        return f"{self.hall_id}:{self.household}"


class MatterStatus(models.TextChoices):
    OPEN = "open", _("待议")
    SCHEDULED = "scheduled", _("已列入议程")
    RESOLVED = "resolved", _("已形成决议")
    REJECTED = "rejected", _("未通过")
    WORK_ORDER = "work_order", _("已转工单")


class RaiserKind(models.TextChoices):
    RESIDENT = "resident", _("居民")
    PARTY_MEMBER = "party_member", _("党员")
    UNIT = "unit", _("单位")
    HOT_ISSUE = "hot_issue", _("热点诉求")


class Matter(models.Model):
    """A matter (议题) brought to the hall."""

    hall = models.ForeignKey(Hall, verbose_name=_("议事厅"), on_delete=models.CASCADE, related_name="matters")
    title = models.CharField(_("议题"), max_length=120)
    body = models.TextField(_("说明"), blank=True)
    raiser = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("提出人"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    raiser_kind = models.CharField(_("提出方"), max_length=20, choices=RaiserKind.choices)
    raiser_unit = models.ForeignKey("people.Unit", verbose_name=_("提出单位"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    raiser_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=MatterStatus.choices, default=MatterStatus.OPEN)
    source_key = models.CharField(_("来源"), max_length=60, blank=True, db_index=True)
    work_order_id = models.BigIntegerField(_("工单"), null=True, blank=True)
    work_order_code = models.CharField(_("工单编号"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("提出时间"))

    class Meta:
        verbose_name = _("议题")
        verbose_name_plural = _("议题")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title


class Meeting(models.Model):
    """A hall meeting (议事会) with its agenda, attendance and minutes."""

    hall = models.ForeignKey(Hall, verbose_name=_("议事厅"), on_delete=models.CASCADE, related_name="meetings")
    title = models.CharField(_("会议名称"), max_length=120)
    starts_at = models.DateTimeField(_("时间"))
    place = models.CharField(_("地点"), max_length=120, blank=True)
    matters = models.ManyToManyField(Matter, verbose_name=_("议程"), related_name="meetings", blank=True)
    held = models.BooleanField(_("已召开"), default=False)
    minutes = models.TextField(_("会议纪要"), blank=True)

    class Meta:
        verbose_name = _("议事会")
        verbose_name_plural = _("议事会")
        ordering = ["-starts_at", "-id"]

    def __str__(self):
        return self.title


class Attendance(models.Model):
    meeting = models.ForeignKey(Meeting, verbose_name=_("议事会"), on_delete=models.CASCADE,
                                related_name="attendance")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("人员"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    household = models.CharField(_("户"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("出席")
        verbose_name_plural = _("出席")
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="community_attendance_once")]

    def __str__(self):
        return self.household


class Vote(models.Model):
    """A vote (表决) on a matter, with the hall's rules copied at opening; the result is set when it closes."""

    hall = models.ForeignKey(Hall, verbose_name=_("议事厅"), on_delete=models.CASCADE, related_name="votes")
    matter = models.ForeignKey(Matter, verbose_name=_("议题"), on_delete=models.CASCADE, related_name="votes")
    meeting = models.ForeignKey(Meeting, verbose_name=_("议事会"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="votes")
    question = models.CharField(_("表决事项"), max_length=200)
    quorum_share = models.DecimalField(_("法定人数比例"), max_digits=4, decimal_places=3)
    pass_share = models.DecimalField(_("通过比例"), max_digits=4, decimal_places=3)
    secret = models.BooleanField(_("无记名投票"))
    per_household = models.BooleanField(_("按户表决"))
    is_open = models.BooleanField(_("投票中"), default=True)
    opened_at = models.DateTimeField(_("开始时间"))
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    eligible = models.PositiveIntegerField(_("应投票数"), default=0)
    counted = models.PositiveIntegerField(_("有效票数"), default=0)
    yes = models.PositiveIntegerField(_("赞成"), default=0)
    no = models.PositiveIntegerField(_("反对"), default=0)
    abstain = models.PositiveIntegerField(_("弃权"), default=0)
    quorum_met = models.BooleanField(_("达到法定人数"), null=True)
    passed = models.BooleanField(_("通过"), null=True)

    class Meta:
        verbose_name = _("表决")
        verbose_name_plural = _("表决")
        ordering = ["-opened_at", "-id"]

    def __str__(self):
        return self.question


class Choice(models.TextChoices):
    YES = "yes", _("赞成")
    NO = "no", _("反对")
    ABSTAIN = "abstain", _("弃权")


class Ballot(models.Model):
    vote = models.ForeignKey(Vote, verbose_name=_("表决"), on_delete=models.CASCADE, related_name="ballots")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("投票人"), on_delete=models.CASCADE,
                              related_name="+")
    household = models.CharField(_("户"), max_length=60)
    choice = models.CharField(_("选择"), max_length=10, choices=Choice.choices)
    cast_at = models.DateTimeField(_("投票时间"))

    class Meta:
        verbose_name = _("选票")
        verbose_name_plural = _("选票")
        constraints = [models.UniqueConstraint(fields=["vote", "voter"], name="community_ballot_once")]

    def __str__(self):
        return f"{self.vote_id}:{self.household}"


class Resolution(models.Model):
    """A resolution (决议) and its follow-through; done when all its tasks are done."""

    hall = models.ForeignKey(Hall, verbose_name=_("议事厅"), on_delete=models.CASCADE, related_name="resolutions")
    matter = models.ForeignKey(Matter, verbose_name=_("议题"), on_delete=models.CASCADE, related_name="resolutions")
    vote = models.ForeignKey(Vote, verbose_name=_("表决"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    text = models.TextField(_("决议内容"))
    done = models.BooleanField(_("已落实"), default=False)
    created_at = models.DateTimeField(_("形成时间"))
    done_at = models.DateTimeField(_("落实时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("决议")
        verbose_name_plural = _("决议")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.text[:40]


class ResolutionTask(models.Model):
    resolution = models.ForeignKey(Resolution, verbose_name=_("决议"), on_delete=models.CASCADE,
                                   related_name="tasks")
    title = models.CharField(_("任务"), max_length=120)
    owner_unit = models.ForeignKey("people.Unit", verbose_name=_("责任单位"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    owner_name = models.CharField(_("责任人"), max_length=60, blank=True)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    note = models.CharField(_("进展说明"), max_length=200, blank=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("决议任务")
        verbose_name_plural = _("决议任务")

    def __str__(self):
        return self.title


class DisputeStatus(models.TextChoices):
    OPEN = "open", _("调解中")
    SETTLED = "settled", _("调解成功")
    FAILED = "failed", _("调解未成")


class Dispute(models.Model):
    """A neighbourhood dispute mediated in the hall (矛盾纠纷调解)."""

    hall = models.ForeignKey(Hall, verbose_name=_("议事厅"), on_delete=models.CASCADE, related_name="disputes")
    title = models.CharField(_("纠纷"), max_length=120)
    parties = models.CharField(_("当事人"), max_length=200)
    description = models.TextField(_("情况"), blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    outcome = models.TextField(_("调解结果"), blank=True)
    opened_at = models.DateTimeField(_("受理时间"))
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("纠纷调解")
        verbose_name_plural = _("纠纷调解")
        ordering = ["-opened_at", "-id"]

    def __str__(self):
        return self.title
