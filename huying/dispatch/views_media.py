"""Order photos, served only to whoever may see the order.

MEDIA_ROOT is never published: a photo is answered by this view after the same scope check as the
order's own page (`selectors.work_order_get`; the resident who reported sees their own order), and
an order the viewer may not see, or no order at all, is the same 404. The answer is private to the
browser (no shared cache keeps it), typed by what intake re-encoded it as, and never sniffed.
"""

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from huying.core.errors import DomainError

from . import selectors
from .models import Attachment
from .services.photos import CONTENT_TYPES


@require_GET
def photo(request, pk: int):
    att = Attachment.objects.filter(pk=pk).only("pk", "order_id", "file", "content_type").first()
    if att is None:
        raise Http404(_("照片不存在。"))
    try:
        selectors.work_order_get(actor=request.user, pk=att.order_id)
    except DomainError:
        raise Http404(_("照片不存在。")) from None
    try:
        handle = att.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(_("照片不存在。")) from None
    ext = CONTENT_TYPES.get(att.content_type)
    resp = FileResponse(handle, content_type=att.content_type if ext else "application/octet-stream")
    resp["Content-Disposition"] = f'{"inline" if ext else "attachment"}; filename="photo-{att.pk}.{ext or "bin"}"'
    resp["Cache-Control"] = "private, max-age=3600"
    resp["X-Content-Type-Options"] = "nosniff"
    # Opened on its own, the file is an image and nothing else: no script, no frame, no form.
    resp["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return resp
