"""The replica router (issue 18): leaders' figures read the replica inside `replica_reads()`, all else the primary;
reads fall back to the primary under lag or when the replica cannot be reached; pages say how fresh they are.

The `replica` fixture adds the alias the way HUYING_REPLICA_URL does (a test mirror of the test database:
another connection to the same database) and installs the router. On PostgreSQL the lag query runs for real.
"""

import copy
import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from dispatch.conftest import (  # noqa: F401  the dispatch tests' small city, for the pages
    PASSWORD,
    fresh_calendar,
    media,
    report,
    territory_mode,
    world,
)
from django.db import OperationalError, connections
from django.db.utils import load_backend
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.connection import ConnectionDoesNotExist

from huying.core import dbrouter
from huying.core.dbrouter import REPLICA, ReplicaRouter, on_replica, primary_reads, replica_reads
from huying.dispatch.models import WorkOrder
from huying.insight import selectors
from huying.insight.models import AreaDay
from huying.people.models import Membership

ROOT = Path(__file__).resolve().parents[2]
ROUTERS = ["huying.core.dbrouter.ReplicaRouter"]


def _add_alias(**changes) -> None:
    """The replica's connection, made here rather than from settings: Django's test case refuses aliases
    it was not told of at its start, but lets a connection made during the test be."""
    cfg = copy.deepcopy(connections["default"].settings_dict)
    cfg.update(changes)
    cfg["TEST"] = {**cfg.get("TEST", {}), "MIRROR": "default"}
    connections[REPLICA] = load_backend(cfg["ENGINE"]).DatabaseWrapper(cfg, REPLICA)


def _drop_alias() -> None:
    try:
        conn = connections[REPLICA]
    except ConnectionDoesNotExist:
        return
    try:
        conn.close()
    except Exception:  # noqa: BLE001 - an unreachable replica has nothing to close
        pass
    del connections[REPLICA]


@pytest.fixture
def replica(settings):
    """A `replica` alias on the test database and the router, as settings.py sets them with HUYING_REPLICA_URL."""
    _add_alias()
    settings.DATABASE_ROUTERS = ROUTERS
    settings.HUYING_REPLICA_MAX_LAG = 30
    dbrouter.reset()
    yield REPLICA
    dbrouter.reset()
    _drop_alias()


@pytest.fixture
def lag(monkeypatch):
    """lag(seconds) makes the replica report that lag (None: unknown; an exception: unreachable)."""
    calls = []

    def set_lag(value):
        def read(alias=REPLICA):
            calls.append(alias)
            if isinstance(value, BaseException):
                raise value
            return value

        monkeypatch.setattr(dbrouter, "read_lag", read)
        dbrouter.reset()
        return calls

    return set_lag


# -- settings ---------------------------------------------------------------------------------------

