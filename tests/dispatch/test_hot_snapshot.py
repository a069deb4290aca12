"""Hot-issue snapshots: the worker groups each city's orders every few minutes, the page reads the newest."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from huying.dispatch.hot.grouping import Call, group_calls
from huying.dispatch.hot.models import HotSnapshot
from huying.dispatch.hot.selectors import SNAPSHOT_STALE, group_by_street, hot_groups, hot_groups_page
from huying.dispatch.hot.services import hot_snapshot_due, hot_snapshot_take

from .conftest import at

T0 = at(2026, 3, 20, 12, 0)


@pytest.fixture
def spike(world, report):
    """Quiet weeks at point a, then five calls about one manhole within hours."""
    for d in (25, 15, 5):
        report(title="路面坑洼", now=T0 - timedelta(days=d))
    return [report(title="仓边路井盖缺失，行人容易跌落", description="仓边路口井盖缺失多日",
                   now=T0 - timedelta(hours=h + 1)) for h in range(5)]


def test_grouping_street_by_street_finds_the_same_groups():
    base = at(2026, 3, 2, 10, 0)
    texts = ["仓边路井盖缺失", "仓边路井盖缺失，很危险", "仓边路口井盖缺失", "大新路夜间施工噪音扰民", "大新路施工噪音扰民"]
    calls = [Call(id=str(i), title=t, body="", at=base + timedelta(hours=i), area_code=area)
             for i, (t, area) in enumerate((t, a) for a in ("440104001001001", "440104002001001") for t in texts)]
    whole = sorted(sorted(c.id for c in g.calls) for g in group_calls(calls, window=timedelta(days=14)))
    split = sorted(sorted(c.id for c in g.calls) for g in group_by_street(calls, days=14))
    assert whole == split and len(split) == 4


def test_snapshot_is_taken_per_city_and_read_through_the_viewer_s_scope(world, spike, report):
    (snap,) = hot_snapshot_take(now=T0)
    assert snap.city_code == "440100" and snap.order_count == 6 and snap.days == 14
    assert [g["size"] for g in snap.groups] == [5] and sorted(snap.groups[0]["orders"]) == sorted(o.pk for o in spike)
    # A sixth call after the snapshot is not on the page until the next one: the page reads the snapshot.
    report(title="仓边路井盖缺失，行人容易跌落", description="仓边路口井盖缺失多日", now=T0 + timedelta(minutes=1))
    now = T0 + timedelta(minutes=2)
    groups, computed_at = hot_groups_page(actor=world.users["dispatcher"], now=now)
    assert computed_at == snap.computed_at and [g.size for g in groups] == [5]
    assert {o.pk for o in groups[0].orders} == {o.pk for o in spike} and groups[0].heat > 0
    assert hot_groups(actor=world.users["dispatcher"], now=now)[0].size == 6  # grouping live sees it
    assert hot_groups_page(actor=world.users["street_b"], now=now) == ([], snap.computed_at)
    assert [g.size for g in hot_groups_page(actor=world.users["street_a"], now=now)[0]] == [5]
    assert hot_groups_page(actor=world.users["dispatcher"], now=now, min_size=6)[0] == []
    # Another window, or a stale snapshot (the worker stopped), is grouped live.
    assert hot_groups_page(actor=world.users["dispatcher"], now=now, days=7)[1] is None
    late = T0 + SNAPSHOT_STALE + timedelta(minutes=1)
    groups, computed_at = hot_groups_page(actor=world.users["dispatcher"], now=late)
    assert computed_at is None and groups[0].size == 6


def test_without_a_snapshot_the_page_groups_live(world, spike):
    groups, computed_at = hot_groups_page(actor=world.users["dispatcher"], now=T0)
    assert computed_at is None and [g.size for g in groups] == [5]


def test_old_snapshots_are_pruned_and_only_the_newest_is_read(world, spike):
    hot_snapshot_take(now=T0 - timedelta(days=2))
    hot_snapshot_take(now=T0 - timedelta(minutes=10))
    newest = hot_snapshot_take(now=T0)[0]
    assert HotSnapshot.objects.count() == 2
    assert hot_groups_page(actor=world.users["dispatcher"], now=T0 + timedelta(minutes=1))[1] == newest.computed_at
    assert not hot_snapshot_due(now=T0 + timedelta(minutes=4)) and hot_snapshot_due(now=T0 + timedelta(minutes=5))


def test_worker_takes_a_snapshot_when_one_is_due(world, report):
    now = timezone.now()
    for h in range(3):
        report(title="仓边路井盖缺失，行人容易跌落", now=now - timedelta(hours=h + 1))
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    assert "hot_groups=1" in out.getvalue() and HotSnapshot.objects.count() == 1
    out = StringIO()
    call_command("worker", "--once", stdout=out)  # within five minutes: not again
    assert "hot_groups" not in out.getvalue() and HotSnapshot.objects.count() == 1
    call_command("worker", "--once", "--hot-every", "0", stdout=StringIO())
    assert HotSnapshot.objects.count() == 1
    c = Client()
    c.force_login(world.users["dispatcher"])
    html = c.get("/hot/").content.decode()
    assert "分组计算于" in html and html.count('class="hot-order"') == 3
    assert "分组为实时计算" in c.get("/hot/?days=7").content.decode()
