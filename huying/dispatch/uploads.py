"""Size limits applied while a request streams in, before anything is held whole.

- `PhotoUploadHandler` (first in FILE_UPLOAD_HANDLERS): a page's photo field ("photos", or a form
  prefix's "<prefix>-photos") keeps at most the per-photo limit of each file and at most MAX_COUNT
  files. The rest of an oversize file is read off the wire and dropped, and the form gets a
  `RefusedUpload` stand-in that `photos_check` refuses by its size (413, shown next to the field).
  Other file fields (imports, admin) are left to Django's own handlers.
- `ApiBodyLimitMiddleware`: the JSON API takes photos base64-encoded in the body, so its body cap
  is what its documented photo limits need (HUYING_API_MAX_BODY_BYTES) instead of Django's 2.5 MB
  DATA_UPLOAD_MAX_MEMORY_SIZE; a larger body is answered 413 with the API's JSON error body,
  without being read.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from .services.photos import MAX_COUNT, max_bytes


def is_photo_field(field_name: str) -> bool:
    return field_name == "photos" or field_name.endswith("-photos")


class RefusedUpload(UploadedFile):
    """What is left of a photo refused while it streamed in: its name and how much of it arrived."""

    refused = True

    def __init__(self, name: str, received: int, content_type: str | None):
        super().__init__(io.BytesIO(b""), name=name, content_type=content_type, size=received)


class PhotoUploadHandler(FileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        self.photos = 0
        self.watching = False
        self.received = 0
        self.dropping = False

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        self.watching = is_photo_field(field_name)
        self.received = 0
        self.dropping = False
        if self.watching:
            self.photos += 1
            # Files past the count are kept as stand-ins, so the form still says "too many"; none of
            # their bytes are.
            self.dropping = self.photos > MAX_COUNT

    def receive_data_chunk(self, raw_data, start):
        if not self.watching:
            return raw_data
        self.received += len(raw_data)
        if self.received > max_bytes():
            self.dropping = True
        # None: the next handlers (memory, temporary file) never see this chunk.
        return None if self.dropping else raw_data

    def file_complete(self, file_size):
        if self.watching and self.dropping:
            # A stand-in even past the count: returning None would let the next handler hand the
            # form an empty file of its own.
            return RefusedUpload(self.file_name, self.received, self.content_type)
        return None


def api_max_body_bytes() -> int:
    # Unless configured: 9 photos of the photo limit in base64 (4 bytes for 3) and 1 MB for the rest.
    return settings.HUYING_API_MAX_BODY_BYTES or MAX_COUNT * max_bytes() * 4 // 3 + 1024 * 1024


class ApiBodyLimitMiddleware:
    """Under the API's prefix: refuse a body over the API's cap (413, JSON), read one under it."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._prefix = None

    def __call__(self, request):
        if self._prefix is None:
            self._prefix = reverse("api:api-root")
        if request.path.startswith(self._prefix) and request.method in ("POST", "PUT", "PATCH"):
            limit = api_max_body_bytes()
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return JsonResponse({
                    "code": "request_too_large",
                    "message": _("请求体过大（%(mb)s MB），上限为 %(limit)s MB：每张照片不超过 %(photo)s MB，最多 %(n)s 张。")
                    % {"mb": round(length / 1048576, 1), "limit": round(limit / 1048576, 1),
                       "photo": round(max_bytes() / 1048576, 1), "n": MAX_COUNT},
                }, status=413, json_dumps_params={"ensure_ascii": False})
            if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE and not request.content_type.startswith("multipart/"):
                # What HttpRequest.body does, with the API's cap in place of DATA_UPLOAD_MAX_MEMORY_SIZE
                # (which it would check again on first access and refuse with an HTML 400).
                request._body = request.read()
                request._stream = io.BytesIO(request._body)
        return self.get_response(request)
