"""Work orders (工单) and the data that classifies, routes and times them.

Everything an administrator might tune is a row, not code: request types (诉求类型) and the
subject tree (事项分类) carry the time limits, routing rules pick the handling unit. A work order
keeps its current assignment's deadlines on itself (for queues ordered by deadline) and every
assignment, transition, extension and callback as its own append-only history.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from huying.people.models import Unit
from huying.territory.models import Division, Grid


class TimeUnit(models.TextChoices):
    WORK_HOURS = "work_hours", _("工作时")
    WORK_DAYS = "work_days", _("工作日")
    # Emergencies run on the clock, not on office hours (12345: life/property risk within 2 h).
    HOURS = "hours", _("自然小时")


class SubjectKind(models.TextChoices):
    REQUEST = "request", _("诉求")
    EVENT = "event", _("事件")
    COMPONENT = "component", _("部件")


class HandlingLevel(models.TextChoices):
    GRID = "grid", _("网格")
    COMMUNITY = "community", _("社区")
    STREET = "street", _("街道")
    DISTRICT = "district", _("区")


# Lowest first: 重心下移 tries the first level that has a unit and climbs from there (属地兜底).
LEVEL_ORDER = [HandlingLevel.GRID, HandlingLevel.COMMUNITY, HandlingLevel.STREET, HandlingLevel.DISTRICT]


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    EMERGENCY = "emergency", _("特急")


URGENCY_RANK = {Urgency.NORMAL: 0, Urgency.URGENT: 1, Urgency.EMERGENCY: 2}


class LocationPrecision(models.TextChoices):
    """How deep intake could place an order: a point or building puts it in a grid; an address that
    names only a community, street or district leaves it there for the operator to refine."""

    GRID = "grid", _("网格")
    COMMUNITY = "community", _("社区")
    STREET = "street", _("街道")
    DISTRICT = "district", _("区")


# Coarser than a grid: the order's point is only its division's centre.
COARSE_PRECISIONS = (LocationPrecision.COMMUNITY, LocationPrecision.STREET, LocationPrecision.DISTRICT)


class Channel(models.TextChoices):
    WEB = "web", _("居民网页")
    HOTLINE = "hotline", _("热线电话")
    PATROL = "patrol", _("网格巡查")
    API = "api", _("接口")
    SENSOR = "sensor", _("感知设备")
    VOLUNTEER = "volunteer", _("志愿者巡查")
    OTHER = "other", _("其他系统")


class State(models.TextChoices):
    SUBMITTED = "submitted", _("已受理")
    DISPATCHED = "dispatched", _("已派单")
    ACCEPTED = "accepted", _("已签收")
    RESOLVED = "resolved", _("已办结")
    # 审核本单位办理结果: the handler's result waits for the unit leader (Unit.review_results).
    REVIEWING = "reviewing", _("待审核")
    # 核查: the grid's worker checks on site that the reported result is real (Subject.onsite_check).
    CHECKING = "checking", _("待核查")
    CLOSED = "closed", _("已结案")
    RETURNED = "returned", _("已退单")
    SUSPENDED = "suspended", _("已挂账")
    REJECTED = "rejected", _("不予受理")
    MERGED = "merged", _("已合并")


class DeadlineState(models.TextChoices):
    NONE = "none", _("未计时")
    OK = "ok", _("正常")
    WARNING = "warning", _("临期")
    OVERDUE = "overdue", _("超期")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY = "basically", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("history is append-only")

    def delete(self):
        raise TypeError("history is append-only")


class LimitFields(models.Model):
    """Response (签收) and resolution (办结) time limits; empty means 'not set here'."""

    response_limit = models.DecimalField(_("响应时限"), max_digits=7, decimal_places=2, null=True, blank=True)
    response_unit = models.CharField(_("响应时限单位"), max_length=12, choices=TimeUnit.choices,
                                     default=TimeUnit.WORK_DAYS)
    resolve_limit = models.DecimalField(_("办理时限"), max_digits=7, decimal_places=2, null=True, blank=True)
    resolve_unit = models.CharField(_("办理时限单位"), max_length=12, choices=TimeUnit.choices,
                                    default=TimeUnit.WORK_DAYS)

    class Meta:
        abstract = True


class RequestType(LimitFields):
    """诉求类型: 咨询, 求助, 投诉, 举报, 建议 — each with its statutory time limits."""

    code = models.CharField(_("代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=30)
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("诉求类型")
        verbose_name_plural = _("诉求类型")
        ordering = ["sort", "code"]

    def __str__(self):
        return self.name


class Subject(LimitFields):
    """事项分类: one tree for residents' subjects (诉求) and urban-management events and components.

    Codes are hierarchical prefixes (Q01 → Q0103 → Q010307), so a subtree is a prefix match.
    Unset defaults and limits are inherited from the nearest ancestor that sets them.
    """

    code = models.CharField(_("分类代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    parent = models.ForeignKey("self", verbose_name=_("上级分类"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    depth = models.PositiveSmallIntegerField(_("层级"), default=1)
    kind = models.CharField(_("类别"), max_length=12, choices=SubjectKind.choices)
    default_level = models.CharField(_("默认处置层级"), max_length=12, choices=HandlingLevel.choices, blank=True)
    default_department = models.ForeignKey(Unit, verbose_name=_("默认责任部门"), null=True, blank=True,
                                           on_delete=models.SET_NULL, related_name="+")
    urgency = models.CharField(_("紧急程度"), max_length=12, choices=Urgency.choices, blank=True)
    filing_condition = models.CharField(_("立案条件"), max_length=200, blank=True)
    closing_condition = models.CharField(_("结案条件"), max_length=200, blank=True)
    source = models.CharField(_("来源"), max_length=200, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    # Potholes repeat within a street, noise complaints across a block: the search radius is data.
    duplicate_radius_m = models.PositiveIntegerField(_("查重半径(米)"), null=True, blank=True,
                                                     help_text=_("留空为 250 米"))
    # 核查: after the unit reports the result, the grid worker checks it on site before the callback.
    onsite_check = models.BooleanField(_("办结后现场核查"), default=False,
                                       help_text=_("开启后，本分类及其下级分类的工单办结后须由网格员现场核查"))

    class Meta:
        verbose_name = _("事项分类")
        verbose_name_plural = _("事项分类")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def clean(self):
        if self.parent_id and not self.code.startswith(self.parent.code):
            raise ValidationError({"code": _("分类代码须以上级分类代码开头")})

    def ancestors(self) -> list["Subject"]:
        """This node and its ancestors, nearest first, in one query (codes are prefixes of their children's)."""
        prefixes = [self.code[:i] for i in range(1, len(self.code) + 1)]
        found = Subject.objects.filter(code__in=prefixes).select_related("default_department")
        return sorted(found, key=lambda s: -len(s.code))


class RoutingRule(models.Model):
    """An ordered routing rule (派单规则): the first active rule that matches picks the handling unit.

    Empty match fields match anything. The target is a territorial level (grid … district, the
    unit covering the order's location) or a department (条), joined by the territorial unit (块)
    at `cohandler_level` as co-handler.
    """

    priority = models.PositiveIntegerField(_("优先级"), default=100, help_text=_("数字小者优先"))
    name = models.CharField(_("名称"), max_length=80)
    active = models.BooleanField(_("启用"), default=True)
    subject = models.ForeignKey(Subject, verbose_name=_("事项分类(含下级)"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="routing_rules")
    request_type = models.ForeignKey(RequestType, verbose_name=_("诉求类型"), null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="routing_rules")
    area_prefix = models.CharField(_("区域代码前缀"), max_length=20, blank=True,
                                   help_text=_("例如 440104 表示越秀区；留空为全市"))
    urgency = models.CharField(_("紧急程度"), max_length=12, choices=Urgency.choices, blank=True)
    weekdays = models.CharField(_("星期"), max_length=7, blank=True, help_text=_("例如 12345 表示周一至周五"))
    time_from = models.TimeField(_("起始时间"), null=True, blank=True)
    time_to = models.TimeField(_("截止时间"), null=True, blank=True, help_text=_("早于起始时间表示跨夜"))
    target_level = models.CharField(_("处置层级"), max_length=12, choices=HandlingLevel.choices, blank=True)
    target_unit = models.ForeignKey(Unit, verbose_name=_("责任部门"), null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="+")
    cohandler_level = models.CharField(_("属地协办层级"), max_length=12, choices=HandlingLevel.choices,
                                       blank=True)

    class Meta:
        verbose_name = _("派单规则")
        verbose_name_plural = _("派单规则")
        ordering = ["priority", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(target_level="") | models.Q(target_unit__isnull=False),
                name="routing_rule_has_target",
            )
        ]

    def __str__(self):
        return f"{self.priority} {self.name}"


class WorkOrder(models.Model):
    """A work order (工单): one call from a resident, patrol, sensor or system, placed on a grid."""

    code = models.CharField(_("工单编号"), max_length=20, unique=True)
    channel = models.CharField(_("来源渠道"), max_length=12, choices=Channel.choices)
    request_type = models.ForeignKey(RequestType, verbose_name=_("诉求类型"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="orders")
    subject = models.ForeignKey(Subject, verbose_name=_("事项分类"), on_delete=models.PROTECT, related_name="orders")
    title = models.CharField(_("标题"), max_length=120)
    description = models.TextField(_("诉求内容"), blank=True)
    urgency = models.CharField(_("紧急程度"), max_length=12, choices=Urgency.choices, default=Urgency.NORMAL)

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("提交人账号"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="reported_orders", db_index=False)
    reporter_name = models.CharField(_("诉求人"), max_length=60, blank=True)
    reporter_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    anonymous = models.BooleanField(_("匿名"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("录入人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", db_index=False)

    lng = models.FloatField(_("经度(WGS-84)"))
    lat = models.FloatField(_("纬度(WGS-84)"))
    address = models.CharField(_("地址"), max_length=255, blank=True)
    grid = models.ForeignKey(Grid, verbose_name=_("网格"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="work_orders")
    community = models.ForeignKey(Division, verbose_name=_("社区/村"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="work_orders")
    district_code = models.CharField(_("区代码"), max_length=12, blank=True)
    street_code = models.CharField(_("街道代码"), max_length=12, blank=True)
    # The deepest territory code (grid, else community …): scope by any level is a prefix match.
    area_code = models.CharField(_("区域代码"), max_length=20, blank=True)
    area_label = models.CharField(_("所在区域"), max_length=200, blank=True)
    location_precision = models.CharField(_("定位精度"), max_length=12, choices=LocationPrecision.choices,
                                          default=LocationPrecision.GRID)

    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.SUBMITTED)
    version = models.PositiveIntegerField(_("版本"), default=1)

    proposed_unit = models.ForeignKey(Unit, verbose_name=_("建议承办单位"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    routing = models.JSONField(_("派单依据"), default=dict, blank=True)
    lead_unit = models.ForeignKey(Unit, verbose_name=_("主办单位"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="lead_orders", db_index=False)
    cohandlers = models.ManyToManyField(Unit, verbose_name=_("协办单位"), blank=True, related_name="cohandled_orders")
    handling_level = models.CharField(_("处置层级"), max_length=12, blank=True)

    dispatched_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    response_due = models.DateTimeField(_("签收期限"), null=True, blank=True)
    resolve_due = models.DateTimeField(_("办结期限"), null=True, blank=True)
    warn_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    deadline_state = models.CharField(_("时限状态"), max_length=10, choices=DeadlineState.choices,
                                      default=DeadlineState.NONE)
    response_overdue = models.BooleanField(_("签收超时"), default=False)
    suspended_at = models.DateTimeField(_("挂账时间"), null=True, blank=True)
    # The dispatcher may ask for an on-site check (核查) of this order even if its subject does not.
    onsite_check = models.BooleanField(_("须现场核查"), default=False)

    resolution = models.TextField(_("办理结果"), blank=True)
    return_count = models.PositiveIntegerField(_("退单次数"), default=0)
    rework_count = models.PositiveIntegerField(_("返工次数"), default=0)
    extension_count = models.PositiveIntegerField(_("延期次数"), default=0)
    merged_into = models.ForeignKey("self", verbose_name=_("合并至"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="merged_orders", db_index=False)
    # 拆分: one level only — a child is never split again and a parent is never a child.
    parent = models.ForeignKey("self", verbose_name=_("拆分自"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children", db_index=False)

    created_at = models.DateTimeField(_("受理时间"), db_index=True)
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        ordering = ["-created_at", "-id"]
        # Every index costs each row a bulk year writes: no varchar_pattern_ops twin where no query
        # does LIKE 'x%' (only code and area_code need one); state and lead_unit are served by the
        # composites they lead; mostly-NULL foreign keys are indexed only where set (a partial index
        # still serves `col = X` and the ON DELETE checks); street_code, district_code and
        # deadline_state alone are never a better path than created_at or the composites. Channel
        # stays for the rare channels (sensor, volunteer) a list filters on.
        indexes = [
            models.Index(fields=["lead_unit", "state", "resolve_due"]),
            models.Index(fields=["state", "deadline_state", "warn_at"]),
            # The running clocks by deadline: the sweep and the overdue/warning lists. On a year's
            # orders a single resolve_due index led the sweep through 8 M orders (9.2 s; D83).
            models.Index(fields=["resolve_due", "id"], name="dispatch_wo_clock_running",
                         condition=models.Q(state__in=["dispatched", "accepted"])),
            models.Index(fields=["channel"], name="dispatch_wo_channel"),
            # Prefix scopes (area_code LIKE 'x%') and equality both use the pattern_ops index.
            models.Index(fields=["area_code"], name="dispatch_wo_area_code",
                         opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["reporter"], name="dispatch_wo_reporter_nn",
                         condition=models.Q(reporter__isnull=False)),
            models.Index(fields=["created_by"], name="dispatch_wo_created_by_nn",
                         condition=models.Q(created_by__isnull=False)),
            models.Index(fields=["merged_into"], name="dispatch_wo_merged_into_nn",
                         condition=models.Q(merged_into__isnull=False)),
            models.Index(fields=["parent"], name="dispatch_wo_parent_nn",
                         condition=models.Q(parent__isnull=False)),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def emergency(self) -> bool:
        return self.urgency == Urgency.EMERGENCY


class Assignment(models.Model):
    """One dispatch of an order to a unit (派单): its clocks are frozen here when it is made."""

    class Outcome(models.TextChoices):
        ACTIVE = "active", _("办理中")
        RETURNED = "returned", _("已退回")
        REASSIGNED = "reassigned", _("已改派")
        DONE = "done", _("已完成")
        CANCELLED = "cancelled", _("已终止")

    order = models.ForeignKey(WorkOrder, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="assignments")
    # db_index=False: the (unit, outcome) index below serves unit_id = X.
    unit = models.ForeignKey(Unit, verbose_name=_("承办单位"), on_delete=models.PROTECT,
                             related_name="assignments", db_index=False)
    cohandler_ids = models.JSONField(_("协办单位"), default=list, blank=True)
    level = models.CharField(_("处置层级"), max_length=12, blank=True)
    binding = models.BooleanField(_("终审派单"), default=False, help_text=_("终审派单后承办单位不得再退单"))
    override_reason = models.CharField(_("改派理由"), max_length=255, blank=True)
    dispatched_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("派单人"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+", db_index=False)
    dispatched_at = models.DateTimeField(_("派单时间"))
    response_due = models.DateTimeField(_("签收期限"))
    resolve_due = models.DateTimeField(_("办结期限"))
    warn_at = models.DateTimeField(_("预警时间"))
    limits = models.JSONField(_("适用时限"), default=dict, blank=True)
    accepted_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    outcome = models.CharField(_("结果"), max_length=12, choices=Outcome.choices, default=Outcome.ACTIVE)
    return_reason = models.TextField(_("退单理由"), blank=True)
    return_basis = models.TextField(_("退单依据"), blank=True)

    class Meta:
        verbose_name = _("派单记录")
        verbose_name_plural = _("派单记录")
        ordering = ["order", "id"]
        indexes = [
            models.Index(fields=["unit", "outcome"]),
            models.Index(fields=["dispatched_by"], name="dispatch_as_dispatched_by_nn",
                         condition=models.Q(dispatched_by__isnull=False)),
        ]

    def __str__(self):
        return f"{self.order_id} → {self.unit_id}"


class Transition(models.Model):
    """One step of an order's timeline (append-only): a state change, or an event that keeps the state."""

    order = models.ForeignKey(WorkOrder, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField(_("动作"), max_length=40)
    from_state = models.CharField(_("原状态"), max_length=12, blank=True)
    to_state = models.CharField(_("新状态"), max_length=12)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+", db_index=False)
    actor_label = models.CharField(_("操作人名称"), max_length=150, blank=True)
    unit = models.ForeignKey(Unit, verbose_name=_("相关单位"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("时间"))
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(_("附加信息"), default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("流转记录")
        verbose_name_plural = _("流转记录")
        ordering = ["order", "id"]
        indexes = [models.Index(fields=["actor"], name="dispatch_tr_actor_nn",
                                condition=models.Q(actor__isnull=False))]

    def __str__(self):
        return f"{self.order_id} {self.from_state}→{self.to_state}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("history is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("history is append-only")


class IdempotencyKey(models.Model):
    """A submission's idempotency key: a retry returns the same order; another body is refused."""

    scope = models.CharField(_("范围"), max_length=60, help_text=_("user:<id> 或 channel:<渠道>"))
    key = models.CharField(_("幂等键"), max_length=100)
    request_hash = models.CharField(_("请求摘要"), max_length=64)
    order = models.ForeignKey(WorkOrder, verbose_name=_("工单"), null=True, blank=True,
                              on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("幂等键")
        verbose_name_plural = _("幂等键")
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key_unique")]

    def __str__(self):
        return f"{self.scope}/{self.key}"


class Extension(models.Model):
    """A request to extend the resolution deadline (延期), decided by a dispatcher."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REFUSED = "refused", _("不批准")

    order = models.ForeignKey(WorkOrder, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="extensions")
    unit = models.ForeignKey(Unit, verbose_name=_("申请单位"), on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("申请人"), null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"))
    old_due = models.DateTimeField(_("原期限"))
    new_due = models.DateTimeField(_("申请期限"))
    reason = models.TextField(_("申请理由"))
    decision = models.CharField(_("审批结果"), max_length=10, choices=Decision.choices, default=Decision.PENDING,
                                db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("审批人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["-requested_at", "-id"]

    def __str__(self):
        return f"{self.order_id} → {self.new_due:%Y-%m-%d %H:%M}"


class Callback(models.Model):
    """回访: was it solved, and how satisfied is the resident."""

    order = models.ForeignKey(WorkOrder, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="callbacks")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("回访人"), null=True,
                              on_delete=models.SET_NULL, related_name="+", db_index=False)
    at = models.DateTimeField(_("回访时间"))
    reached = models.BooleanField(_("联系上诉求人"), default=True)
    solved = models.BooleanField(_("已解决"), null=True, blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=12, choices=Satisfaction.choices, blank=True)
    note = models.TextField(_("回访记录"), blank=True)

    class Meta:
        verbose_name = _("回访")
        verbose_name_plural = _("回访")
        ordering = ["order", "id"]
        indexes = [models.Index(fields=["actor"], name="dispatch_cb_actor_nn",
                                condition=models.Q(actor__isnull=False))]

    def __str__(self):
        return f"{self.order_id} {self.satisfaction}"


class Attachment(models.Model):
    """A photo on an order: the report's evidence or the handler's result (images only)."""

    class Kind(models.TextChoices):
        REPORT = "report", _("上报照片")
        RESULT = "result", _("办结照片")
        CHECK = "check", _("核查照片")

    order = models.ForeignKey(WorkOrder, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices, default=Kind.REPORT)
    file = models.FileField(_("文件"), upload_to="dispatch/%Y/%m/")
    content_type = models.CharField(_("类型"), max_length=40)
    size = models.PositiveIntegerField(_("大小(字节)"))
    width = models.PositiveIntegerField(_("宽"), null=True, blank=True)
    height = models.PositiveIntegerField(_("高"), null=True, blank=True)
    sha256 = models.CharField(_("摘要"), max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["order", "id"]

    def __str__(self):
        return self.file.name


class DeferredIndex(models.Model):
    """A secondary index of the order history dropped for a bulk year's load and not rebuilt yet
    (`simulate_year.defer_indexes`). Recorded in the transaction that drops it, deleted in the one
    that rebuilds it: a load stopped midway leaves its definition here for the next run."""

    name = models.CharField(_("索引"), max_length=63, unique=True)
    definition = models.TextField(_("定义"))
    comment = models.TextField(_("注释"), blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("待重建索引")
        verbose_name_plural = _("待重建索引")

    def __str__(self):
        return self.name


# The models of dispatch's sub-packages (escalation, notify, triage) belong to the dispatch
# app (`app_label = "dispatch"`): one app, one migration history, tables named dispatch_*. (hot and
# open311 are apps of their own, labels "hot" and "open311", and import their models from there.) Django finds
# an app's models by importing its `models` module, so they are imported here, by name (and re-exported
# from here). They refer to this module's models by string ("dispatch.WorkOrder") and import nothing
# from it: no import cycle.
from .escalation.models import (  # noqa: E402,F401  whistles (吹哨) and supervision (督办)
    SupervisionCause,
    SupervisionNotice,
    Whistle,
    WhistleCall,
    WhistleKind,
)
from .notify.models import (  # noqa: E402,F401  the notification outbox and the inboxes
    InAppMessage,
    NotifyChannel,
    NotifyEvent,
    OutboxMessage,
    RecipientKind,
)
from .triage.models import (  # noqa: E402,F401  classification at intake and triage
    Classification,
    ClassifierCorrection,
    Label,
    LabelRoute,
)
