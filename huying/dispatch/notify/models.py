"""The notification outbox (通知发件箱) and the in-app inbox (站内消息).

An outbox row is written in the same transaction as the change it announces; `huying notify`
delivers it later through the sender configured for its channel. Rows are never deleted: a failed
delivery stays pending with a later `next_attempt_at`, a delivered one is marked sent. A message
nobody can receive is marked undeliverable at once, and one that failed
`HUYING_NOTIFY_MAX_ATTEMPTS` times goes to the dead letters (死信); administrators find both in the
admin's status filter, with the reason in `last_error`.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["InAppMessage", "NotifyChannel", "NotifyEvent", "OutboxMessage", "RecipientKind"]


class NotifyEvent(models.TextChoices):
    DISPATCH = "dispatch", _("派单通知")
    WARNING = "warning", _("临期预警")
    OVERDUE = "overdue", _("超期提醒")
    SUPERVISION = "supervision", _("督办通知")
    CALLBACK_REQUEST = "callback_request", _("回访评价邀请")
    ALERT = "alert", _("预警通知")


class NotifyChannel(models.TextChoices):
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")
    IN_APP = "in_app", _("站内消息")


class RecipientKind(models.TextChoices):
    # Resolved to people when the message is sent, so a unit's newcomer still gets a pending message.
    UNIT = "unit", _("单位")
    USER = "user", _("人员")
    REPORTER = "reporter", _("诉求人")


class OutboxMessage(models.Model):
    """One notification to one recipient over one channel, waiting for (or done with) delivery."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        # Terminal failures: nobody to send to (fix the unit's staffing), or the sender kept failing.
        UNDELIVERABLE = "undeliverable", _("无法投递")
        DEAD = "dead", _("死信（多次失败）")

    event = models.CharField(_("事件"), max_length=20, choices=NotifyEvent.choices)
    channel = models.CharField(_("渠道"), max_length=10, choices=NotifyChannel.choices)
    recipient_kind = models.CharField(_("接收方类别"), max_length=10, choices=RecipientKind.choices)
    recipient_id = models.BigIntegerField(_("接收方"))
    order = models.ForeignKey("dispatch.WorkOrder", verbose_name=_("工单"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    # The same announcement reaching the outbox twice (a retried hook) must not notify twice.
    dedup_key = models.CharField(_("去重键"), max_length=160, unique=True)
    title = models.CharField(_("标题"), max_length=120)
    body = models.TextField(_("内容"))
    data = models.JSONField(_("附加信息"), default=dict, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次发送时间"))
    last_error = models.TextField(_("最近错误"), blank=True)
    sender = models.CharField(_("发送器"), max_length=200, blank=True)
    # Set when the addressed unit had nobody who acts on the message and a unit above it received it.
    fallback_unit = models.ForeignKey("people.Unit", verbose_name=_("代收单位"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"))
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        app_label = "dispatch"
        verbose_name = _("通知发件箱")
        verbose_name_plural = _("通知发件箱")
        ordering = ["id"]
        indexes = [
            # The worker's claim: pending rows that are due, oldest due first; sent rows stay out of it.
            models.Index(fields=["next_attempt_at", "id"], name="notify_outbox_due",
                         condition=models.Q(status="pending")),
        ]

    def __str__(self):
        return f"{self.event}/{self.channel} → {self.recipient_kind}:{self.recipient_id}"


class InAppMessage(models.Model):
    """A message in a person's in-app inbox, written by the in-app sender."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("接收人"), on_delete=models.CASCADE,
                             related_name="inbox")
    outbox = models.ForeignKey(OutboxMessage, verbose_name=_("来源"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="inbox_messages")
    order = models.ForeignKey("dispatch.WorkOrder", verbose_name=_("工单"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    event = models.CharField(_("事件"), max_length=20, choices=NotifyEvent.choices)
    title = models.CharField(_("标题"), max_length=120)
    body = models.TextField(_("内容"))
    created_at = models.DateTimeField(_("时间"))
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        app_label = "dispatch"
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["outbox", "user"], name="inapp_outbox_user_unique")]
        indexes = [models.Index(fields=["user", "read_at"], name="inapp_user_unread")]

    def __str__(self):
        return f"{self.user_id}: {self.title}"

