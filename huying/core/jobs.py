"""The periodic jobs every app registers with the one worker (`huying worker` runs them all).

An app registers its jobs in its `AppConfig.ready()`, so the worker never reaches into an app
(ARCHITECTURE.md: "each app registers its periodic jobs with the one worker"):

    jobs.register("deadlines", interval=30, fn=deadlines_job, title="工单时限扫描")

A job is `fn(*, now, stopping, every) -> dict[str, int]`: `now` is when this run started,
`stopping()` says the worker was asked to stop (a long job should return early), `every` is the
interval this worker runs it at (a job that coordinates through the database, like a snapshot
that another worker may already have taken, uses it), and the returned counts go on the progress line.

Several workers may run at once. A job whose writes are safe in parallel (rows claimed with
SELECT … FOR UPDATE SKIP LOCKED, or locked and re-checked) runs in every worker and they share the
work; a job registered `exclusive=True` runs in one worker at a time: it takes a PostgreSQL
advisory lock named after the job, and a worker that finds it held skips that run.

A job that raises is logged (the exception's type and where it was raised, never its message,
which may quote residents' data) and tried again after `RETRY_AFTER` seconds (or its own interval
if shorter); the other jobs go on.
"""

import logging
import traceback
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import DatabaseError, connection, connections

log = logging.getLogger("huying.worker")

RETRY_AFTER = 60.0  # seconds before a failed job is tried again


@dataclass(frozen=True)
class Job:
    name: str
    interval: float  # seconds between runs
    fn: Callable[..., dict]
    exclusive: bool = False  # one worker at a time (PostgreSQL advisory lock)
    title: str = ""  # a short description for `huying worker --list`


_registry: dict[str, Job] = {}


def register(name: str, *, interval: float, fn: Callable[..., dict], exclusive: bool = False, title: str = "") -> Job:
    """Register (or replace, so `ready()` may run twice) a periodic job."""
    if not name or any(c.isspace() for c in name):
        raise ValueError(f"job name {name!r}: one word, no spaces")
    if interval <= 0:
        raise ValueError(f"job {name}: interval must be positive")
    job = Job(name=name, interval=float(interval), fn=fn, exclusive=exclusive, title=title)
    _registry[name] = job
    return job


def unregister(name: str) -> None:
    _registry.pop(name, None)


def registered() -> list[Job]:
    """Every registered job, in registration order."""
    return list(_registry.values())


def select(*, only: Iterable[str] = (), skip: Iterable[str] = ()) -> list[Job]:
    """The registered jobs named in `only` (all when empty) minus those in `skip`; unknown names raise KeyError."""
    only, skip = list(only), list(skip)
    unknown = [n for n in only + skip if n not in _registry]
    if unknown:
        raise KeyError(", ".join(unknown))
    return [j for j in registered() if (not only or j.name in only) and j.name not in skip]


@dataclass
class Outcome:
    job: str
    counts: dict = field(default_factory=dict)
    error: str = ""  # the exception's type when the job failed
    busy: bool = False  # an exclusive job another worker was running

    def text(self) -> str:
        if self.error:
            return f"{self.job}: failed ({self.error})"
        if self.busy:
            return f"{self.job}: busy"
        return f"{self.job}: " + (" ".join(f"{k}={v}" for k, v in self.counts.items()) or "-")

    @property
    def idle(self) -> bool:
        """Ran, and found nothing to do (every count zero)."""
        return not self.error and not self.busy and not any(
            v for v in self.counts.values() if isinstance(v, int | float))


HEARTBEAT_S = 300.0


def round_line(outcomes: list[Outcome], *, clock: float, last_line: float | None,
               heartbeat: float = HEARTBEAT_S) -> str:
    """The progress line of one worker round, or "" to stay quiet: a round in which every job found
    nothing to do is printed only as a heartbeat, once per `heartbeat` seconds (the notify job runs
    every 5 s; a line each time would be 17,000 lines a day of nothing)."""
    if not outcomes:
        return ""
    quiet = all(o.idle for o in outcomes)
    if quiet and last_line is not None and clock - last_line < heartbeat:
        return ""
    return " | ".join(o.text() for o in outcomes)


def _lock_key(job: Job) -> str:
    return f"huying.worker.job:{job.name}"


@contextmanager
def _exclusive(job: Job):
    """Yield whether this worker may run `job`: always, unless it is exclusive and another worker holds its lock.

    A session-level lock, because a job commits many transactions of its own; if the connection
    dies, PostgreSQL releases the lock with it. SQLite has one writer anyway: no lock.
    """
    if not job.exclusive or connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [_lock_key(job)])
        got = bool(cur.fetchone()[0])
    try:
        yield got
    finally:
        if got:
            try:
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_advisory_unlock(hashtext(%s))", [_lock_key(job)])
            except DatabaseError:  # the connection is gone, and the lock with it
                log.warning("worker: job %s: could not release its lock (connection lost)", job.name)


def _where(exc: BaseException) -> str:
    """file:line where the exception was raised, without its message (which may quote personal data)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    f = frames[-1]
    return f"{f.filename.rsplit('/huying/', 1)[-1]}:{f.lineno} in {f.name}"


def run_job(job: Job, *, now, stopping: Callable[[], bool] = lambda: False, every: float | None = None) -> Outcome:
    """Run one job once, never raising: a failure is logged and reported in the outcome."""
    every = job.interval if every is None else every
    try:
        with _exclusive(job) as got:
            if not got:
                return Outcome(job.name, busy=True)
            counts = job.fn(now=now, stopping=stopping, every=timedelta(seconds=every))
        return Outcome(job.name, counts=dict(counts or {}))
    except Exception as exc:  # noqa: BLE001 - one job's failure must not stop the others
        log.error("worker: job %s failed: %s at %s; trying again next round", job.name, type(exc).__name__,
                  _where(exc))
        close_unusable()
        return Outcome(job.name, error=type(exc).__name__)


def close_unusable() -> None:
    """Close connections the database dropped or that reached CONN_MAX_AGE, so the next job opens
    fresh ones; never one inside a transaction (a caller's, e.g. a test's)."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()


class Schedule:
    """When each job is next due, on a monotonic clock: all are due at start."""

    def __init__(self, jobs: list[Job], *, every: dict[str, float] | None = None):
        self.jobs = jobs
        self.every = {j.name: (every or {}).get(j.name, j.interval) for j in jobs}
        self.next_at = {j.name: float("-inf") for j in jobs}

    def due(self, t: float) -> list[Job]:
        return [j for j in self.jobs if self.next_at[j.name] <= t]

    def done(self, job: Job, t: float, *, failed: bool = False) -> None:
        every = self.every[job.name]
        self.next_at[job.name] = t + (min(every, RETRY_AFTER) if failed else every)

    def rest(self, t: float) -> float:
        """Seconds until the next job is due (0 when one is due now)."""
        return max(0.0, min(self.next_at.values(), default=t + 60.0) - t)
