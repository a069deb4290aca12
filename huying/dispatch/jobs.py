"""Dispatch's periodic jobs, registered with the one worker in `DispatchConfig.ready()` (see core/jobs.py).

Which run in parallel and which one at a time (several `huying worker` processes may run at once):
- deadlines, notify: rows are claimed with SELECT … FOR UPDATE SKIP LOCKED, so workers share them;
- escalation: each whistle call and order is locked and re-checked, and a notice's level is unique
  per (order, unit), so a second worker finds the work done and issues nothing twice;
- partitions, hot-snapshots, alerts: exclusive (a PostgreSQL advisory lock per job). Two alert
  scans at once could each miss the other's alert for the same surge and notify the area twice;
  a snapshot or a partition check twice is only wasted work.
"""

from django.db import connection

from huying.core import jobs

NOTIFY_BATCH = 100

# NOTE: each job imports what it runs when it runs. This file is imported by `DispatchConfig.ready()` in every
# process (web, `huying help`, tests); the worker alone needs the services behind the jobs.


def deadlines_job(*, now, stopping, every, batch: int = 500) -> dict:
    """临期 at 75 %, 超期 at 100 % of each running clock."""
    from .services import deadline_sweep  # late: see NOTE

    return deadline_sweep(now=now, batch=batch)


def partitions_job(*, now, stopping, every) -> dict:
    """The order table's monthly partitions, this month and the next few (PostgreSQL; D15)."""
    from .partitions import ensure  # late: see NOTE

    if connection.vendor != "postgresql":
        return {}
    done = ensure(now=now)
    return {"created": len(done["created"]), "moved": done["moved"]}


def hot_snapshots_job(*, now, stopping, every) -> dict:
    """Group each city's recent orders into hot issues for the hot page, unless a snapshot is newer than `every`."""
    from .hot.services import hot_snapshot_due, hot_snapshot_take  # late: see NOTE

    if not hot_snapshot_due(now=now, every=every):
        return {}
    snaps = hot_snapshot_take(now=now)
    return {"hot_groups": sum(len(s.groups) for s in snaps), "hot_ms": sum(s.elapsed_ms for s in snaps)}


def alerts_job(*, now, stopping, every) -> dict:
    """Raise early-warning alerts (预警) where a subject in a street or a hot issue surged in the last day."""
    from .hot.services import hot_scan  # late: see NOTE

    return {"alerts": len(hot_scan(now=now))}


def escalation_job(*, now, stopping, every) -> dict:
    """Flag missed whistle reports (吹哨报到) and issue or escalate supervision notices (督办)."""
    from .escalation.services import escalation_sweep  # late: see NOTE

    return escalation_sweep(now=now)


def notify_job(*, now, stopping, every, batch: int = NOTIFY_BATCH) -> dict:
    """Deliver the notification outbox's due messages, draining it before resting."""
    from .notify.services import notify_deliver  # late: see NOTE

    total: dict[str, int] = {}
    while True:
        counts = notify_deliver(now=now, limit=batch)
        for k, v in counts.items():
            total[k] = total.get(k, 0) + v
        if sum(counts.values()) < batch or stopping():
            return total


def register() -> None:
    jobs.register("deadlines", interval=30, fn=deadlines_job, title="工单时限：临期与超期")
    jobs.register("partitions", interval=24 * 3600, fn=partitions_job, exclusive=True,
                  title="工单表按月分区（PostgreSQL）")
    jobs.register("hot-snapshots", interval=300, fn=hot_snapshots_job, exclusive=True, title="热点问题快照")
    jobs.register("alerts", interval=600, fn=alerts_job, exclusive=True, title="预警扫描：诉求激增")
    jobs.register("escalation", interval=60, fn=escalation_job, title="吹哨报到超时与督办")
    jobs.register("notify", interval=5, fn=notify_job, title="通知投递")
