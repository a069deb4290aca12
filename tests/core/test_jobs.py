"""The job registry and `huying worker`: every app's periodic jobs, each at its interval, failures contained."""

import logging
import os
import signal
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.utils import timezone

from huying.core import jobs
from huying.core.loop import run_forever

pytestmark = pytest.mark.django_db

DISPATCH_JOBS = ["deadlines", "partitions", "hot-snapshots", "alerts", "escalation", "notify"]


@pytest.fixture
def extra_jobs():
    """Register jobs for one test and take them away afterwards."""
    added = []

    def add(name, fn, **kw):
        added.append(name)
        return jobs.register(name, fn=fn, **{"interval": 10, **kw})

    yield add
    for name in added:
        jobs.unregister(name)


def test_dispatch_registers_every_periodic_job_in_its_app_config():
    names = [j.name for j in jobs.registered()]
    assert all(n in names for n in DISPATCH_JOBS)
    by_name = {j.name: j for j in jobs.registered()}
    # One at a time where two workers would repeat work or double-notify; shared where rows are claimed.
    assert {n for n in DISPATCH_JOBS if by_name[n].exclusive} == {"partitions", "hot-snapshots", "alerts"}
    assert by_name["partitions"].interval == 24 * 3600 and by_name["notify"].interval == 5


def test_select_only_and_skip_and_unknown_names():
    assert [j.name for j in jobs.select(only=["notify", "alerts"])] == ["alerts", "notify"]
    assert "notify" not in [j.name for j in jobs.select(skip=["notify"])]
    with pytest.raises(KeyError):
        jobs.select(only=["nosuch"])
    with pytest.raises(ValueError):
        jobs.register("two words", interval=1, fn=lambda **kw: {})


def test_a_failing_job_is_logged_without_its_message_and_the_others_run(extra_jobs, caplog):
    def boom(**kw):
        raise ValueError("居民 张三 13812345678")  # a message that must not reach the log

    extra_jobs("boom", boom)
    extra_jobs("fine", lambda **kw: {"done": 1})
    out = StringIO()
    with caplog.at_level(logging.ERROR, logger="huying.worker"):
        call_command("worker", "--once", "--only", "boom", "fine", stdout=out)
    assert "boom: failed (ValueError)" in out.getvalue() and "fine: done=1" in out.getvalue()
    logged = caplog.text
    assert "job boom failed: ValueError at" in logged and "test_jobs.py" in logged
    assert "13812345678" not in logged and "张三" not in logged and "13812345678" not in out.getvalue()


def test_the_schedule_runs_each_job_at_its_interval_and_retries_a_failure_soon():
    a = jobs.Job("a", 30, lambda **kw: {})
    b = jobs.Job("b", 3600, lambda **kw: {})
    s = jobs.Schedule([a, b], every={"b": 7200})
    assert [j.name for j in s.due(0)] == ["a", "b"]  # all due at start
    s.done(a, 0)
    s.done(b, 0, failed=True)
    assert s.rest(0) == 30 and [j.name for j in s.due(30)] == ["a"]
    assert [j.name for j in s.due(jobs.RETRY_AFTER)] == ["a", "b"]  # the failed one again after a minute
    s.done(b, 100)
    assert s.next_at["b"] == 100 + 7200


def test_worker_once_runs_every_dispatch_job_and_prints_one_line():
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1
    for name in DISPATCH_JOBS:
        assert f"{name}: " in lines[0]
    assert "escalation: flagged=0 supervised=0" in lines[0] and "alerts: alerts=0" in lines[0]


