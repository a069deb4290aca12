"""Leaders' figures read from the streaming replica; everything else from the primary (issue 18).

Only code that enters `replica_reads()` reads from the `replica` alias (settings: HUYING_REPLICA_URL):
the dashboard, rankings, monthly reports and their exports. Intake, services, the lifecycle, scope
and sign-in read the primary, so a person always sees what they have just written; inside the block
the models of `PRIMARY_APPS` (people, auth, sessions …: who may see what) still read the primary.
Writes always go to the primary, and only the primary is migrated.

The block decides its source once, on entry: the replica while its lag is within
HUYING_REPLICA_MAX_LAG seconds, else the primary (also when the replica cannot be reached: a
warning is logged once, the page still answers). The lag is read at most every `CHECK_EVERY`
seconds per process. The block yields a `Source` that says which alias it reads and how current
that data is, for the pages' "数据截至" line.

    with replica_reads() as source:
        rows = rankings.ranking(...)
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, router
from django.utils import timezone
from django.utils.connection import ConnectionDoesNotExist

log = logging.getLogger("huying.dbrouter")

REPLICA = "replica"
CHECK_EVERY = 5.0  # seconds a lag reading (or a failure to read it) is trusted, per process
# Who may see what must never lag: these apps' models read the primary even inside the block.
PRIMARY_APPS = frozenset({"people", "auth", "contenttypes", "sessions", "admin", "axes", "django_cache"})


@dataclass(frozen=True)
class Source:
    """Where a block reads from and the time its data is current to."""

    alias: str
    as_of: datetime

    @property
    def replica(self) -> bool:
        return self.alias != DEFAULT_DB_ALIAS


_current: contextvars.ContextVar[Source | None] = contextvars.ContextVar("huying_replica_reads", default=None)


def configured() -> bool:
    """Whether this process has a replica to read from: the alias, and this router to send reads there."""
    if not any(isinstance(r, ReplicaRouter) for r in router.routers):
        return False
    try:
        connections[REPLICA]  # no connection is opened here
    except ConnectionDoesNotExist:
        return False
    return True


def max_lag() -> float:
    return float(settings.HUYING_REPLICA_MAX_LAG)


# PostgreSQL: a standby that has replayed all it received is current (lag 0) however long ago the
# primary last committed; otherwise its lag is the age of the last transaction it replayed. A server
# not in recovery (the same database, or a promoted standby) has no lag. NULL: unknown.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() IS NOT NULL AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
END
"""


def read_lag(alias: str = REPLICA) -> float | None:
    """Seconds the replica's data is behind (None: unknown); raises DatabaseError when it cannot be reached."""
    conn = connections[alias]
    with conn.cursor() as cur:
        if conn.vendor != "postgresql":  # nothing streams to measure (SQLite in tests: the same file)
            cur.execute("SELECT 0")
        else:
            cur.execute(LAG_SQL)
        value = cur.fetchone()[0]
    return None if value is None else max(0.0, float(value))


@dataclass
class _Reading:
    at: float  # time.monotonic() when read
    as_of: datetime | None  # None: the replica is not to be used
    lag: float | None = None
    error: str = ""


_lock = threading.Lock()
_reading: _Reading | None = None
_warned = False


def reset() -> None:
    """Forget the cached lag reading (tests; a repointed replica)."""
    global _reading, _warned
    with _lock:
        _reading = None
        _warned = False


def _check(now: datetime) -> _Reading:
    global _warned
    try:
        lag = read_lag(REPLICA)
    except DatabaseError as exc:
        try:
            connections[REPLICA].close()
        except DatabaseError:
            pass
        if not _warned:
            log.warning("replica unreachable (%s): dashboard reads go to the primary", type(exc).__name__)
            _warned = True
        return _Reading(time.monotonic(), None, error=type(exc).__name__)
    if _warned:
        log.warning("replica reachable again")
        _warned = False
    if lag is None or lag > max_lag():
        return _Reading(time.monotonic(), None, lag=lag)
    return _Reading(time.monotonic(), now - timedelta(seconds=lag), lag=lag)


def replica_state(now: datetime | None = None) -> _Reading:
    """The cached reading, refreshed when older than CHECK_EVERY seconds."""
    global _reading
    now = now or timezone.now()
    reading = _reading
    if reading is not None and time.monotonic() - reading.at < CHECK_EVERY:
        return reading
    # One thread reads the lag (a replica that is down may take connect_timeout to say so); the
    # others go on with the last reading meanwhile rather than queue behind it.
    if not _lock.acquire(blocking=reading is None):
        return reading
    try:
        if _reading is None or time.monotonic() - _reading.at >= CHECK_EVERY:
            _reading = _check(now)
        return _reading
    finally:
        _lock.release()


def choose(now: datetime | None = None) -> Source:
    """The source a block entered now reads from."""
    now = now or timezone.now()
    if not configured():
        return Source(DEFAULT_DB_ALIAS, now)
    reading = replica_state(now)
    if reading.as_of is None:
        return Source(DEFAULT_DB_ALIAS, now)
    return Source(REPLICA, reading.as_of)


def current() -> Source | None:
    """The source of the enclosing `replica_reads()` block, if any."""
    return _current.get()


@contextmanager
def replica_reads():
    """Reads inside go to the replica when it is configured and current enough; yields the `Source`."""
    outer = _current.get()
    source = outer if outer is not None else choose()
    token = _current.set(source)
    try:
        yield source
    finally:
        _current.reset(token)


@contextmanager
def primary_reads():
    """Reads inside go to the primary even within a `replica_reads()` block."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)


def on_replica(fn: Callable, /, *args, **kwargs):
    """`fn(*args, **kwargs)` (reads only) inside `replica_reads()`. Should the replica fail while it
    runs, it is marked down and `fn` runs again on the primary: a page never fails for the replica."""
    with replica_reads() as source:
        if not source.replica:
            return fn(*args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except DatabaseError as exc:
            if connections[REPLICA].is_usable():
                raise
            mark_down(exc)
    with primary_reads(), replica_reads():
        return fn(*args, **kwargs)


def mark_down(exc: BaseException | None = None) -> None:
    """The replica failed: read the primary until the next check."""
    global _reading, _warned
    with _lock:
        _reading = _Reading(time.monotonic(), None, error=type(exc).__name__ if exc else "down")
        if not _warned:
            log.warning("replica failed (%s): dashboard reads go to the primary", _reading.error)
            _warned = True
    try:
        connections[REPLICA].close()
    except DatabaseError:
        pass


class ReplicaRouter:
    """DATABASE_ROUTERS entry, installed only when HUYING_REPLICA_URL is set."""

    def db_for_read(self, model, **hints):
        source = _current.get()
        if source is None or not source.replica or model._meta.app_label in PRIMARY_APPS:
            return DEFAULT_DB_ALIAS
        return source.alias

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA, None}

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
