"""Test-only helper for tests/core/test_two_workers.py: a recording notification sender, an exclusive
job that records when it ran, and the entry points the test's processes run.

    python -m tests.two_workers_probe setup N   a user and N due in-app outbox messages for them
    python -m tests.two_workers_probe worker    `huying worker --only notify two-workers-probe`
"""

import os
import sys
import time

DELIVERIES = "two_workers_delivery"
RUNS = "two_workers_run"
JOB = "two-workers-probe"
SEND_SECONDS = 0.01  # a sender that takes a moment, so both workers are delivering at the same time
JOB_SECONDS = 0.25  # the exclusive job's run: long enough that the other worker tries it meanwhile

TABLES = f"""
CREATE TABLE {DELIVERIES} (id bigserial PRIMARY KEY, message_id bigint NOT NULL, pid integer NOT NULL);
CREATE TABLE {RUNS} (id bigserial PRIMARY KEY, pid integer NOT NULL, started timestamptz NOT NULL,
                     ended timestamptz);
"""


class RecordingSender:
    """Delivers by writing a row (in the message's own transaction: it commits with the outcome)."""

    def send(self, message, recipients):
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute(f"INSERT INTO {DELIVERIES} (message_id, pid) VALUES (%s, %s)", [message.pk, os.getpid()])
        time.sleep(SEND_SECONDS)


def probe_job(*, now, stopping, every) -> dict:
    """Exclusive: its start and end are committed at once (autocommit), so overlapping runs would show."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {RUNS} (pid, started) VALUES (%s, clock_timestamp()) RETURNING id", [os.getpid()])
        run = cur.fetchone()[0]
    time.sleep(JOB_SECONDS)
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {RUNS} SET ended = clock_timestamp() WHERE id = %s", [run])
    return {"runs": 1}


def _setup(n: int) -> None:
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from huying.dispatch.notify.models import NotifyChannel, NotifyEvent, OutboxMessage, RecipientKind
    from huying.people.services import user_create

    with connection.cursor() as cur:
        cur.execute(TABLES)
    user = user_create(username="two-workers", password="Two-workers-2026", display_name="两个工作进程",
                       actor=None, check_password=False)
    now = timezone.now()
    OutboxMessage.objects.bulk_create([
        OutboxMessage(event=NotifyEvent.DISPATCH, channel=NotifyChannel.IN_APP, recipient_kind=RecipientKind.USER,
                      recipient_id=user.pk, dedup_key=f"two-workers-{i}", title=f"消息 {i}", body="测试",
                      next_attempt_at=now - timedelta(seconds=1), created_at=now) for i in range(n)])


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huying.settings")
    import django

    django.setup()
    if argv[1] == "setup":
        _setup(int(argv[2]))
        return
    from django.core.management import execute_from_command_line

    from huying.core import jobs

    jobs.register(JOB, interval=0.05, fn=probe_job, exclusive=True, title="two workers: exclusive probe")
    execute_from_command_line(["huying", "worker", "--only", "notify", JOB])


if __name__ == "__main__":
    main(sys.argv)
