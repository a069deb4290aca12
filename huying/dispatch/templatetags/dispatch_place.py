"""The order page's 定位核实 panel: shown only to who may set an address-only order's point now."""

from django import template

from huying.dispatch.services.relocate import can_relocate
from huying.dispatch.views_place import relocate_form_for

register = template.Library()


@register.inclusion_tag("dispatch/_relocate.html", takes_context=True)
def relocate_panel(context):
    order, request = context.get("order"), context.get("request")
    if order is None or request is None or not can_relocate(order, actor=request.user):
        return {"show": False}
    return {"show": True, "order": order, "form": relocate_form_for(request, order),
            "csrf_token": context.get("csrf_token")}
