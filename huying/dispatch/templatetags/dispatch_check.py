"""The order page's review/check panel (审核, 核查, 指定核查): forms only for what the viewer may do."""

from django import template

from huying.dispatch import selectors_check
from huying.dispatch.views_check import forms_for

register = template.Library()


@register.inclusion_tag("dispatch/_check_review_panel.html", takes_context=True)
def check_review_panel(context, order):
    request = context["request"]
    actions = selectors_check.check_review_actions(order, actor=request.user)
    return {"order": order, "actions": actions, "csrf_token": context.get("csrf_token"),
            "forms": forms_for(order, actions, getattr(request, "check_review_bound", None)),
            "facts": selectors_check.check_facts(order), "next": ""}
