"""Alerts (预警): one concept for hot-issue detection and, later, sensors — located, deduplicated,
able to open work orders (ARCHITECTURE.md)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["Alert", "AlertKind", "AlertStatus", "HotSnapshot"]


class AlertKind(models.TextChoices):
    HOT = "hot", _("热点问题")
    SENSOR = "sensor", _("感知设备")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    ACKNOWLEDGED = "acknowledged", _("已确认")
    CLOSED = "closed", _("已关闭")


class Alert(models.Model):
    """A warning raised by hot-issue detection or a sensor (预警)."""

    kind = models.CharField(_("类别"), max_length=10, choices=AlertKind.choices, db_index=True)
    title = models.CharField(_("标题"), max_length=200)
    # The same situation detected again (the next scan, a sensor's repeated reading) finds this row.
    dedup_key = models.CharField(_("去重键"), max_length=160, unique=True)
    status = models.CharField(_("状态"), max_length=14, choices=AlertStatus.choices, default=AlertStatus.OPEN,
                              db_index=True)
    subject = models.ForeignKey("dispatch.Subject", verbose_name=_("事项分类"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    # The deepest territory code known (street, community or grid): scope is a prefix match, as on orders.
    area_code = models.CharField(_("区域代码"), max_length=20, blank=True, db_index=True)
    district_code = models.CharField(_("区代码"), max_length=12, blank=True)
    street_code = models.CharField(_("街道代码"), max_length=12, blank=True)
    area_label = models.CharField(_("所在区域"), max_length=200, blank=True)
    lng = models.FloatField(_("经度(WGS-84)"), null=True, blank=True)
    lat = models.FloatField(_("纬度(WGS-84)"), null=True, blank=True)
    evidence = models.JSONField(_("依据"), default=dict, blank=True)
    raised_at = models.DateTimeField(_("预警时间"), db_index=True)
    updated_at = models.DateTimeField(_("更新时间"))
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("确认人"), null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(_("处理说明"), blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    orders = models.ManyToManyField("dispatch.WorkOrder", verbose_name=_("由此生成的工单"), blank=True,
                                    related_name="opened_by_alerts")

    # Audit rows written before the move to the hot app name the target "dispatch.alert" (core.audit.audit_trail).
    audit_former_labels = ("dispatch.alert",)

    class Meta:
        db_table = "dispatch_alert"  # the table kept its name when the model moved from dispatch to hot
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-raised_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.title}"


class HotSnapshot(models.Model):
    """Hot-issue groups of one city as the worker last computed them (热点问题快照).

    Grouping (text vectors and pairwise similarity) is the costly part, so the worker does it every
    few minutes and pages read the newest snapshot; heat is recomputed from the live orders on
    reading, which is cheap and keeps each viewer's territory exact. Derived data, like the
    dashboard rollups: no audit row.
    """

    city_code = models.CharField(_("城市代码"), max_length=12, blank=True, db_index=True)
    days = models.PositiveSmallIntegerField(_("最近天数"))
    threshold = models.FloatField(_("相似度阈值"))
    computed_at = models.DateTimeField(_("计算时间"), db_index=True)
    order_count = models.PositiveIntegerField(_("参与工单数"), default=0)
    elapsed_ms = models.PositiveIntegerField(_("计算耗时(毫秒)"), default=0)
    # [{"orders": [id, …], "title": …, "size": n, "heat": h, "area_code": …}, …], hottest first.
    groups = models.JSONField(_("分组"), default=list, blank=True)

    class Meta:
        db_table = "dispatch_hotsnapshot"  # the table kept its name when the model moved from dispatch to hot
        verbose_name = _("热点问题快照")
        verbose_name_plural = _("热点问题快照")
        ordering = ["-computed_at", "-id"]
        indexes = [models.Index(fields=["city_code", "days", "computed_at"], name="dispatch_hot_snapshot_latest")]

    def __str__(self):
        return f"{self.city_code or '—'} {self.computed_at:%Y-%m-%d %H:%M}"
