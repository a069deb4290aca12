"""The in-app inbox (站内消息): a person's own notifications, newest first, unread marked and counted in
the top menu, residents' numbers masked for anyone outside the handling unit."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from huying.core.errors import DomainError
from huying.dispatch.models import InAppMessage
from huying.dispatch.notify.selectors import inbox_unread_for_request
from huying.dispatch.notify.services import (
    inbox_mark_all_read,
    inbox_message_read,
    notification_enqueue,
    notify_deliver,
)
from huying.dispatch.services import work_order_dispatch

from .conftest import at

T0 = at(2026, 3, 2, 10)
PHONE = "13912345678"


@pytest.fixture
def delivered(world, report, settings):
    """An order whose title carries a phone number, dispatched to community_a (its handler gets it), and
    a copy of the notice sent to the other street's handler, who does not handle it."""
    settings.HUYING_NOTIFY_SENDERS = {"in_app": "huying.dispatch.notify.senders.InAppSender"}
    order = work_order_dispatch(report(title=f"路灯不亮 请回电{PHONE}", now=T0), actor=world.users["dispatcher"],
                                now=T0)
    for i in range(3):
        notification_enqueue("supervision", recipient_kind="user", recipient_id=world.users["street_b"].pk,
                             order_id=order.pk, channels=["in_app"], title=f"督办{i}", body=f"工单「{order.title}」",
                             dedup_key=f"copy:{i}", now=T0 + timedelta(minutes=i))
    notify_deliver(now=T0 + timedelta(hours=1))
    return order


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_the_inbox_lists_own_messages_newest_first_with_unread_marked(world, delivered):
    page = client_for(world.users["street_b"]).get("/inbox/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index("督办2") < html.index("督办1") < html.index("督办0")
    assert html.count('class="inbox-item unread"') == 3
    assert 'id="inbox-badge"' in html and ">3</span>" in html
    assert "路灯不亮" not in client_for(world.users["street_a"]).get("/inbox/").content.decode()


def test_residents_numbers_are_masked_outside_the_handling_unit(world, delivered):
    outsider = client_for(world.users["street_b"]).get("/inbox/").content.decode()
    assert PHONE not in outsider and "请回电139****" in outsider
    handler = client_for(world.users["comm_a"]).get("/inbox/").content.decode()
    assert PHONE in handler


def test_opening_a_message_marks_it_read_and_the_badge_drops(world, delivered):
    user = world.users["street_b"]
    c = client_for(user)
    first = InAppMessage.objects.filter(user=user).order_by("id").first()
    page = c.get(f"/inbox/{first.pk}/").content.decode()
    assert "督办0" in page and PHONE not in page
    first.refresh_from_db()
    assert first.read_at is not None
    assert ">2</span>" in c.get("/inbox/").content.decode()
    # Someone else's message is not found, and stays unread.
    other = InAppMessage.objects.filter(user=world.users["comm_a"]).get()
    assert c.get(f"/inbox/{other.pk}/").status_code == 404
    other.refresh_from_db()
    assert other.read_at is None
    with pytest.raises(DomainError):
        inbox_message_read(other, actor=user)


def test_mark_all_read(world, delivered):
    user = world.users["street_b"]
    response = client_for(user).post("/inbox/read-all/", follow=True)
    assert 'id="inbox-badge"' not in response.content.decode()
    assert not InAppMessage.objects.filter(user=user, read_at__isnull=True).exists()
    assert InAppMessage.objects.filter(user=world.users["comm_a"], read_at__isnull=True).count() == 1
    assert inbox_mark_all_read(actor=user) == 0


def test_the_unread_count_costs_one_query_per_request(world, delivered):
    request = RequestFactory().get("/")
    request.user = world.users["street_b"]
    with CaptureQueriesContext(connection) as ctx:
        counts = [inbox_unread_for_request(request) for _i in range(3)]
    assert counts == [3, 3, 3] and len(ctx.captured_queries) == 1


def test_the_inbox_is_paginated(world, settings):
    settings.HUYING_NOTIFY_SENDERS = {"in_app": "huying.dispatch.notify.senders.InAppSender"}
    user = world.users["street_b"]
    for i in range(25):
        notification_enqueue("supervision", recipient_kind="user", recipient_id=user.pk, channels=["in_app"],
                             title=f"消息{i:02d}", body="b", dedup_key=f"p:{i}", now=T0 + timedelta(minutes=i))
    notify_deliver(now=T0 + timedelta(hours=1))
    c = client_for(user)
    first, second = c.get("/inbox/").content.decode(), c.get("/inbox/?page=2").content.decode()
    assert first.count('class="inbox-item') == 20 and second.count('class="inbox-item') == 5
    assert "消息24" in first and "消息00" in second


def test_without_configured_senders_in_app_messages_reach_the_inbox(world, report, settings):
    settings.HUYING_NOTIFY_SENDERS = None
    order = work_order_dispatch(report(now=T0), actor=world.users["dispatcher"], now=T0)
    assert notify_deliver(now=T0) == {"sent": 2, "failed": 0, "dead": 0}  # SMS through the logging sender
    assert list(InAppMessage.objects.values_list("user_id", "order_id")) == [(world.users["comm_a"].pk, order.pk)]
