"""Two `huying worker` processes on one PostgreSQL database never handle the same job twice (issue 18):
the notification outbox (claimed with FOR UPDATE SKIP LOCKED) delivers each message exactly once, and
an exclusive job (a PostgreSQL advisory lock) never runs in both at once.

Real processes, each with its own connections, on a database of this test's own: a copy of the
migrated test database (CREATE DATABASE … TEMPLATE, a second or so), else migrated afresh.
The sender and the exclusive job are tests/two_workers_probe.py's; both record into tables of their own.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connections

from tests import two_workers_probe as probe

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 300

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="PostgreSQL only: SKIP LOCKED and advisory locks (SQLite has one writer at a time)"),
]


def _psycopg(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


@pytest.fixture
def database(django_db_setup, tmp_path):
    """The URL of a migrated database of this test's own, dropped afterwards."""
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    name = f"huying_two_workers_{uuid.uuid4().hex[:8]}"
    template = connections["default"].settings_dict["NAME"]  # pytest-django's migrated test database
    connections.close_all()  # a template must have no other session
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HUYING_DEBUG"}}
    env.update(HUYING_VAR_DIR=str(tmp_path), HUYING_SECRET_KEY="test-" + "k" * 60, PYTHONUNBUFFERED="1",
               DATABASE_URL=f"{base}/{name}", DJANGO_SETTINGS_MODULE="huying.settings",
               HUYING_NOTIFY_SENDERS='{"in_app": "tests.two_workers_probe.RecordingSender"}')
    with _psycopg(base + "/postgres") as c:
        try:
            c.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            copied = True
        except Exception:  # noqa: BLE001 - the template is busy (or gone): migrate a new database instead
            c.execute(f'CREATE DATABASE "{name}"')
            copied = False
    try:
        if not copied:
            subprocess.run([sys.executable, "-m", "huying.cli", "migrate", "-v0"], cwd=ROOT, env=env, check=True,
                           capture_output=True, timeout=300)
        yield env
    finally:
        with _psycopg(base + "/postgres") as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _worker(env, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.two_workers_probe", "worker"], cwd=ROOT, env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def test_two_workers_never_handle_the_same_job_twice(database, tmp_path):
    env = database
    subprocess.run([sys.executable, "-m", "tests.two_workers_probe", "setup", str(MESSAGES)], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=120)
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    workers = [_worker(env, log) for log in logs]
    sql = _psycopg(env["DATABASE_URL"])
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            assert all(w.poll() is None for w in workers), "a worker exited: " + " | ".join(
                log.read_text(errors="replace")[-1500:] for log in logs)
            left = sql.execute("SELECT count(*) FROM dispatch_outboxmessage WHERE status = 'pending'").fetchone()[0]
            runs = sql.execute(f"SELECT count(DISTINCT pid), count(*) FROM {probe.RUNS}").fetchone()
            if left == 0 and runs[1] >= 8:
                break
            time.sleep(0.2)
        time.sleep(1.0)  # a few more contended rounds of the exclusive job
    finally:
        for w in workers:
            _stop(w)
    try:
        pids = {w.pid for w in workers}
        deliveries = sql.execute(f"SELECT message_id, count(*), min(pid) FROM {probe.DELIVERIES} "
                                 "GROUP BY message_id").fetchall()
        messages = sql.execute("SELECT id, status, attempts FROM dispatch_outboxmessage").fetchall()
        runs = sql.execute(f"SELECT pid, started, ended FROM {probe.RUNS} ORDER BY started").fetchall()
    finally:
        sql.close()
    detail = " | ".join(log.read_text(errors="replace")[-800:] for log in logs)

    # Every message delivered, each exactly once, each in one attempt; both workers took a share.
    assert len(messages) == MESSAGES
    assert {(status, attempts) for _id, status, attempts in messages} == {("sent", 1)}, detail
    assert len(deliveries) == MESSAGES and {n for _m, n, _p in deliveries} == {1}, detail
    by_worker = {pid: sum(1 for *_x, p in deliveries if p == pid) for pid in pids}
    assert set(by_worker) == pids and all(by_worker.values()), f"one worker delivered everything: {by_worker}"

    # The exclusive job ran many times, in both processes over the run, and never two runs at once.
    assert len(runs) >= 8 and all(ended is not None for _p, _s, ended in runs), runs
    assert {pid for pid, _s, _e in runs} <= pids
    for (_p1, _s1, end), (_p2, start, _e2) in zip(runs, runs[1:], strict=False):
        assert start >= end, f"exclusive runs overlapped: {runs}"
