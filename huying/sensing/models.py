"""Sensing (感知预警): sensors on the territory, their readings and the alert rules over them.

Alerts themselves are dispatch's one `Alert` model (kind "sensor"); a rule's per-sensor (or per-place)
bookkeeping is `RuleState`, which remembers the alert an episode raised so that repeated readings
find it again instead of raising another.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

CODE_RE = r"^[A-Za-z0-9_-]{1,40}$"


class SensorKind(models.TextChoices):
    SMOKE = "smoke", _("烟感")
    TEMPERATURE = "temperature", _("温度")
    WATER_LEVEL = "water_level", _("水位")
    RAINFALL = "rainfall", _("雨量")
    GAS = "gas", _("燃气浓度")
    HAZCHEM = "hazchem", _("危化品储存")
    TILT = "tilt", _("结构倾斜")
    OTHER = "other", _("其他")


class SensorState(models.TextChoices):
    IN_SERVICE = "in_service", _("在用")
    MAINTENANCE = "maintenance", _("维护中")
    RETIRED = "retired", _("已停用")


class Sensor(models.Model):
    """A sensing device (感知设备) at a point on the territory, owned by a unit."""

    code = models.CharField(_("设备编码"), max_length=40, unique=True,
                            validators=[RegexValidator(CODE_RE, _("设备编码只能由字母、数字、- 和 _ 组成（1–40 位）。"))])
    name = models.CharField(_("名称"), max_length=120)
    kind = models.CharField(_("类别"), max_length=16, choices=SensorKind.choices, db_index=True)
    measure_unit = models.CharField(_("计量单位"), max_length=16, blank=True)
    owner_unit = models.ForeignKey("people.Unit", verbose_name=_("权属单位"), on_delete=models.PROTECT,
                                   related_name="sensors")
    state = models.CharField(_("状态"), max_length=12, choices=SensorState.choices, default=SensorState.IN_SERVICE,
                             db_index=True)
    lng = models.FloatField(_("经度(WGS-84)"))
    lat = models.FloatField(_("纬度(WGS-84)"))
    address = models.CharField(_("地址"), max_length=255, blank=True)
    # A named place (a warehouse, a market) whose sensors a combination rule counts together.
    place = models.CharField(_("场所"), max_length=60, blank=True, db_index=True)
    building = models.ForeignKey("territory.Building", verbose_name=_("楼栋"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    # Where the locator put the point, as dispatch orders store it (scope is a prefix match on area_code).
    grid = models.ForeignKey("territory.Grid", verbose_name=_("网格"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    district_code = models.CharField(_("区代码"), max_length=12, blank=True)
    street_code = models.CharField(_("街道代码"), max_length=12, blank=True)
    community_code = models.CharField(_("社区代码"), max_length=12, blank=True)
    area_code = models.CharField(_("区域代码"), max_length=20, blank=True, db_index=True)
    area_label = models.CharField(_("所在区域"), max_length=200, blank=True)
    last_seen = models.DateTimeField(_("最近上报"), null=True, blank=True, db_index=True)
    last_value = models.FloatField(_("最近读数"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"))
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        verbose_name = _("感知设备")
        verbose_name_plural = _("感知设备")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class Reading(models.Model):
    """One measurement (读数), kept narrow: bigint id, sensor, time, value.

    Unique (sensor, ts): a QoS-1 redelivery of a stored reading is ignored by the insert. On
    PostgreSQL a BRIN index on ts (migration 0002) serves city-wide time ranges at a tiny size,
    since readings arrive in time order.
    """

    id = models.BigAutoField(primary_key=True)
    sensor = models.ForeignKey(Sensor, verbose_name=_("设备"), on_delete=models.CASCADE, related_name="readings",
                               db_index=False)  # the unique (sensor, ts) index leads with sensor
    ts = models.DateTimeField(_("时间"))
    value = models.FloatField(_("读数"))

    class Meta:
        verbose_name = _("读数")
        verbose_name_plural = _("读数")
        constraints = [models.UniqueConstraint(fields=["sensor", "ts"], name="sensing_reading_sensor_ts")]

    def __str__(self):
        return f"{self.sensor_id} {self.ts:%Y-%m-%d %H:%M:%S} {self.value}"


class RuleKind(models.TextChoices):
    ABOVE = "above", _("超过阈值")
    BELOW = "below", _("低于阈值")
    RATE = "rate", _("变化速率")
    SILENCE = "silence", _("设备静默")
    COMBINATION = "combination", _("多设备组合")


class AlertRule(models.Model):
    """An alert rule held as data (预警规则): which sensors, what condition, what work order it opens."""

    name = models.CharField(_("名称"), max_length=120)
    kind = models.CharField(_("规则类型"), max_length=12, choices=RuleKind.choices)
    sensor_kind = models.CharField(_("设备类别"), max_length=16, choices=SensorKind.choices)
    # The territory prefix the rule covers (blank: everywhere), and optionally one sensor only.
    area_code = models.CharField(_("适用区域代码"), max_length=20, blank=True, db_index=True)
    sensor = models.ForeignKey(Sensor, verbose_name=_("仅限设备"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="rules")
    owner_unit = models.ForeignKey("people.Unit", verbose_name=_("设置单位"), on_delete=models.PROTECT,
                                   related_name="+")
    params = models.JSONField(_("参数"), default=dict, blank=True)
    subject = models.ForeignKey("dispatch.Subject", verbose_name=_("工单事项分类"), on_delete=models.PROTECT,
                                related_name="+")
    urgency = models.CharField(_("紧急程度"), max_length=10, default="urgent")
    emergency = models.BooleanField(_("应急（自动吹哨）"), default=False)
    # An emergency rule blows the whistle (吹哨) on the authority of the person who set it, calling these departments.
    whistle_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("吹哨授权人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    whistle_departments = models.ManyToManyField("people.Unit", verbose_name=_("召集部门"), blank=True,
                                                 related_name="+")
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"))
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        verbose_name = _("预警规则")
        verbose_name_plural = _("预警规则")
        ordering = ["sensor_kind", "name", "id"]

    def __str__(self):
        return self.name


class RuleState(models.Model):
    """Where a rule stands for one sensor or place (derived bookkeeping, no audit row): firing or not,
    and the alert of the current episode, which repeated readings refresh instead of raising another."""

    rule = models.ForeignKey(AlertRule, verbose_name=_("规则"), on_delete=models.CASCADE, related_name="states")
    key = models.CharField(_("对象"), max_length=80)  # "s<sensor id>", "grid:<code>", "bldg:<id>", "place:<name>"
    firing = models.BooleanField(_("触发中"), default=False)
    since = models.DateTimeField(_("触发时间"), null=True, blank=True)
    alert = models.ForeignKey("hot.Alert", verbose_name=_("预警"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        verbose_name = _("规则状态")
        verbose_name_plural = _("规则状态")
        constraints = [models.UniqueConstraint(fields=["rule", "key"], name="sensing_rulestate_rule_key")]

    def __str__(self):
        return f"{self.rule_id}:{self.key}"
