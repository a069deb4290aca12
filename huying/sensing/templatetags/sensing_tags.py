from django import template

register = template.Library()


@register.filter
def sees_sensing(user) -> bool:
    """Whether the top menu offers this person the sensing pages (staff of a unit, not residents)."""
    from huying.sensing.selectors import may_view

    return may_view(user)
