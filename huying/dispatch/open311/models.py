"""Open311 API keys and the requests posted through them."""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["Open311ApiKey", "Open311Submission"]


class Open311ApiKey(models.Model):
    """A client's key for POSTing service requests; only its SHA-256 is stored."""

    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(_("前缀"), max_length=12, help_text=_("密钥的前几位，便于辨认"))
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"))
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    # Audit rows written before the move to the open311 app name the target "dispatch.open311apikey".
    audit_former_labels = ("dispatch.open311apikey",)

    class Meta:
        db_table = "dispatch_open311apikey"  # the table kept its name when the model moved from dispatch to open311
        verbose_name = _("Open311 接口密钥")
        verbose_name_plural = _("Open311 接口密钥")
        ordering = ["name", "id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class Open311Submission(models.Model):
    """A service request posted through Open311: its token, its key, and contact data we never publish."""

    order = models.OneToOneField("dispatch.WorkOrder", verbose_name=_("工单"), on_delete=models.CASCADE,
                                 related_name="open311")
    token = models.CharField(_("令牌"), max_length=40, unique=True)
    api_key = models.ForeignKey(Open311ApiKey, verbose_name=_("接口密钥"), on_delete=models.PROTECT,
                                related_name="submissions")
    email = models.EmailField(_("电子邮件"), blank=True)
    device_id = models.CharField(_("设备标识"), max_length=100, blank=True)
    account_id = models.CharField(_("账户标识"), max_length=100, blank=True)
    media_url = models.URLField(_("媒体链接"), max_length=500, blank=True)
    attributes = models.JSONField(_("属性"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"))

    class Meta:
        db_table = "dispatch_open311submission"  # kept from when the model belonged to dispatch
        verbose_name = _("Open311 提交")
        verbose_name_plural = _("Open311 提交")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.token
