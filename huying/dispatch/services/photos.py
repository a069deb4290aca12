"""Photos on orders: decoded and re-encoded with Pillow before anything is stored.

Residents' phone photos carry GPS coordinates, the device and its serial number in EXIF (and XMP,
comments, text chunks). Every upload is decoded, turned upright by its EXIF orientation and
written again from its pixels alone, so none of that metadata is ever stored or served; a file
that is not an image is refused (415), one that claims to be an image but does not decode is
refused (400), and so is one whose pixel count would make decoding it a memory bomb (413).
The colour profile (ICC) is kept: it describes colours, not the person, and without it a
wide-gamut phone photo would show washed out.
"""

import hashlib
import io
import secrets
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from huying.core.audit import audit_log
from huying.core.errors import DomainError

from ..models import Attachment

MAX_COUNT = 9
MAX_SIDE = 20000
# Decoding holds every pixel in memory (4 bytes each at most): 50 M pixels is a 50-megapixel camera
# and at most ~200 MB while one photo is re-encoded.
MAX_PIXELS = 50_000_000

# Pillow format → (content type, file extension); nothing else is even tried by the decoder.
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "GIF": ("image/gif", "gif"),
           "WEBP": ("image/webp", "webp")}
CONTENT_TYPES = {ctype: ext for ctype, ext in FORMATS.values()}
# The only entries of an image's `info` that go back into the file: how it is transparent, how its
# colours are meant.
KEEP_INFO = ("transparency", "icc_profile")


@dataclass
class Photo:
    name: str
    content: bytes  # the re-encoded image, as stored
    content_type: str
    width: int
    height: int
    sha256: str  # of the upload as received: a retried submission's fingerprint does not depend on Pillow

    def as_file(self) -> ContentFile:
        # A random name: nothing about the file (its content, the order) can be guessed from it.
        return ContentFile(self.content, name=f"{secrets.token_hex(16)}.{CONTENT_TYPES[self.content_type]}")


def max_bytes() -> int:
    return settings.HUYING_DISPATCH_PHOTO_MAX_BYTES


def _too_large(name: str, limit: int) -> DomainError:
    return DomainError(
        "dispatch.photo_too_large",
        _("照片“%(name)s”超过 %(mb)s MB。") % {"name": name, "mb": round(limit / 1048576, 1)},
        field="photos", status=413)


def _not_image(name: str) -> DomainError:
    return DomainError("dispatch.photo_not_image",
                       _("“%(name)s”不是有效的图片（仅支持 JPEG、PNG、GIF、WebP）。") % {"name": name},
                       field="photos", status=415)


def _broken(name: str) -> DomainError:
    return DomainError("dispatch.photo_broken",
                       _("照片“%(name)s”已损坏或不完整，无法读取，请重新拍摄或选择。") % {"name": name},
                       field="photos", status=400)


def _read(item, limit: int) -> tuple[str, bytes]:
    """The upload's name and bytes; the size is checked before the bytes are read."""
    if isinstance(item, tuple | list):
        name, content = item
        content = bytes(content)
        if len(content) > limit:
            raise _too_large(str(name), limit)
        return str(name), content
    name = str(getattr(item, "name", None) or "photo")
    size = getattr(item, "size", None)
    if getattr(item, "refused", False) or (size is not None and size > limit):
        # A page upload cut off while it streamed in (dispatch/uploads.py), or one spooled to disk.
        raise _too_large(name, limit)
    if hasattr(item, "seek"):
        item.seek(0)
    content = item.read(limit + 1)
    if len(content) > limit:
        raise _too_large(name, limit)
    return name, content


