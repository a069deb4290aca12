"""The hot page's time on a few thousand orders, grouped per request versus read from the worker's snapshot.

A measurement, not a check of behaviour: skipped unless HUYING_PERF=1. Run with -s to see the figures:
    HUYING_PERF=1 .venv/bin/pytest tests/dispatch/test_hot_perf.py -q -s -p no:cacheprovider
"""

import csv
import os
import random
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from huying.dispatch.hot.grouping import group_calls
from huying.dispatch.hot.heat import rank
from huying.dispatch.hot.selectors import call_from_order, recent_orders
from huying.dispatch.hot.services import hot_snapshot_take
from huying.dispatch.models import WorkOrder

# The data folder's hot.csv (HUYING_HOT_CSV=…/citizen-messages/hot.csv), else the shipped sample.
HOT_CSV = Path(os.environ.get("HUYING_HOT_CSV") or Path(__file__).parent / "fixtures" / "hot_sample.csv")
N = int(os.environ.get("HUYING_PERF_ORDERS", "3000"))

pytestmark = pytest.mark.skipif(os.environ.get("HUYING_PERF") != "1" or not HOT_CSV.exists(),
                                reason="measurement: set HUYING_PERF=1")


def _timed(fn, repeat=3):
    best = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best or 1e9, time.perf_counter() - t)
    return best, out


def test_hot_page_time_live_versus_snapshot(world, report):
    now = timezone.now()
    template = report(now=now - timedelta(days=1))
    others = {g.code: g for g in world.grids}
    with open(HOT_CSV, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))[:N]
    rng = random.Random(1)
    batch = []
    for i, row in enumerate(rows):
        o = WorkOrder.objects.get(pk=template.pk)
        grid = rng.choice(list(others.values()))
        o.pk, o.code = None, f"P{i:015d}"
        o.title, o.description = row["title"][:120], row["body"][:2000]
        o.grid, o.area_code, o.community = grid, grid.code, grid.community
        o.street_code = grid.code[:9]
        o.created_at = o.updated_at = now - timedelta(seconds=rng.randint(60, 13 * 86400))
        batch.append(o)
    WorkOrder.objects.bulk_create(batch, batch_size=500)
    c = Client()
    c.force_login(world.users["dispatcher"])
    actor = world.users["dispatcher"]

    def old_grouping():  # the page before: all visible orders grouped together on every request
        orders = list(recent_orders(actor=actor, now=now, days=14)[:5000])
        return rank(group_calls([call_from_order(o) for o in orders], window=timedelta(days=14)))

    t_old, groups_old = _timed(old_grouping, repeat=2)
    t_live, r_live = _timed(lambda: c.get("/hot/"), repeat=2)
    assert b"\\u5206\\u7ec4\\u4e3a\\u5b9e\\u65f6\\u8ba1\\u7b97".decode("unicode_escape") in r_live.content.decode()
    t_take, snaps = _timed(lambda: hot_snapshot_take(now=now), repeat=1)
    t_snap, r_snap = _timed(lambda: c.get("/hot/"), repeat=3)
    assert "分组计算于" in r_snap.content.decode()
    print(f"\norders={N + 1} groups(old)={len(groups_old)} groups(snapshot)={len(snaps[0].groups)}\n"
          f"old per-request grouping (all together): {t_old * 1000:.0f} ms\n"
          f"page, grouped per request (street by street): {t_live * 1000:.0f} ms\n"
          f"worker snapshot: {t_take * 1000:.0f} ms (grouping {snaps[0].elapsed_ms} ms)\n"
          f"page, reading the snapshot: {t_snap * 1000:.0f} ms")
