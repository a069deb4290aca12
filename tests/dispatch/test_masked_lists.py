"""Titles in staff lists show phone and identity numbers masked (people.masking.mask_text); only the
order's own page, for the units handling it, shows what the resident typed."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from huying.dispatch.services import work_order_dispatch

pytestmark = pytest.mark.django_db

TITLE = "井盖缺失 请回电13812345678"
SHOWN = "井盖缺失 请回电138********"


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_order_list_board_queue_and_duplicates_mask_titles(world, report):
    u = world.users
    fresh = report(title=TITLE, now=timezone.now() - timedelta(hours=1))
    sent = report(title=TITLE, now=timezone.now() - timedelta(hours=1))
    sent = work_order_dispatch(sent, actor=u["dispatcher"], unit=world.units["community_a"].pk, reason="属地")
    dispatcher = login(u["dispatcher"])
    pages = {
        "list": dispatcher.get(reverse("dispatch:list")),
        "board": dispatcher.get(reverse("dispatch:board")),
        "queue": login(u["comm_a"]).get(reverse("dispatch:queue")),
        "duplicates": login(u["operator"]).post(reverse("dispatch:duplicates"), {
            "subject": "Q010101", "title": "井盖缺失", "description": "人行道地砖松动",
            "lng": world.point("a")[0], "lat": world.point("a")[1]}),
    }
    for name, r in pages.items():
        html = r.content.decode()
        assert r.status_code == 200, name
        assert SHOWN in html and "13812345678" not in html, name
    assert fresh.code in pages["board"].content.decode() and sent.code in pages["queue"].content.decode()
    # The order's own page, for those handling it, shows the title as typed.
    assert TITLE in login(u["comm_a"]).get(reverse("dispatch:detail", args=[sent.pk])).content.decode()


def test_triage_card_masks_title_and_description(world, report):
    order = report(title=TITLE, description="身份证 440104 19900101 123X，电话 138 1234 5678")
    from huying.dispatch.triage.views import _template

    html = _template("dispatch/triage/_card.html").render({"card": {"order": order, "c": {"label": "城乡建设"}}})
    assert SHOWN in html and "440*** ******** ****" in html and "138 **** ****" in html
    assert "13812345678" not in html and "19900101" not in html


def test_hot_groups_mask_titles(world, report):
    now = timezone.now()
    for h in range(4):
        report(title=TITLE, description="仓边路口井盖缺失多日", now=now - timedelta(hours=h + 1))
    r = login(world.users["dispatcher"]).get(reverse("hot:groups"))
    html = r.content.decode()
    assert r.status_code == 200 and 'class="hot-order"' in html
    assert SHOWN in html and "13812345678" not in html
