"""Classification at intake and its triage (分类分拨): which department family the classifier named
for an order, where each family goes, and what operators corrected (for the next training run)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huying.people.models import Unit


class Label(models.TextChoices):
    """The classifier's seven department families (huying.dispatch.classifier.LABELS, same order)."""

    URBAN = "城乡建设", _("城乡建设")
    ENVIRONMENT = "环境保护", _("环境保护")
    TRANSPORT = "交通运输", _("交通运输")
    EDUCATION = "教育文体", _("教育文体")
    LABOUR = "劳动和社会保障", _("劳动和社会保障")
    COMMERCE = "商贸旅游", _("商贸旅游")
    HEALTH = "卫生计生", _("卫生计生")


class LabelRoute(models.Model):
    """Where a department family goes (分类映射): the subject an order gets, and optionally the department."""

    label = models.CharField(_("分类标签"), max_length=20, choices=Label.choices, unique=True)
    subject = models.ForeignKey("dispatch.Subject", verbose_name=_("事项分类"), on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(Unit, verbose_name=_("承办部门"), null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", help_text=_("留空则按派单规则确定承办单位"))
    active = models.BooleanField(_("启用"), default=True,
                                 help_text=_("停用后该类诉求不自动派单，一律进入人工分拨"))

    class Meta:
        verbose_name = _("分类映射")
        verbose_name_plural = _("分类映射")
        ordering = ["label"]

    def __str__(self):
        return f"{self.label} → {self.subject.code} {self.subject.name}"


class Classification(models.Model):
    """The classifier's reading of an order at intake, and how triage settled it."""

    class Outcome(models.TextChoices):
        DISPATCHED = "dispatched", _("已派单")
        REJECTED = "rejected", _("不予受理")

    order = models.OneToOneField("dispatch.WorkOrder", verbose_name=_("工单"), on_delete=models.CASCADE,
                                 related_name="classification")
    label = models.CharField(_("预测分类"), max_length=20, choices=Label.choices)
    confidence = models.FloatField(_("置信度"))
    auto = models.BooleanField(_("达到自动派单阈值"))
    model_version = models.CharField(_("模型版本"), max_length=80)
    # The best labels with their softmax scores, best first: [[label, score], …]
    scores = models.JSONField(_("候选分类"), default=list)
    at = models.DateTimeField(_("分类时间"))
    needs_triage = models.BooleanField(_("待人工分拨"), default=False)
    triaged_at = models.DateTimeField(_("分拨时间"), null=True, blank=True)
    triaged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("分拨人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    final_label = models.CharField(_("确认分类"), max_length=20, choices=Label.choices, blank=True)
    outcome = models.CharField(_("分拨结果"), max_length=12, choices=Outcome.choices, blank=True)

    class Meta:
        verbose_name = _("自动分类")
        verbose_name_plural = _("自动分类")
        indexes = [models.Index(fields=["needs_triage", "at"])]

    def __str__(self):
        return f"{self.label} {self.confidence:.2f}"

    @property
    def runners_up(self) -> list:
        return [s for s in self.scores if s[0] != self.label][:2]


class ClassifierCorrection(models.Model):
    """An operator's label differs from the classifier's: a training row for the next model."""

    class Source(models.TextChoices):
        TRIAGE = "triage", _("人工分拨")
        SUBJECT_CHANGE = "subject_change", _("修改分类")

    order = models.ForeignKey("dispatch.WorkOrder", verbose_name=_("工单"), on_delete=models.CASCADE,
                              related_name="classifier_corrections")
    predicted = models.CharField(_("预测分类"), max_length=20, choices=Label.choices)
    corrected = models.CharField(_("更正分类"), max_length=20, choices=Label.choices)
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("更正人"), null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("更正时间"), db_index=True)

    class Meta:
        verbose_name = _("分类更正")
        verbose_name_plural = _("分类更正")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.predicted} → {self.corrected}"


__all__ = ["Classification", "ClassifierCorrection", "Label", "LabelRoute"]
