"""Intake: idempotency and bad input — each refusal is a clear 4xx that stores nothing."""

import pytest
from django.test import override_settings

from huying.core.audit import AuditEntry
from huying.core.errors import DomainError
from huying.dispatch.models import Attachment, IdempotencyKey, Transition, WorkOrder

from .images import FAKE_PNG, PDF, GIF_1x1, JPEG_16x8, PNG_1x1


def nothing_stored():
    return (WorkOrder.objects.count(), IdempotencyKey.objects.count(), Transition.objects.count(),
            Attachment.objects.count(), AuditEntry.objects.filter(action__startswith="dispatch.").count()) == (0,) * 5


def test_a_retry_with_the_same_key_and_body_returns_the_same_order(world, report):
    first = report(idempotency_key="retry-1")
    again = report(idempotency_key="retry-1")
    assert again.pk == first.pk and WorkOrder.objects.count() == 1
    # The same key from another person is their own key.
    other = report(idempotency_key="retry-1", actor=world.users["resident2"])
    assert other.pk != first.pk


def test_the_same_key_with_another_body_is_refused(world, report):
    report(idempotency_key="retry-2")
    with pytest.raises(DomainError) as exc:
        report(idempotency_key="retry-2", description="另一件事")
    assert exc.value.status == 422 and exc.value.code == "dispatch.idempotency_mismatch"
    assert WorkOrder.objects.count() == 1 and Transition.objects.count() == 1


@pytest.mark.parametrize("kwargs, code, status, field", [
    ({"lng": None, "lat": None}, "dispatch.no_location", 400, "location"),
    ({"point": (116.397, 39.909)}, "dispatch.outside_city", 422, "location"),
    ({"lng": "abc", "lat": 23.1}, "dispatch.bad_location", 400, "location"),
    ({"lng": None, "lat": None, "address": "北京市东城区东长安街"}, "dispatch.outside_city", 422, "address"),
    ({"lng": None, "lat": None, "address": "火星基地1号"}, "dispatch.address_not_found", 400, "address"),
    ({"subject": "NOPE"}, "dispatch.unknown_subject", 400, "subject"),
    ({"request_type": "praise"}, "dispatch.unknown_request_type", 400, "request_type"),
    ({"title": "  "}, "dispatch.required", 400, "title"),
    ({"idempotency_key": ""}, "dispatch.idempotency_key_required", 400, "idempotency_key"),
    ({"reporter_phone": "call me"}, "dispatch.bad_phone", 400, "reporter_phone"),
    ({"channel": "pigeon"}, "dispatch.bad_channel", 400, "channel"),
    ({"photos": [("doc.pdf", PDF)]}, "dispatch.photo_not_image", 415, "photos"),
    ({"photos": [("fake.png", FAKE_PNG)]}, "dispatch.photo_not_image", 415, "photos"),
    ({"photos": [("ok.png", PNG_1x1), ("empty.jpg", b"")]}, "dispatch.photo_not_image", 415, "photos"),
])
def test_bad_input_is_a_clear_4xx_and_stores_nothing(world, report, kwargs, code, status, field):
    with pytest.raises(DomainError) as exc:
        report(**kwargs)
    assert (exc.value.code, exc.value.status, exc.value.field) == (code, status, field)
    assert exc.value.message
    assert nothing_stored()


def test_an_oversized_photo_is_refused(world, report):
    with override_settings(HUYING_DISPATCH_PHOTO_MAX_BYTES=1024):
        with pytest.raises(DomainError) as exc:
            report(photos=[("big.png", PNG_1x1 + b"\0" * 2000)])
    assert exc.value.status == 413 and exc.value.code == "dispatch.photo_too_large"
    assert nothing_stored()


def test_jpeg_gif_and_png_are_accepted_with_their_sizes(world, report):
    order = report(photos=[("a.jpg", JPEG_16x8), ("b.gif", GIF_1x1), ("c.png", PNG_1x1)])
    got = list(order.attachments.order_by("id").values_list("content_type", "width", "height"))
    assert got == [("image/jpeg", 16, 8), ("image/gif", 1, 1), ("image/png", 1, 1)]


def test_hotline_and_patrol_channels_need_their_roles(world, report):
    with pytest.raises(DomainError) as exc:
        report(channel="hotline")
    assert exc.value.status == 403
    order = report(channel="hotline", actor=world.users["operator"], reporter_phone="020-83331234")
    assert order.reporter_id is None and order.created_by_id == world.users["operator"].pk
    with pytest.raises(DomainError) as exc:
        report(channel="patrol", actor=world.users["resident"])
    assert exc.value.status == 403
    assert WorkOrder.objects.count() == 1


def test_an_address_is_located_to_its_grid(world, report):
    address = f"{world.communities[0].name}文德路12号"
    if world.real:
        pytest.skip("the real locator's address matching is tested in territory")
    order = report(lng=None, lat=None, address=address)
    assert order.grid_id == world.grids[0].pk and order.lng == world.grids[0].lng