def test_worker_options_only_skip_every_hot_every_and_list():
    out = StringIO()
    call_command("worker", "--once", "--only", "escalation", "notify", stdout=out)
    assert "escalation: " in out.getvalue() and "notify: " in out.getvalue() and "deadlines" not in out.getvalue()
    out = StringIO()
    call_command("worker", "--once", "--skip", "notify", "--hot-every", "0", stdout=out)
    assert "notify" not in out.getvalue() and "hot-snapshots" not in out.getvalue()
    assert "deadlines: " in out.getvalue()
    out = StringIO()
    call_command("worker", "--list", "--every", "alerts=120", "--interval", "10", stdout=out)
    listed = out.getvalue()
    assert all(n in listed for n in DISPATCH_JOBS) and "one worker at a time" in listed
    assert [ln.split()[2] for ln in listed.splitlines() if ln.startswith(("alerts", "deadlines"))] == ["10", "120"]
    with pytest.raises(CommandError, match="unknown job: nosuch"):
        call_command("worker", "--once", "--only", "nosuch", stdout=StringIO())


def test_the_worker_delivers_the_outbox():
    from django.contrib.auth import get_user_model

    from huying.dispatch.models import OutboxMessage
    from huying.dispatch.notify.services import notification_enqueue

    user = get_user_model().objects.create_user(username="h", password="x")
    now = timezone.now() - timedelta(minutes=1)
    notification_enqueue("supervision", recipient_kind="user", recipient_id=user.pk, channels=["in_app"],
                         title="督办", body="b", dedup_key="jobs:1", now=now)
    out = StringIO()
    call_command("worker", "--once", "--only", "notify", stdout=out)
    assert "notify: sent=1" in out.getvalue()
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SENT


def test_the_loop_stops_once_its_parent_is_gone():
    rounds = []
    saved = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        # Our parent's pid is not 1 here: a parent pid that is not ours means "the server that started us is gone".
        run_forever(lambda stopping: rounds.append(1) or "", once=False, interval=60, stdout=StringIO(),
                    parent_pid=1 if os.getppid() != 1 else 2)
    finally:
        signal.signal(signal.SIGTERM, saved[0])
        signal.signal(signal.SIGINT, saved[1])
    assert rounds == [1]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_an_exclusive_job_runs_in_one_worker_at_a_time(extra_jobs):
    ran = []
    job = extra_jobs("solo", lambda **kw: ran.append(1) or {"ran": 1}, exclusive=True)
    other = connections.create_connection("default")  # a second worker's connection
    try:
        with other.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(hashtext(%s))", ["huying.worker.job:solo"])
        assert jobs.run_job(job, now=timezone.now()).busy and ran == []
        with other.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(hashtext(%s))", ["huying.worker.job:solo"])
        assert jobs.run_job(job, now=timezone.now()).counts == {"ran": 1}
        with other.cursor() as cur:  # and it let go of the lock after running
            cur.execute("SELECT pg_try_advisory_lock(hashtext(%s))", ["huying.worker.job:solo"])
            assert cur.fetchone()[0] is True
    finally:
        other.close()


def test_a_round_with_nothing_done_is_printed_only_as_a_heartbeat():
    from huying.core.jobs import HEARTBEAT_S, Outcome, round_line

    idle = [Outcome("notify", {"sent": 0, "failed": 0, "dead": 0}), Outcome("partitions", {})]
    busy = [Outcome("notify", {"sent": 2, "failed": 0, "dead": 0})]
    assert round_line(idle, clock=100.0, last_line=None) == "notify: sent=0 failed=0 dead=0 | partitions: -"
    assert round_line(idle, clock=105.0, last_line=100.0) == ""
    assert round_line(idle, clock=100.0 + HEARTBEAT_S, last_line=100.0).startswith("notify:")
    assert round_line(busy, clock=105.0, last_line=100.0) == "notify: sent=2 failed=0 dead=0"
    assert round_line([Outcome("alerts", error="OperationalError")], clock=105.0, last_line=100.0) \
        == "alerts: failed (OperationalError)"
    assert round_line([Outcome("alerts", busy=True)], clock=105.0, last_line=100.0) == "alerts: busy"
    assert round_line([], clock=105.0, last_line=None) == ""
