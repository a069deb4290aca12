"""Labels for territory nodes, translated here so templates and the map speak the same words."""

from django import template
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

register = template.Library()

# "How many below" labels: plural in English, hence their own context.
COUNT_LABELS = {
    "district": pgettext_lazy("counts", "区"),
    "street": pgettext_lazy("counts", "街道/镇"),
    "community": pgettext_lazy("counts", "社区/村"),
    "grid": pgettext_lazy("counts", "网格"),
    "building": pgettext_lazy("counts", "楼栋"),
}
# Division.kind holds these Chinese words as data; showing them through gettext lets English pages read.
KIND_LABELS = {
    "市": _("市"),
    "区": _("区"),
    "街道": _("街道"),
    "镇": _("镇"),
    "其他": _("其他"),
    "社区": _("社区"),
    "村": _("村"),
    "网格": _("网格"),
}


@register.filter
def count_items(counts: dict) -> list[tuple[str, str, int]]:
    """[(key, label, n)] in hierarchy order for a node's counts dict."""
    return [(k, COUNT_LABELS[k], counts[k]) for k in COUNT_LABELS if k in (counts or {})]


@register.filter
def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)
