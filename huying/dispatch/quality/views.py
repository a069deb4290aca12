"""The reply-quality block (答复质量) on the order page and before closing by callback, for staff."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _

from huying.core.errors import DomainError
from huying.people.scope import scope_for

from .. import selectors as order_selectors
from ..services.common import STAFF_ROLES
from ..templating import package_renderer
from .reply_review import order_reply_review

_template = package_renderer(__file__).template


def _may_review(user) -> bool:
    return user.is_authenticated and (user.is_superuser or scope_for(user).has_any_role(*STAFF_ROLES))


def reply_score_html(request, order) -> str:
    """The reply-quality block for `order` (empty when there is no reply yet or the viewer is not staff)."""
    if not _may_review(request.user):
        return ""
    return _template("dispatch/quality/_reply_score.html").render({"review": order_reply_review(order)}, request)


@login_required
def reply_score(request, pk: int):
    """htmx partial on the order page: the resolution's quality score (答复质量)."""
    try:
        order = order_selectors.work_order_get(actor=request.user, pk=pk)
    except DomainError:
        raise Http404(_("工单不存在。")) from None
    return HttpResponse(reply_score_html(request, order))