def _settings_with(**env) -> dict:
    code = ("import json; from huying import settings as s; print(json.dumps({'dbs': sorted(s.DATABASES), "
            "'routers': s.DATABASE_ROUTERS, 'replica': s.DATABASES.get('replica', {}).get('TEST'), "
            "'lag': s.HUYING_REPLICA_MAX_LAG}))")
    base = {k: v for k, v in os.environ.items() if not k.startswith("HUYING_REPLICA")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True,
                         text=True, timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_router_is_off_without_a_replica_url(tmp_path):
    off = _settings_with(HUYING_VAR_DIR=str(tmp_path))
    assert off == {"dbs": ["default"], "routers": [], "replica": None, "lag": 30}
    on = _settings_with(HUYING_VAR_DIR=str(tmp_path), HUYING_REPLICA_URL=f"sqlite:///{tmp_path / 'r.sqlite3'}",
                        HUYING_REPLICA_MAX_LAG="5")
    assert on == {"dbs": ["default", "replica"], "routers": ROUTERS, "replica": {"MIRROR": "default"}, "lag": 5}


def test_without_the_replica_every_block_reads_the_primary():
    assert not dbrouter.configured()
    with replica_reads() as source:
        assert source.alias == "default" and not source.replica


# -- routing ----------------------------------------------------------------------------------------

def test_figures_read_the_replica_only_inside_the_block(replica, lag):
    lag(0.0)
    r = ReplicaRouter()
    assert r.db_for_read(AreaDay) == "default" and r.db_for_read(WorkOrder) == "default"
    with replica_reads() as source:
        assert source.alias == REPLICA
        assert r.db_for_read(AreaDay) == REPLICA and r.db_for_read(WorkOrder) == REPLICA
        # Who may see what never lags; writes always go to the primary.
        assert r.db_for_read(Membership) == "default"
        assert r.db_for_write(AreaDay) == "default" and r.db_for_write(WorkOrder) == "default"
        with primary_reads():
            assert r.db_for_read(AreaDay) == "default"
        assert r.db_for_read(AreaDay) == REPLICA
    assert r.db_for_read(AreaDay) == "default"
    assert r.allow_migrate("default", "insight") and not r.allow_migrate(REPLICA, "insight")


def test_reads_fall_back_to_the_primary_under_lag(replica, lag, settings):
    lag(31.0)
    with replica_reads() as source:
        assert source.alias == "default"
        assert ReplicaRouter().db_for_read(AreaDay) == "default"
    lag(29.0)
    now = timezone.now()
    with replica_reads() as source:
        assert source.alias == REPLICA
        assert abs((now - source.as_of).total_seconds() - 29) < 2  # the data's time, not the clock's
    lag(None)  # a standby that cannot say how far behind it is
    with replica_reads() as source:
        assert source.alias == "default"
    settings.HUYING_REPLICA_MAX_LAG = 60
    lag(31.0)
    with replica_reads() as source:
        assert source.alias == REPLICA


def test_the_lag_is_read_at_most_every_few_seconds(replica, lag, monkeypatch):
    calls = lag(0.0)
    for _ in range(5):
        with replica_reads():
            pass
    assert calls == [REPLICA]
    monkeypatch.setattr(dbrouter, "CHECK_EVERY", 0.0)
    with replica_reads():
        pass
    assert calls == [REPLICA, REPLICA]


def test_an_unreachable_replica_falls_back_and_warns_once(replica, lag, monkeypatch, caplog):
    monkeypatch.setattr(dbrouter, "CHECK_EVERY", 0.0)
    lag(OperationalError("connection refused"))
    with caplog.at_level(logging.WARNING, logger="huying.dbrouter"):
        for _ in range(3):
            with replica_reads() as source:
                assert source.alias == "default"
    assert [r.getMessage() for r in caplog.records] == [
        "replica unreachable (OperationalError): dashboard reads go to the primary"]


def test_a_replica_that_fails_mid_request_is_left_for_the_primary(replica, lag, monkeypatch):
    lag(0.0)
    seen = []

    def figures():
        seen.append(dbrouter.current().alias)
        if len(seen) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return "figures"

    monkeypatch.setattr(type(connections[REPLICA]), "is_usable", lambda self: False)
    assert on_replica(figures) == "figures"
    assert seen == [REPLICA, "default"]
    with replica_reads() as source:  # marked down until the next check
        assert source.alias == "default"


def test_freshness_is_the_replicas_time_or_the_oldest_unsummed_change(replica, lag):
    lag(12.0)
    now = timezone.now()
    with replica_reads():
        fresh = selectors.freshness({"orders": 0, "oldest": None}, now=now)
        assert fresh["replica"] and abs((now - fresh["as_of"]).total_seconds() - 12) < 2
        older = now - timedelta(minutes=3)
        assert selectors.freshness({"orders": 4, "oldest": older}, now=now)["as_of"] == older
    assert selectors.freshness({"orders": 0, "oldest": None}, now=now) == {
        "as_of": now, "replica": False, "same_day": True}


# -- end to end: a second connection to the test database ----------------------------------------------

@pytest.fixture
def leader(transactional_db, world, report, django_capture_on_commit_callbacks, client):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        report(now=timezone.now())  # today, so the 30-day figures count it
    assert client.login(username=world.users["operator"].username, password=PASSWORD)
    return client


def _tables(ctx) -> str:
    return " ".join(q["sql"] for q in ctx.captured_queries)


def test_the_dashboard_reads_its_figures_from_the_replica(leader, replica):
    with CaptureQueriesContext(connections[REPLICA]) as on_replica_q, \
            CaptureQueriesContext(connections["default"]) as on_primary_q:
        page = leader.get("/insight/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'class="data-freshness"' in body and 'data-source="replica"' in body and "数据截至" in body
    assert "insight_areadaytotal" in _tables(on_replica_q) and "insight_areanow" in _tables(on_replica_q)
    assert "people_membership" not in _tables(on_replica_q)  # the scope check reads the primary
    assert "insight_area" not in _tables(on_primary_q)
    with CaptureQueriesContext(connections[REPLICA]) as q:
        tiles = leader.get("/insight/tiles/")
        assert tiles.status_code == 200 and 'data-source="replica"' in tiles.content.decode()
        for path in ("/insight/rankings/", "/insight/report/", "/insight/forecast/"):
            page = leader.get(path)
            assert page.status_code == 200 and 'data-source="replica"' in page.content.decode(), path
        assert leader.get("/insight/api/summary/").json()["created"] == 1
        assert leader.get("/insight/report.xlsx").status_code == 200
    assert q.captured_queries
    # An ordinary read outside the block, and a write, stay on the primary.
    with CaptureQueriesContext(connections[REPLICA]) as q:
        assert WorkOrder.objects.count() == 1
        with replica_reads():
            WorkOrder.objects.filter(pk=WorkOrder.objects.get().pk).update(title="路面坑洼（补充）")
    assert [x["sql"].split()[0] for x in q.captured_queries] == ["SELECT"]  # the get() inside the block


def test_the_dashboard_under_lag_reads_the_primary(leader, replica, lag):
    lag(300.0)
    with CaptureQueriesContext(connections[REPLICA]) as q:
        page = leader.get("/insight/")
    assert page.status_code == 200 and 'data-source="primary"' in page.content.decode()
    assert q.captured_queries == []


def test_an_unreachable_replica_still_gives_the_page(leader, settings):
    # A real failed connection: a server nobody listens on, or a SQLite file in a missing directory.
    if connections["default"].vendor == "postgresql":
        _add_alias(HOST="127.0.0.1", PORT="9", OPTIONS={**connections["default"].settings_dict.get("OPTIONS", {}),
                                                         "connect_timeout": 2})
    else:
        _add_alias(NAME="/nonexistent-huying-dir/replica.sqlite3")
    settings.DATABASE_ROUTERS = ROUTERS
    dbrouter.reset()
    try:
        page = leader.get("/insight/")
        assert page.status_code == 200 and 'data-source="primary"' in page.content.decode()
    finally:
        dbrouter.reset()
        _drop_alias()
