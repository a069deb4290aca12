"""Service positions (党群服务阵地): street and community Party-mass service centres and stations in
crowded places, their opening hours (incl. staggered 错时 evening and weekend hours), and the
catalogue of service items each one handles (一门式、一站式)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from huying.people.models import Unit
from huying.territory.models import Building, Division, Grid


class PositionKind(models.TextChoices):
    STREET_CENTRE = "street_centre", _("街道党群服务中心")
    COMMUNITY_CENTRE = "community_centre", _("社区党群服务中心")
    STATION = "station", _("人流密集区服务站")


class ServicePosition(models.Model):
    """A service centre or station (服务阵地) run by a Unit, placed on the territory (WGS-84)."""

    kind = models.CharField(_("类别"), max_length=20, choices=PositionKind.choices, db_index=True)
    name = models.CharField(_("名称"), max_length=120, db_index=True)
    unit = models.ForeignKey(Unit, verbose_name=_("主办单位"), on_delete=models.PROTECT,
                             related_name="service_positions")
    division = models.ForeignKey(Division, verbose_name=_("所在区划"), on_delete=models.PROTECT,
                                 related_name="service_positions")
    grid = models.ForeignKey(Grid, verbose_name=_("所在网格"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="service_positions")
    building = models.ForeignKey(Building, verbose_name=_("所在楼栋"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="service_positions")
    lng = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    address = models.CharField(_("地址"), max_length=255)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    open_on_holidays = models.BooleanField(
        _("法定节假日开放"), default=False,
        help_text=_("是：法定节假日按“节假日”时段开放，未设节假日时段则按当天星期的时段开放"))
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("服务阵地")
        verbose_name_plural = _("服务阵地")
        ordering = ["division__code", "kind", "name"]
        indexes = [models.Index(fields=["active", "kind"])]

    def __str__(self):
        return self.name


class Day(models.IntegerChoices):
    MONDAY = 0, _("星期一")
    TUESDAY = 1, _("星期二")
    WEDNESDAY = 2, _("星期三")
    THURSDAY = 3, _("星期四")
    FRIDAY = 4, _("星期五")
    SATURDAY = 5, _("星期六")
    SUNDAY = 6, _("星期日")
    HOLIDAY = 7, _("法定节假日")


class OpeningHours(models.Model):
    """One opening period of a position on a day of the week (or on statutory holidays)."""

    position = models.ForeignKey(ServicePosition, verbose_name=_("服务阵地"), on_delete=models.CASCADE,
                                 related_name="hours")
    day = models.PositiveSmallIntegerField(_("日"), choices=Day.choices)
    opens = models.TimeField(_("开始"))
    closes = models.TimeField(_("结束"))
    note = models.CharField(_("说明"), max_length=60, blank=True, help_text=_("例如：错时延时服务"))

    class Meta:
        verbose_name = _("开放时段")
        verbose_name_plural = _("开放时段")
        ordering = ["position", "day", "opens"]

    def __str__(self):
        return f"{self.get_day_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class HandlingLevel(models.TextChoices):
    DISTRICT = "district", _("区级")
    STREET = "street", _("街道（镇）级")
    COMMUNITY = "community", _("社区（村）级")


class ServiceItem(models.Model):
    """A service item (服务事项) of the catalogue: what a resident can get done, where, with what."""

    code = models.CharField(_("事项编码"), max_length=40, unique=True)
    name = models.CharField(_("事项名称"), max_length=120, db_index=True)
    category = models.CharField(_("类别"), max_length=40, blank=True, db_index=True)
    level = models.CharField(_("办理层级"), max_length=12, choices=HandlingLevel.choices, db_index=True)
    documents = models.JSONField(_("所需材料"), default=list, blank=True)
    time_limit_days = models.PositiveSmallIntegerField(_("法定办结时限（工作日）"), null=True, blank=True,
                                                       help_text=_("空：即办件"))
    fee = models.CharField(_("收费"), max_length=60, blank=True, help_text=_("空：不收费"))
    legal_basis = models.CharField(_("设定依据"), max_length=255, blank=True)
    departments = models.ManyToManyField(Unit, verbose_name=_("职能部门"), blank=True,
                                         related_name="service_items")
    positions = models.ManyToManyField(ServicePosition, verbose_name=_("办理地点"), blank=True,
                                       related_name="items")
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("服务事项")
        verbose_name_plural = _("服务事项")
        ordering = ["code"]

    def __str__(self):
        return self.name


# -- 社区事务准入 (community work-item admission) and 减负 registers ----------------------------------


class AdmissionListStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    IN_FORCE = "in_force", _("施行中")
    SUPERSEDED = "superseded", _("已废止")


class AdmissionList(models.Model):
    """One version of the list of matters departments may ask of residents' committees (居委会协助政府工作事项清单)."""

    version = models.CharField(_("版本"), max_length=40, unique=True)
    title = models.CharField(_("名称"), max_length=160)
    status = models.CharField(_("状态"), max_length=12, choices=AdmissionListStatus.choices,
                              default=AdmissionListStatus.DRAFT, db_index=True)
    published_on = models.DateField(_("发布日期"), null=True, blank=True)
    superseded_on = models.DateField(_("废止日期"), null=True, blank=True)
    # A version kept only as a record (the old list, its items not stored) states its size here.
    declared_categories = models.PositiveIntegerField(_("类别数（登记）"), null=True, blank=True)
    declared_items = models.PositiveIntegerField(_("事项数（登记）"), null=True, blank=True)
    source_note = models.TextField(_("来源说明"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("准入清单")
        verbose_name_plural = _("准入清单")
        ordering = ["-published_on", "-id"]

    def __str__(self):
        return f"{self.title}（{self.version}）"


class AdmissionItem(models.Model):
    """An admitted matter (准入事项) of one list version; `code` stays the same across versions."""

    admission_list = models.ForeignKey(AdmissionList, verbose_name=_("准入清单"), on_delete=models.CASCADE,
                                       related_name="items")
    code = models.CharField(_("事项编号"), max_length=20)
    category = models.CharField(_("类别"), max_length=60, db_index=True)
    name = models.CharField(_("事项名称"), max_length=200)
    legal_basis = models.CharField(_("设定依据"), max_length=255, blank=True)
    lead_department = models.ForeignKey(Unit, verbose_name=_("牵头部门"), null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="admission_items")
    lead_department_name = models.CharField(_("牵头部门名称"), max_length=120, blank=True)
    funding = models.CharField(_("经费保障"), max_length=160, blank=True)
    revoked_on = models.DateField(_("撤销日期"), null=True, blank=True)
    revoked_reason = models.CharField(_("撤销理由"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("准入事项")
        verbose_name_plural = _("准入事项")
        ordering = ["admission_list", "code"]
        constraints = [models.UniqueConstraint(fields=["admission_list", "code"], name="admission_item_code_unique")]

    def __str__(self):
        return f"{self.code} {self.name}"


class CommunityTaskState(models.TextChoices):
    SENT = "sent", _("待处理")
    ACCEPTED = "accepted", _("已接收")
    REFUSED = "refused", _("未准入，已拒绝")
    RETURNED = "returned", _("已退回")


class CommunityTask(models.Model):
    """A task a department (条) pushes to a residents' committee; without an in-force item it is 未准入."""

    department = models.ForeignKey(Unit, verbose_name=_("交办部门"), on_delete=models.PROTECT,
                                   related_name="community_tasks_sent")
    community = models.ForeignKey(Unit, verbose_name=_("承接社区"), on_delete=models.PROTECT,
                                  related_name="community_tasks_received")
    title = models.CharField(_("任务名称"), max_length=200)
    detail = models.TextField(_("任务内容"), blank=True)
    due_on = models.DateField(_("完成期限"))
    item = models.ForeignKey(AdmissionItem, verbose_name=_("依据准入事项"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="tasks")
    # Whether the cited item was in force when the task was sent (a later revocation does not rewrite it).
    admitted = models.BooleanField(_("已准入"), default=False, db_index=True)
    state = models.CharField(_("状态"), max_length=12, choices=CommunityTaskState.choices,
                             default=CommunityTaskState.SENT, db_index=True)
    reason = models.CharField(_("拒绝或退回理由"), max_length=255, blank=True)
    created_by = models.ForeignKey("people.User", verbose_name=_("交办人"), null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("交办时间"))
    decided_by = models.ForeignKey("people.User", verbose_name=_("处理人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("部门交办社区任务")
        verbose_name_plural = _("部门交办社区任务")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["community", "state"]), models.Index(fields=["department", "state"])]

    def __str__(self):
        return self.title


class ApplicationState(models.TextChoices):
    PENDING = "pending", _("待审核")
    ADMITTED = "admitted", _("已准入")
    REJECTED = "rejected", _("不予准入")


class AdmissionApplication(models.Model):
    """A department's application (申请准入) for a new matter, reviewed within a working-day limit."""

    department = models.ForeignKey(Unit, verbose_name=_("申请部门"), on_delete=models.PROTECT,
                                   related_name="admission_applications")
    category = models.CharField(_("类别"), max_length=60)
    name = models.CharField(_("事项名称"), max_length=200)
    legal_basis = models.CharField(_("设定依据"), max_length=255)
    funding = models.CharField(_("经费保障"), max_length=160)
    reason = models.TextField(_("申请理由"), blank=True)
    state = models.CharField(_("状态"), max_length=12, choices=ApplicationState.choices,
                             default=ApplicationState.PENDING, db_index=True)
    submitted_by = models.ForeignKey("people.User", verbose_name=_("申请人"), null=True, on_delete=models.SET_NULL,
                                     related_name="+")
    submitted_at = models.DateTimeField(_("申请时间"))
    review_due_at = models.DateTimeField(_("审核期限"))
    reviewed_by = models.ForeignKey("people.User", verbose_name=_("审核人"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reviewed_in_time = models.BooleanField(_("按期审核"), null=True, blank=True)
    review_note = models.CharField(_("审核意见"), max_length=255, blank=True)
    item = models.ForeignKey(AdmissionItem, verbose_name=_("准入后的事项"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="applications")

    class Meta:
        verbose_name = _("准入申请")
        verbose_name_plural = _("准入申请")
        ordering = ["review_due_at", "id"]

    def __str__(self):
        return self.name


class BurdenKind(models.TextChoices):
    FORM = "form", _("台账报表")
    LETTER = "letter", _("责任状")
    PLAQUE = "plaque", _("挂牌")


class BurdenStatus(models.TextChoices):
    KEPT = "kept", _("保留")
    CUT = "cut", _("已取消")


class BurdenItem(models.Model):
    """A form, report, responsibility letter or plaque demanded of communities, and whether it was cut (减负)."""

    kind = models.CharField(_("类别"), max_length=10, choices=BurdenKind.choices, db_index=True)
    name = models.CharField(_("名称"), max_length=200)
    department_name = models.CharField(_("要求部门"), max_length=120, blank=True)
    status = models.CharField(_("状态"), max_length=8, choices=BurdenStatus.choices, default=BurdenStatus.KEPT,
                              db_index=True)
    cut_on = models.DateField(_("取消日期"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("减负登记")
        verbose_name_plural = _("减负登记")
        ordering = ["kind", "status", "name"]

    def __str__(self):
        return self.name


# -- 预约与窗口办件 (appointments and desk matters: 全岗通、首问负责制) ----------------------------------


class DeskSetting(models.Model):
    """How a position's appointment slots are cut from its opening hours (absent: the defaults in desk.py)."""

    position = models.OneToOneField(ServicePosition, verbose_name=_("服务阵地"), on_delete=models.CASCADE,
                                    related_name="desk_setting")
    slot_minutes = models.PositiveSmallIntegerField(_("每个预约时段（分钟）"), default=30)
    slot_capacity = models.PositiveSmallIntegerField(_("每个时段可约人数"), default=2)

    class Meta:
        verbose_name = _("预约设置")
        verbose_name_plural = _("预约设置")

    def __str__(self):
        return str(self.position)


class AppointmentState(models.TextChoices):
    BOOKED = "booked", _("已预约")
    CANCELLED = "cancelled", _("已取消")
    TAKEN = "taken", _("已受理")


class Appointment(models.Model):
    """A resident's booking (预约) of one service item in one slot at one position."""

    position = models.ForeignKey(ServicePosition, verbose_name=_("服务阵地"), on_delete=models.PROTECT,
                                 related_name="appointments")
    item = models.ForeignKey(ServiceItem, verbose_name=_("服务事项"), on_delete=models.PROTECT,
                             related_name="appointments")
    slot_start = models.DateTimeField(_("预约时段开始"))
    slot_end = models.DateTimeField(_("预约时段结束"))
    resident = models.ForeignKey("people.User", verbose_name=_("预约人账号"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(_("姓名"), max_length=60)
    phone = models.CharField(_("手机号码"), max_length=20)
    state = models.CharField(_("状态"), max_length=12, choices=AppointmentState.choices,
                             default=AppointmentState.BOOKED, db_index=True)
    created_at = models.DateTimeField(_("预约时间"))
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("预约")
        verbose_name_plural = _("预约")
        ordering = ["slot_start", "id"]
        indexes = [models.Index(fields=["position", "slot_start", "state"])]

    def __str__(self):
        return f"{self.position} {self.slot_start:%Y-%m-%d %H:%M}"


class MatterState(models.TextChoices):
    ACCEPTED = "accepted", _("已受理")
    IN_PROGRESS = "in_progress", _("办理中")
    DONE = "done", _("已办结")
    REFUSED = "refused", _("不予受理")
    TRANSFERRED = "transferred", _("已转办")


class DeskMatter(models.Model):
    """A matter taken at a service desk (窗口办件). The first staff member who takes it owns it
    (首问负责制) until it is finished or handed over; its deadline is the item's legal time limit in
    working days from the moment it was taken. A matter another unit must handle becomes a work
    order, referenced by id and code (dispatch owns its tables)."""

    position = models.ForeignKey(ServicePosition, verbose_name=_("服务阵地"), on_delete=models.PROTECT,
                                 related_name="desk_matters")
    item = models.ForeignKey(ServiceItem, verbose_name=_("服务事项"), on_delete=models.PROTECT,
                             related_name="desk_matters")
    appointment = models.OneToOneField(Appointment, verbose_name=_("预约"), null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="matter")
    resident = models.ForeignKey("people.User", verbose_name=_("申请人账号"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    applicant_name = models.CharField(_("申请人"), max_length=60)
    applicant_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    note = models.CharField(_("情况说明"), max_length=500, blank=True)
    state = models.CharField(_("状态"), max_length=12, choices=MatterState.choices, default=MatterState.ACCEPTED,
                             db_index=True)
    owner = models.ForeignKey("people.User", verbose_name=_("首问责任人"), on_delete=models.PROTECT,
                              related_name="+")
    taken_by = models.ForeignKey("people.User", verbose_name=_("受理人"), on_delete=models.PROTECT,
                                 related_name="+")
    taken_at = models.DateTimeField(_("受理时间"))
    due_at = models.DateTimeField(_("办结期限"))
    overdue = models.BooleanField(_("已超期"), default=False, db_index=True)
    finished_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    finished_by = models.ForeignKey("people.User", verbose_name=_("办结人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    result = models.CharField(_("办理结果或理由"), max_length=500, blank=True)
    work_order_id = models.BigIntegerField(_("工单编号"), null=True, blank=True)
    work_order_code = models.CharField(_("工单号"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("窗口办件")
        verbose_name_plural = _("窗口办件")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["position", "state"]), models.Index(fields=["owner", "state"]),
                   models.Index(fields=["state", "due_at"])]

    def __str__(self):
        return f"{self.item} · {self.applicant_name}"


class MatterHandover(models.Model):
    """A formal hand-over of a matter from its owner to another desk staff member (appended, never edited)."""

    matter = models.ForeignKey(DeskMatter, verbose_name=_("窗口办件"), on_delete=models.CASCADE,
                               related_name="handovers")
    from_user = models.ForeignKey("people.User", verbose_name=_("移交人"), on_delete=models.PROTECT,
                                  related_name="+")
    to_user = models.ForeignKey("people.User", verbose_name=_("接收人"), on_delete=models.PROTECT,
                                related_name="+")
    reason = models.CharField(_("移交理由"), max_length=255)
    at = models.DateTimeField(_("移交时间"))

    class Meta:
        verbose_name = _("办件移交")
        verbose_name_plural = _("办件移交")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.matter} → {self.to_user}"


# -- 社区工作者 (community workers: roster, 三级十八档, assessments) and 街道 "6+1" offices ------------


class WorkerPost(models.TextChoices):
    SECRETARY = "secretary", _("书记")
    DIRECTOR = "director", _("主任")
    DEPUTY = "deputy", _("副书记、副主任")
    MEMBER = "member", _("委员")
    STAFF = "staff", _("专职工作者")


class Education(models.TextChoices):
    SECONDARY = "secondary", _("高中（中专）及以下")
    COLLEGE = "college", _("大专")
    BACHELOR = "bachelor", _("本科")
    GRADUATE = "graduate", _("研究生")


class SocialWorkQualification(models.TextChoices):
    NONE = "", _("无")
    ASSISTANT = "assistant", _("助理社会工作师")
    SOCIAL_WORKER = "social_worker", _("社会工作师")
    SENIOR = "senior", _("高级社会工作师")


class AssessmentResult(models.TextChoices):
    EXCELLENT = "excellent", _("优秀")
    COMPETENT = "competent", _("称职")
    BASIC = "basic", _("基本称职")
    INCOMPETENT = "incompetent", _("不称职")


class PayScale(models.Model):
    """A version of the 三级十八档 pay scale, loaded from a shipped JSON: its grades' coefficients and,
    in `rules`, the post → level map, the grade progression rules and the staffing norm."""

    version = models.CharField(_("版本"), max_length=40, unique=True)
    title = models.CharField(_("名称"), max_length=160)
    in_force = models.BooleanField(_("施行中"), default=False, db_index=True)
    rules = models.JSONField(_("规则"), default=dict)
    source_note = models.TextField(_("来源说明"), blank=True)
    loaded_at = models.DateTimeField(_("载入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("社区工作者薪酬档次表")
        verbose_name_plural = _("社区工作者薪酬档次表")
        ordering = ["-in_force", "-id"]

    def __str__(self):
        return f"{self.title}（{self.version}）"


class PayGrade(models.Model):
    """One grade (档) of one level (级) of a pay scale, with its pay coefficient."""

    scale = models.ForeignKey(PayScale, verbose_name=_("档次表"), on_delete=models.CASCADE, related_name="grades")
    level = models.CharField(_("级别"), max_length=12)
    level_name = models.CharField(_("级别名称"), max_length=20)
    grade = models.PositiveSmallIntegerField(_("档次"))
    coefficient = models.DecimalField(_("薪酬系数"), max_digits=6, decimal_places=3)

    class Meta:
        verbose_name = _("薪酬档次")
        verbose_name_plural = _("薪酬档次")
        ordering = ["scale", "level", "grade"]
        constraints = [models.UniqueConstraint(fields=["scale", "level", "grade"], name="pay_grade_unique")]

    def __str__(self):
        return f"{self.level_name}{self.grade}档"


class CommunityWorker(models.Model):
    """A community worker (社区专职工作人员) on the roster of the residents' committee they work in."""

    user = models.ForeignKey("people.User", verbose_name=_("人员"), on_delete=models.PROTECT,
                             related_name="community_posts")
    unit = models.ForeignKey(Unit, verbose_name=_("所在社区居委会"), on_delete=models.PROTECT,
                             related_name="community_workers")
    post = models.CharField(_("岗位"), max_length=12, choices=WorkerPost.choices)
    level = models.CharField(_("级别"), max_length=12)
    grade = models.PositiveSmallIntegerField(_("档次"), default=1)
    # Progression counts assessments from entry_year on, starting at entry_grade (定档): a worker moved
    # onto the system keeps the grade they already held.
    entry_grade = models.PositiveSmallIntegerField(_("定档档次"), default=1)
    entry_year = models.PositiveSmallIntegerField(_("定档年度"), help_text=_("自该年度起按年度考核结果晋档"))
    started_on = models.DateField(_("从事社区工作时间"))
    education = models.CharField(_("学历"), max_length=12, choices=Education.choices)
    qualification = models.CharField(_("社会工作者职业资格"), max_length=16, choices=SocialWorkQualification.choices,
                                     blank=True)
    active = models.BooleanField(_("在岗"), default=True, db_index=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("社区工作者")
        verbose_name_plural = _("社区工作者")
        ordering = ["unit", "post", "started_on", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "unit"], name="community_worker_unique")]

    def __str__(self):
        return f"{self.user} · {self.unit}"


class WorkerAssessment(models.Model):
    """A worker's yearly assessment (年度考核) result."""

    worker = models.ForeignKey(CommunityWorker, verbose_name=_("社区工作者"), on_delete=models.CASCADE,
                               related_name="assessments")
    year = models.PositiveSmallIntegerField(_("年度"))
    result = models.CharField(_("考核结果"), max_length=12, choices=AssessmentResult.choices)
    note = models.CharField(_("说明"), max_length=255, blank=True)
    recorded_by = models.ForeignKey("people.User", verbose_name=_("登记人"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("年度考核")
        verbose_name_plural = _("年度考核")
        ordering = ["worker", "year"]
        constraints = [models.UniqueConstraint(fields=["worker", "year"], name="worker_assessment_year_unique")]

    def __str__(self):
        return f"{self.year} {self.get_result_display()}"


class GradeChange(models.Model):
    """A change of a worker's grade (晋档、降档), appended when progression is applied."""

    worker = models.ForeignKey(CommunityWorker, verbose_name=_("社区工作者"), on_delete=models.CASCADE,
                               related_name="grade_changes")
    year = models.PositiveSmallIntegerField(_("依据考核年度"))
    old_grade = models.PositiveSmallIntegerField(_("原档次"))
    new_grade = models.PositiveSmallIntegerField(_("新档次"))
    reason = models.CharField(_("理由"), max_length=255)
    actor = models.ForeignKey("people.User", verbose_name=_("操作人"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("档次变动")
        verbose_name_plural = _("档次变动")
        ordering = ["worker", "at", "id"]

    def __str__(self):
        return f"{self.old_grade} → {self.new_grade}"


class StreetOffice(models.Model):
    """One of a street office's "6+1" bodies (six offices and the 综合行政执法队), a sub-unit of it."""

    unit = models.OneToOneField(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="street_office")
    street = models.ForeignKey(Unit, verbose_name=_("街道办事处"), on_delete=models.PROTECT,
                               related_name="street_offices")
    code = models.CharField(_("机构代码"), max_length=12)
    name = models.CharField(_("名称"), max_length=60)
    also_named = models.CharField(_("又称"), max_length=60, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("街道内设机构")
        verbose_name_plural = _("街道内设机构")
        ordering = ["street", "order"]
        constraints = [models.UniqueConstraint(fields=["street", "code"], name="street_office_code_unique")]

    def __str__(self):
        return self.name


class DutyKind(models.TextChoices):
    POWER = "power", _("权力")
    RESPONSIBILITY = "responsibility", _("责任")


class OfficeDuty(models.Model):
    """An entry of an office's list of powers and duties (权责清单); `subjects` name the matters it covers."""

    office = models.ForeignKey(StreetOffice, verbose_name=_("内设机构"), on_delete=models.CASCADE,
                               related_name="duties")
    item = models.CharField(_("事项"), max_length=200)
    kind = models.CharField(_("类型"), max_length=16, choices=DutyKind.choices)
    legal_basis = models.CharField(_("法定依据"), max_length=255)
    subjects = models.JSONField(_("对应事项分类"), default=list, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("权责清单事项")
        verbose_name_plural = _("权责清单事项")
        ordering = ["office", "order", "id"]

    def __str__(self):
        return self.item
