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
