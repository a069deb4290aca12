"""Admin: the family → subject/department mapping is edited here (audited); classifications and
corrections are read-only history."""

from django.contrib import admin

from huying.core.adminkit import AuditedModelAdmin, ReadOnlyAdmin

from .models import Classification, ClassifierCorrection, LabelRoute


@admin.register(LabelRoute)
class LabelRouteAdmin(AuditedModelAdmin):
    list_display = ["label", "subject", "department", "active"]
    list_editable = ["active"]
    list_filter = ["active"]
    raw_id_fields = ["subject", "department"]


@admin.register(Classification)
class ClassificationAdmin(ReadOnlyAdmin):
    list_display = ["order", "label", "confidence", "auto", "needs_triage", "final_label", "outcome", "at"]
    list_filter = ["label", "auto", "needs_triage", "outcome"]
    search_fields = ["order__code"]


@admin.register(ClassifierCorrection)
class ClassifierCorrectionAdmin(ReadOnlyAdmin):
    list_display = ["order", "predicted", "corrected", "source", "by", "at"]
    list_filter = ["predicted", "corrected", "source"]
    search_fields = ["order__code"]
