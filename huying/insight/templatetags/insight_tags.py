from django import template

register = template.Library()


@register.filter
def pct(value, digits: int = 1) -> str:
    """0.9567 → "95.7%"; no data → "—" (a rate with no denominator is not zero)."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def sees_dashboard(user) -> bool:
    """Whether the top menu offers this person the dashboard: only when it has a territory to open."""
    from huying.insight.selectors import dashboard_root

    return getattr(user, "is_authenticated", False) and dashboard_root(user) is not None
