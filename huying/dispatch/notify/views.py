"""The in-app inbox (站内消息): the signed-in user's notifications, newest first; opening one marks
it read and goes to its order when it has one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..templating import package_renderer
from . import selectors, services

PAGE_SIZE = 20
render = package_renderer(__file__)


@login_required
def inbox_list(request):
    unread_only = request.GET.get("unread") == "1"
    qs = selectors.inbox_messages(actor=request.user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    page = Paginator(qs.prefetch_related("order__cohandlers"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "dispatch/notify/inbox.html",
                  {"page": page, "rows": selectors.inbox_view_rows(page.object_list, actor=request.user),
                   "unread_only": unread_only})


@login_required
def inbox_open(request, pk: int):
    message = (selectors.inbox_messages(actor=request.user).prefetch_related("order__cohandlers")
               .filter(pk=pk).first())
    if message is None:
        raise Http404(_("没有这条消息。"))
    services.inbox_message_read(message, actor=request.user)
    selectors.forget_unread_for_request(request)
    row = selectors.inbox_view_rows([message], actor=request.user)[0]
    return render(request, "dispatch/notify/message.html", {"row": row, "message": message})


@login_required
@require_POST
def inbox_read_all(request):
    n = services.inbox_mark_all_read(actor=request.user)
    messages.success(request, _("已将 %(n)s 条消息标为已读。") % {"n": n})
    return redirect("inbox:list")

