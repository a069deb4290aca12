"""吹哨报到 (whistle-blowing) and 督办 (supervision notices) on work orders.

A street or community blows a whistle (吹哨) on an order, summoning departments (条); each summoned
department must report (报到) within the whistle kind's limit and then co-handles the order.
Supervision notices (督办) go to a unit and its superior; a further notice climbs one level.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huying.people.models import Unit

__all__ = ["SupervisionCause", "SupervisionNotice", "Whistle", "WhistleCall", "WhistleKind"]


class WhistleKind(models.TextChoices):
    ROUTINE = "routine", _("日常哨")
    TOUGH = "tough", _("攻坚哨")
    EMERGENCY = "emergency", _("应急哨")


class Whistle(models.Model):
    """One whistle (吹哨) blown on an order by a territorial unit."""

    order = models.ForeignKey("dispatch.WorkOrder", verbose_name=_("工单"), on_delete=models.CASCADE,
                              related_name="whistles")
    kind = models.CharField(_("哨类"), max_length=12, choices=WhistleKind.choices)
    reason = models.TextField(_("吹哨事由"))
    unit = models.ForeignKey(Unit, verbose_name=_("吹哨单位"), on_delete=models.PROTECT, related_name="+")
    blown_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("吹哨人"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    blown_at = models.DateTimeField(_("吹哨时间"), db_index=True)
    report_minutes = models.PositiveIntegerField(_("报到时限(分钟)"))

    class Meta:
        app_label = "dispatch"
        verbose_name = _("吹哨")
        verbose_name_plural = _("吹哨")
        ordering = ["-blown_at", "-id"]

    def __str__(self):
        return f"{self.order_id} {self.get_kind_display()}"


class WhistleCall(models.Model):
    """One department summoned by a whistle, and its report (报到)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待报到")
        REPORTED = "reported", _("已报到")

    whistle = models.ForeignKey(Whistle, verbose_name=_("吹哨"), on_delete=models.CASCADE, related_name="calls")
    department = models.ForeignKey(Unit, verbose_name=_("被召集部门"), on_delete=models.PROTECT,
                                   related_name="whistle_calls")
    due_at = models.DateTimeField(_("报到期限"), db_index=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    reported_at = models.DateTimeField(_("报到时间"), null=True, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("报到人"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    report_seconds = models.PositiveIntegerField(_("报到用时(秒)"), null=True, blank=True)
    late = models.BooleanField(_("迟到"), default=False)
    # Set by the sweep when the limit passed with no report (未按时报到).
    flagged_at = models.DateTimeField(_("超时标记时间"), null=True, blank=True)
    note = models.TextField(_("报到说明"), blank=True)

    class Meta:
        app_label = "dispatch"
        verbose_name = _("吹哨召集")
        verbose_name_plural = _("吹哨召集")
        ordering = ["due_at", "id"]
        constraints = [models.UniqueConstraint(fields=["whistle", "department"], name="whistle_call_unique")]

    def __str__(self):
        return f"{self.whistle_id} → {self.department_id}"


class SupervisionCause(models.TextChoices):
    OVERDUE = "overdue", _("办理超期")
    WHISTLE_MISSED = "whistle_missed", _("吹哨未报到")
    MANUAL = "manual", _("人工督办")


class SupervisionNotice(models.Model):
    """督办: a notice that `unit` must act on an order; level n goes to the unit n-1 steps up and its superior."""

    order = models.ForeignKey("dispatch.WorkOrder", verbose_name=_("工单"), on_delete=models.CASCADE,
                              related_name="supervision_notices")
    unit = models.ForeignKey(Unit, verbose_name=_("被督办单位"), on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(_("督办级次"))
    cause = models.CharField(_("督办原因"), max_length=20, choices=SupervisionCause.choices)
    recipients = models.ManyToManyField(Unit, verbose_name=_("接收单位"), related_name="supervision_notices")
    note = models.TextField(_("督办意见"), blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("督办人"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    issued_at = models.DateTimeField(_("督办时间"), db_index=True)

    class Meta:
        app_label = "dispatch"
        verbose_name = _("督办通知")
        verbose_name_plural = _("督办通知")
        ordering = ["-issued_at", "-id"]
        # One notice per level for each supervised unit: concurrent sweeps cannot double it.
        constraints = [models.UniqueConstraint(fields=["order", "unit", "level"], name="supervision_level_unique")]

    def __str__(self):
        return f"{self.order_id} {self.unit_id} L{self.level}"