def photo_reencode(name: str, content: bytes) -> tuple[bytes, str, int, int]:
    """(bytes, content type, width, height) of `content` decoded, turned upright and written again
    without any metadata; DomainError if it is not an image, does not decode or is too large to decode."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(content), formats=list(FORMATS))
    except UnidentifiedImageError:
        raise _not_image(name) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _pixels(name) from None
    except Exception:  # noqa: BLE001  any failure of a decoder on hostile bytes is the file's fault
        raise _broken(name) from None
    with im:
        # Phones write stereo / depth pairs as MPO: a JPEG whose first image is the photo.
        fmt = "JPEG" if im.format == "MPO" else im.format
        if fmt not in FORMATS:
            raise _not_image(name)
        ctype, _ext = FORMATS[fmt]
        w, h = im.size
        if not (0 < w <= MAX_SIDE and 0 < h <= MAX_SIDE) or w * h > MAX_PIXELS:
            raise _pixels(name)
        try:
            im.load()  # the first frame only: an animation's other frames are never decoded
            ImageOps.exif_transpose(im, in_place=True)
            kept = {k: im.info[k] for k in KEEP_INFO if k in im.info}
            im.info = dict(kept)  # what a plugin would otherwise copy from the source (EXIF, XMP, comment)
            if fmt == "JPEG" and im.mode not in ("L", "RGB", "CMYK"):
                im = im.convert("RGB")
            out = io.BytesIO()
            options = {"icc_profile": kept["icc_profile"]} if "icc_profile" in kept else {}
            if fmt == "JPEG":
                options.update(quality=90, optimize=True)
            elif fmt == "WEBP":
                options.update(quality=90)
            elif fmt in ("PNG", "GIF") and "transparency" in kept:
                options["transparency"] = kept["transparency"]
            im.save(out, format=fmt, **options)
        except Exception:  # noqa: BLE001  truncated data, a bad table, a decoder limit
            raise _broken(name) from None
        return out.getvalue(), ctype, im.size[0], im.size[1]


def _pixels(name: str) -> DomainError:
    return DomainError(
        "dispatch.photo_too_large",
        _("照片“%(name)s”的像素过大（每边不超过 %(side)s，总计不超过 %(mp)s 百万像素）。")
        % {"name": name, "side": MAX_SIDE, "mp": MAX_PIXELS // 1_000_000},
        field="photos", status=413)


def photos_check(items) -> list[Photo]:
    """Validate and re-encode uploads ((name, bytes) pairs or file objects); refuse the batch on the first bad one."""
    limit = max_bytes()
    items = list(items or ())
    if len(items) > MAX_COUNT:
        raise DomainError("dispatch.photo_too_many", _("最多上传 %(n)s 张照片。") % {"n": MAX_COUNT},
                          field="photos", status=400)
    out = []
    for item in items:
        name, content = _read(item, limit)
        if not content:
            raise _not_image(name)
        data, ctype, w, h = photo_reencode(name, content)
        out.append(Photo(name, data, ctype, w, h, hashlib.sha256(content).hexdigest()))
    return out


def photos_attach(order, photos: list[Photo], *, kind: str, actor, now) -> list:
    made = []
    for p in photos:
        made.append(Attachment.objects.create(
            order=order, kind=kind, file=p.as_file(), content_type=p.content_type, size=len(p.content),
            width=p.width, height=p.height, sha256=hashlib.sha256(p.content).hexdigest(),
            uploaded_by=actor if getattr(actor, "pk", None) else None, created_at=now,
        ))
    return made


# Entries of a decoded image's `info` that are about the person or the device, not the pixels.
METADATA_INFO = ("exif", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "iptc", "Raw profile type exif")


def photo_has_metadata(content: bytes) -> bool:
    """Whether a stored image still carries EXIF, XMP, comments or text chunks (stored before intake
    re-encoded photos)."""
    try:
        with Image.open(io.BytesIO(content), formats=list(FORMATS)) as im:
            return bool(im.getexif()) or any(k in im.info for k in METADATA_INFO) or bool(getattr(im, "text", None))
    except Exception:  # noqa: BLE001  what does not open is for `attachment_reencode` to report
        return True


def attachment_reencode(attachment, *, actor=None):
    """Re-encode one stored photo as intake does now (upright, no metadata); the old file is deleted
    after commit. Returns the attachment, unchanged if it carried no metadata; DomainError if the
    stored file does not decode."""
    with attachment.file.open("rb") as fh:
        content = fh.read()
    if not photo_has_metadata(content):
        return attachment
    data, ctype, w, h = photo_reencode(attachment.file.name, content)
    with transaction.atomic():
        att = Attachment.objects.select_for_update().get(pk=attachment.pk)
        old_name, old = att.file.name, {"sha256": att.sha256, "size": att.size, "file": att.file.name}
        att.file.save(f"{secrets.token_hex(16)}.{CONTENT_TYPES[ctype]}", ContentFile(data), save=False)
        att.content_type, att.size, att.width, att.height = ctype, len(data), w, h
        att.sha256 = hashlib.sha256(data).hexdigest()
        att.save(update_fields=["file", "content_type", "size", "width", "height", "sha256"])
        audit_log(att, "dispatch.photo.reencoded", actor=actor, old=old,
                  new={"sha256": att.sha256, "size": att.size, "file": att.file.name},
                  reason="metadata stripped (EXIF, GPS)")
        storage = att.file.storage
        transaction.on_commit(lambda: storage.delete(old_name))
    return att
