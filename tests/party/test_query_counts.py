"""Query bounds of the Party listings: a page of members costs the same number of queries whatever
its length (identity masking must not read the viewer's units once per row)."""

from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from huying.party.services import member_register


@pytest.fixture
def many(city):
    for i in range(25):
        user = city.person(f"m{i:02d}", name=f"党员{i:02d}")
        member_register(user, organisation=city.org["metro"], actor=city.user.metro_secretary,
                        joined_on=date(2015, 7, 1), home_address="广州市越秀区流水井社区文德路12号")


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_community_page_queries_do_not_grow_with_the_rows(city, many, django_assert_max_num_queries):
    c = Client()
    c.force_login(city.user.lsj_secretary)
    c.get("/party/community/")  # warm the session and the per-process caches
    full = _queries(c, "/party/community/")  # 20 member rows on the page
    few = _queries(c, "/party/community/?q=党员00")  # one row
    assert full == few, (full, few)
    with django_assert_max_num_queries(35):
        c.get("/party/community/")


def test_secretary_page_queries_do_not_grow_with_the_rows(city, many, django_assert_max_num_queries):
    c = Client()
    c.force_login(city.user.metro_secretary)
    c.get("/party/org/")
    full = _queries(c, "/party/org/")
    few = _queries(c, "/party/org/?q=党员00")
    assert full == few, (full, few)
    # 24: the roll includes the organisations below (one query per level of the tree, not per row)
    with django_assert_max_num_queries(24):
        c.get("/party/org/")
