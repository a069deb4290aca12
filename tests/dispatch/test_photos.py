"""Photos: re-encoded with Pillow at intake (no EXIF/GPS kept, upright, refused when they do not
decode or would be a decompression bomb), limits checked while a page upload streams in and before
an API body is read, and served only to whoever may see the order."""

import base64
import hashlib
import io
import json
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.test.utils import override_settings
from PIL import Image, PngImagePlugin

from huying.core.errors import DomainError
from huying.dispatch.models import Attachment, WorkOrder
from huying.dispatch.services.photos import photos_check

from .conftest import PASSWORD
from .images import JPEG_HEADER_ONLY, PDF, PNG_1x1, image_bytes

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(size=(40, 20)) -> bytes:
    """A phone-like JPEG: GPS position, camera make and serial, turned by EXIF orientation 6 (90° CW)."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[ORIENTATION] = 6
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (23.0, 7.0, 30.5), 3: "E", 4: (113.0, 15.0, 42.25)})
    im = Image.new("RGB", size, (10, 120, 200))
    out = io.BytesIO()
    im.save(out, format="JPEG", exif=exif.tobytes(), comment=b"taken at home")
    return out.getvalue()


def test_jpeg_with_exif_gps_comes_out_without_exif_and_upright():
    raw = jpeg_with_gps()
    with Image.open(io.BytesIO(raw)) as src:  # the fixture really carries what a phone writes
        assert src.getexif().get_ifd(GPS_IFD)[1] == "N" and src.getexif()[ORIENTATION] == 6
    [p] = photos_check([("scene.jpg", raw)])
    assert p.content_type == "image/jpeg"
    # Orientation applied first: the 40x20 sensor image, turned 90°, is 20 wide and 40 high.
    assert (p.width, p.height) == (20, 40)
    with Image.open(io.BytesIO(p.content)) as out:
        assert out.format == "JPEG" and out.size == (20, 40)
        assert not out.getexif() and "exif" not in out.info and "comment" not in out.info
    assert b"Exif" not in p.content and b"PhoneMaker" not in p.content and b"taken at home" not in p.content
    assert p.sha256 == hashlib.sha256(raw).hexdigest()  # the upload's fingerprint, for retries


def test_png_webp_and_gif_metadata_is_dropped_too():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    text = PngImagePlugin.PngInfo()
    text.add_text("Location", "23.12,113.26 PhoneMaker")
    png = image_bytes("PNG", (3, 2), pnginfo=text, exif=exif.tobytes())
    webp = image_bytes("WEBP", (3, 2), exif=exif.tobytes(), xmp=b"<x:xmpmeta>PhoneMaker</x:xmpmeta>")
    gif = image_bytes("GIF", (3, 2), comment=b"PhoneMaker")
    got = photos_check([("a.png", png), ("b.webp", webp), ("c.gif", gif)])
    assert [(p.content_type, p.width, p.height) for p in got] == [
        ("image/png", 3, 2), ("image/webp", 3, 2), ("image/gif", 3, 2)]
    for p in got:
        assert b"PhoneMaker" not in p.content and b"Exif" not in p.content
        with Image.open(io.BytesIO(p.content)) as out:
            assert not out.getexif() and not {"exif", "xmp", "comment", "Location"} & set(out.info)


def test_a_phones_mpo_is_stored_as_its_first_jpeg_without_metadata():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    buf = io.BytesIO()
    Image.new("RGB", (30, 20), (1, 2, 3)).save(buf, format="MPO", save_all=True, exif=exif.tobytes(),
                                               append_images=[Image.new("RGB", (30, 20))])
    [p] = photos_check([("depth.jpg", buf.getvalue())])
    assert (p.content_type, p.width, p.height) == ("image/jpeg", 30, 20) and b"PhoneMaker" not in p.content


def test_transparency_survives_the_re_encoding():
    im = Image.new("RGBA", (2, 1), (0, 0, 0, 0))
    im.putpixel((1, 0), (255, 0, 0, 255))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    [p] = photos_check([("t.png", buf.getvalue())])
    with Image.open(io.BytesIO(p.content)) as out:
        assert out.convert("RGBA").getpixel((0, 0))[3] == 0 and out.convert("RGBA").getpixel((1, 0)) == (255, 0, 0, 255)


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares its size and holds almost nothing: what a decompression bomb looks like."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("raw,code,status", [
    (JPEG_HEADER_ONLY, "dispatch.photo_broken", 400),  # claims to be a JPEG, does not decode
    (jpeg_with_gps()[:200], "dispatch.photo_broken", 400),  # cut off mid-way
    (png_header(9000, 9000), "dispatch.photo_too_large", 413),  # 81 M pixels: never decoded
    (png_header(30000, 1), "dispatch.photo_too_large", 413),  # a side beyond the limit
    (PDF, "dispatch.photo_not_image", 415),
    (b"", "dispatch.photo_not_image", 415),
])
def test_what_does_not_decode_is_refused_clearly(raw, code, status, monkeypatch):
    decoded = []
    real_load = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self.size) or real_load(self))
    with pytest.raises(DomainError) as exc:
        photos_check([("x.jpg", raw)])
    assert (exc.value.code, exc.value.status, exc.value.field) == (code, status, "photos")
    assert "x.jpg" in exc.value.message
    if status == 413:
        assert decoded == []  # refused from the header, before any pixel is decoded


def test_count_and_size_limits_hold():
    with pytest.raises(DomainError) as exc:
        photos_check([("p.png", PNG_1x1)] * 10)
    assert (exc.value.code, exc.value.status) == ("dispatch.photo_too_many", 400)
    with override_settings(HUYING_DISPATCH_PHOTO_MAX_BYTES=100):
        with pytest.raises(DomainError) as exc:
            photos_check([("big.jpg", image_bytes("JPEG", (64, 64)))])
        assert (exc.value.code, exc.value.status) == ("dispatch.photo_too_large", 413)
        # A file object is refused by its size, without its bytes being read.
        class Spooled:  # an upload Django spooled to disk: its size is known
            name, size = "big.jpg", 5000

            def read(self, *args):
                pytest.fail("read an oversize upload")

        big = Spooled()
        with pytest.raises(DomainError) as exc:
            photos_check([big])
        assert exc.value.code == "dispatch.photo_too_large"


# -- the page upload path: refused while it streams in --------------------------------------------

def multipart(files: list[tuple[str, str, bytes]], fields: dict | None = None):
    boundary = "XyZboundary"
    parts = []
    for name, value in (fields or {}).items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for field, filename, content in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                     f'Content-Type: image/jpeg\r\n\r\n'.encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return RequestFactory().generic("POST", "/orders/report/", body,
                                    content_type=f"multipart/form-data; boundary={boundary}")


@override_settings(HUYING_DISPATCH_PHOTO_MAX_BYTES=64 * 1024, FILE_UPLOAD_MAX_MEMORY_SIZE=10 * 1024 * 1024)
def test_an_oversize_page_upload_is_cut_off_while_it_streams_in():
    big = b"\xff\xd8" + b"x" * (300 * 1024)
    request = multipart([("photos", "ok.png", PNG_1x1), ("photos", "huge.jpg", big),
                         ("resolve-photos", "huge2.jpg", big), ("import_file", "data.csv", big)],
                        {"title": "t"})
    ok, huge = request.FILES.getlist("photos")
    assert ok.read() == PNG_1x1
    # The oversize photo is a stand-in: how much arrived, none of its bytes.
    assert huge.refused and huge.size > 64 * 1024 and huge.read() == b""
    assert request.FILES["resolve-photos"].refused  # a prefixed form's photo field too
    assert request.FILES["import_file"].size == len(big)  # other file fields are not photo-limited
    assert request.POST["title"] == "t"
    with pytest.raises(DomainError) as exc:
        photos_check(request.FILES.getlist("photos"))
    assert (exc.value.code, exc.value.status) == ("dispatch.photo_too_large", 413) and "huge.jpg" in exc.value.message


def test_photos_past_the_count_are_not_kept():
    request = multipart([("photos", f"p{i}.png", PNG_1x1) for i in range(12)])
    got = request.FILES.getlist("photos")
    assert len(got) == 12 and all(f.refused and f.read() == b"" for f in got[9:])
    with pytest.raises(DomainError) as exc:
        photos_check(got)
    assert exc.value.code == "dispatch.photo_too_many"


def test_the_report_page_says_too_large_next_to_the_field(client, world):
    from .test_pages import field_html, report_data

    data = report_data(world)
    data["photos"] = SimpleUploadedFile("huge.jpg", b"\xff\xd8" + b"x" * 200_000, content_type="image/jpeg")
    with override_settings(HUYING_DISPATCH_PHOTO_MAX_BYTES=100_000):
        r = client.post("/orders/report/", data)
    assert r.status_code == 413 and "超过" in field_html(r.content.decode(), "photos")
    assert WorkOrder.objects.count() == 0


# -- the API: a body as large as its documented photos need, 413 JSON beyond ------------------------

def api_client(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def order_body(world, photos):
    lng, lat = world.point("a")
    return {"channel": "api", "subject": "Q010101", "request_type": "complaint", "title": "路面坑洼", "lng": lng,
            "lat": lat, "reporter_phone": "13812345678", "photos": photos}


def noise_png(side: int) -> bytes:
    import os

    buf = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buf, format="PNG", compress_level=0)
    return buf.getvalue()


def test_the_api_takes_a_photo_over_djangos_2_5_mb_body_cap(client, world):
    raw = noise_png(1000)  # 3 MB, 4 MB in base64: more than DATA_UPLOAD_MAX_MEMORY_SIZE, less than 5 MB
    assert 2.5 * 1024 * 1024 < len(raw) * 4 / 3 and len(raw) < 5 * 1024 * 1024
    c = api_client(client, world.users["resident"])
    r = c.post("/api/v1/dispatch/orders", json.dumps(order_body(world, [
        {"name": "big.png", "content_base64": base64.b64encode(raw).decode()}])),
        content_type="application/json", HTTP_IDEMPOTENCY_KEY="big-1")
    assert r.status_code == 201, r.content[:300]
    att = Attachment.objects.get()
    assert (att.content_type, att.width, att.height) == ("image/png", 1000, 1000)


def test_an_oversize_api_body_is_a_413_json_error(client, world):
    c = api_client(client, world.users["resident"])
    body = json.dumps(order_body(world, [{"name": "x.png", "content_base64": "A" * 4_000_000}]))
    with override_settings(HUYING_API_MAX_BODY_BYTES=3_000_000):
        r = c.post("/api/v1/dispatch/orders", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="big-2")
    assert r.status_code == 413 and r["Content-Type"].startswith("application/json")
    assert r.json()["code"] == "request_too_large" and "MB" in r.json()["message"]
    # Within the body cap, a photo over 5 MB is refused before it is decoded: 413 with the field.
    six_mb = base64.b64encode(b"\0" * (6 * 1024 * 1024)).decode()
    r = c.post("/api/v1/dispatch/orders", json.dumps(order_body(world, [{"name": "six.jpg", "content_base64": six_mb}])),
               content_type="application/json", HTTP_IDEMPOTENCY_KEY="big-3")
    assert r.status_code == 413 and r.json()["code"] == "dispatch.photo_too_large" and r.json()["field"] == "photos"
    assert WorkOrder.objects.count() == 0


def test_the_default_api_body_cap_fits_nine_photos_of_five_mb_in_base64():
    from huying.dispatch.uploads import api_max_body_bytes

    assert api_max_body_bytes() >= 9 * 5 * 1024 * 1024 * 4 // 3


# -- serving: only to whoever may see the order ----------------------------------------------------

@pytest.fixture
def photographed(world, report):
    order = report(photos=[("scene.jpg", jpeg_with_gps())])
    return order, Attachment.objects.get(order=order)


def test_a_photo_is_served_to_whoever_sees_the_order(client, world, photographed):
    order, att = photographed
    url = f"/orders/photos/{att.pk}/"
    assert client.get(url).status_code == 404  # anonymous
    for name in ("comm_b", "street_b", "resident2"):  # another territory, another resident
        c = client.__class__()
        assert c.login(username=world.users[name].username, password=PASSWORD)
        assert c.get(url).status_code == 404, name
    for name in ("dispatcher", "street_a", "resident"):  # the centre, the territory, the reporter
        c = client.__class__()
        assert c.login(username=world.users[name].username, password=PASSWORD)
        r = c.get(url)
        assert r.status_code == 200, name
        assert r["Content-Type"] == "image/jpeg" and r["X-Content-Type-Options"] == "nosniff"
        assert "private" in r["Cache-Control"] and "public" not in r["Cache-Control"]
        body = b"".join(r.streaming_content)
        assert body == att.file.open("rb").read() and b"Exif" not in body
    assert c.get("/orders/photos/999999/").status_code == 404
    # MEDIA_ROOT is not published, and the detail page points at the checked URL.
    assert c.get("/media/" + att.file.name).status_code == 404
    c = client.__class__()
    assert c.login(username=world.users["dispatcher"].username, password=PASSWORD)
    html = c.get(f"/orders/{order.pk}/").content.decode()
    assert f'src="{url}"' in html and att.file.name not in html


def test_stored_photos_have_unguessable_names(world, report):
    a = report(photos=[("a.png", PNG_1x1)], idempotency_key="n-1")
    b = report(photos=[("a.png", PNG_1x1)], idempotency_key="n-2", title="另一处")
    names = [x.file.name for x in Attachment.objects.filter(order__in=[a, b])]
    assert len(set(names)) == 2 and not any(hashlib.sha256(PNG_1x1).hexdigest()[:16] in n for n in names)


# -- photos stored before intake re-encoded them ----------------------------------------------------

def test_the_command_strips_metadata_from_photos_stored_before(world, report, django_capture_on_commit_callbacks):
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    from huying.core.models import AuditEntry

    order = report()
    raw = jpeg_with_gps()
    legacy = Attachment.objects.create(order=order, file=ContentFile(raw, name="0123456789abcdef.jpg"),
                                       content_type="image/jpeg", size=len(raw), width=40, height=20,
                                       sha256=hashlib.sha256(raw).hexdigest(), created_at=order.created_at)
    old_name, storage = legacy.file.name, legacy.file.storage
    out = io.StringIO()
    call_command("photos_reencode", "--dry-run", stdout=out)
    assert "would re-encode 1" in out.getvalue() and storage.exists(old_name)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("photos_reencode", stdout=out)
    legacy.refresh_from_db()
    with legacy.file.open("rb") as fh:
        data = fh.read()
    assert b"Exif" not in data and b"PhoneMaker" not in data and (legacy.width, legacy.height) == (20, 40)
    assert legacy.sha256 == hashlib.sha256(data).hexdigest() and not storage.exists(old_name)
    assert AuditEntry.objects.filter(action="dispatch.photo.reencoded", target_id=str(legacy.pk)).count() == 1
    out = io.StringIO()
    call_command("photos_reencode", stdout=out)
    assert "re-encoded 0, already clean 1" in out.getvalue()
