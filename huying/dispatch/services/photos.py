"""Photo checks (images only, size-limited), by magic bytes and the image header's own dimensions.

Pillow is not a dependency: JPEG, PNG, GIF and WebP headers are parsed here far enough to prove
the file is the image it claims to be and to read its size.
"""

import hashlib
import struct
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from huying.core.errors import DomainError

MAX_BYTES = 5 * 1024 * 1024
MAX_COUNT = 9
MAX_SIDE = 20000


@dataclass
class Photo:
    name: str
    content: bytes
    content_type: str
    width: int
    height: int
    sha256: str

    def as_file(self) -> ContentFile:
        ext = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}[self.content_type]
        return ContentFile(self.content, name=f"{self.sha256[:16]}.{ext}")


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        # SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC) carry the frame size.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + length
    return None


def _sniff(data: bytes) -> tuple[str, int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return "image/png", w, h
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return "image/gif", w, h
    if data[:3] == b"\xff\xd8\xff":
        size = _jpeg_size(data)
        return ("image/jpeg", *size) if size else None
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            w = int.from_bytes(data[24:27], "little") + 1
            h = int.from_bytes(data[27:30], "little") + 1
            return "image/webp", w, h
        if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
            w, h = struct.unpack("<HH", data[26:30])
            return "image/webp", w & 0x3FFF, h & 0x3FFF
        if chunk == b"VP8L" and data[20] == 0x2F:
            bits = int.from_bytes(data[21:25], "little")
            return "image/webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _read(item) -> tuple[str, bytes]:
    if isinstance(item, tuple | list):
        name, content = item
        return str(name), bytes(content)
    name = getattr(item, "name", "photo")
    if hasattr(item, "seek"):
        item.seek(0)
    return str(name), item.read()


def photos_check(items) -> list[Photo]:
    """Validate uploads ((name, bytes) pairs or file objects); refuse the batch on the first bad one."""
    max_bytes = getattr(settings, "HUYING_DISPATCH_PHOTO_MAX_BYTES", MAX_BYTES)
    items = list(items or ())
    if len(items) > MAX_COUNT:
        raise DomainError("dispatch.photo_too_many", _("最多上传 %(n)s 张照片。") % {"n": MAX_COUNT},
                          field="photos", status=400)
    out = []
    for item in items:
        name, content = _read(item)
        if len(content) > max_bytes:
            raise DomainError(
                "dispatch.photo_too_large",
                _("照片“%(name)s”超过 %(mb)s MB。") % {"name": name, "mb": round(max_bytes / 1048576, 1)},
                field="photos", status=413)
        sniffed = _sniff(content) if content else None
        if sniffed is None or not (0 < sniffed[1] <= MAX_SIDE and 0 < sniffed[2] <= MAX_SIDE):
            raise DomainError("dispatch.photo_not_image",
                              _("“%(name)s”不是有效的图片（仅支持 JPEG、PNG、GIF、WebP）。") % {"name": name},
                              field="photos", status=415)
        out.append(Photo(name, content, sniffed[0], sniffed[1], sniffed[2], hashlib.sha256(content).hexdigest()))
    return out


def photos_attach(order, photos: list[Photo], *, kind: str, actor, now) -> list:
    from ..models import Attachment

    made = []
    for p in photos:
        made.append(Attachment.objects.create(
            order=order, kind=kind, file=p.as_file(), content_type=p.content_type, size=len(p.content),
            width=p.width, height=p.height, sha256=p.sha256,
            uploaded_by=actor if getattr(actor, "pk", None) else None, created_at=now,
        ))
    return made
