"""Tiny real images (and fakes) for photo checks."""

import base64
import io

PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
GIF_1x1 = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def image_bytes(fmt: str = "JPEG", size=(16, 8), color=(200, 60, 40), **save) -> bytes:
    """A real image of `size`, encoded by Pillow (photos are decoded and re-encoded at intake)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt, **save)
    return out.getvalue()


JPEG_16x8 = image_bytes("JPEG", (16, 8))
# A JPEG header that declares 16x8 but carries no image data: it does not decode.
JPEG_HEADER_ONLY = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
                    b"\xff\xc0\x00\x11\x08\x00\x08\x00\x10\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xd9")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
FAKE_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40  # right magic, no IHDR
