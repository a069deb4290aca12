"""The resident's own rating (诉求人评价) of a resolved order, from the tracking page or their login.

It does what the operator's callback (回访) does with the same answer: satisfied → closed,
dissatisfied → back to the unit as rework. There is no "not reached" branch: the resident is here.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from huying.core.errors import DomainError
from huying.core.text import clean_text

from ..models import Satisfaction, State, Transition, WorkOrder
from .common import lock_order, now_or, require_children_done
from .lifecycle import apply_callback

COMMENT_MAX = 500  # a few sentences; the comment becomes the callback's note
RESIDENT_LABEL = "resident (tracking code)"  # the timeline's actor label when no login rated


def resident_rated(order: WorkOrder) -> bool:
    """Whether the resident's own rating already settled the order's latest result."""
    last = (Transition.objects.filter(order=order, action__in=("closed", "reworked", "resolved"))
            .order_by("-at", "-id").values_list("action", "data").first())
    return last is not None and last[0] != "resolved" and (last[1] or {}).get("rated_by") == "resident"


@transaction.atomic
def work_order_rate_by_resident(order, *, rating: str, comment: str = "", actor=None, via: str = "track",
                                version: int | None = None, now=None) -> WorkOrder:
    """The reporter rates the result (满意 / 基本满意 / 不满意) once per result.

    `actor` is the signed-in reporter; None means the caller proved the reporter another way (the
    last four digits of their phone on the tracking page) and says so here.
    """
    now = now_or(now)
    comment = clean_text(comment, field="comment", multiline=True, max_length=COMMENT_MAX)
    try:
        rating = Satisfaction(rating)
    except ValueError:
        raise DomainError("dispatch.satisfaction_required", _("请选择满意度。"), field="rating") from None
    order = lock_order(order, version=version)
    if getattr(actor, "pk", None) is not None and order.reporter_id != actor.pk:
        raise DomainError("dispatch.not_reporter", _("只有诉求人本人可以评价办理结果。"), status=403)
    if order.state != State.RESOLVED:
        if resident_rated(order):
            raise DomainError("dispatch.already_rated", _("您已评价过本次办理结果。"), status=409)
        raise DomainError("dispatch.rating_state", _("该诉求当前不在待评价状态，不能评价。"), status=409)
    require_children_done(order)
    data = {"rated_by": "resident", "via": via,
            "verified": "login" if getattr(actor, "pk", None) is not None else "phone_tail"}
    return apply_callback(order, actor=actor if getattr(actor, "pk", None) else None, satisfaction=rating,
                          solved=None, reached=True, note=comment, now=now, data=data,
                          label="" if getattr(actor, "pk", None) else RESIDENT_LABEL)
