"""`huying worker`: sweep deadlines (临期 at 75 %, 超期 at 100 %) in a loop, or once with --once.

Every --hot-every seconds (default 300; 0 turns it off) it also groups each city's recent orders
into hot issues and stores a snapshot that the hot page reads (热点问题快照).

Several workers may run at once on PostgreSQL: each batch takes its rows with
SELECT … FOR UPDATE SKIP LOCKED, so they split the work instead of repeating it.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand

from huying.core.loop import run_forever
from huying.dispatch.partitions import ensure_daily
from huying.dispatch.services import deadline_sweep


class Command(BaseCommand):
    help = "Sweep work-order deadlines: mark warnings and overdue orders (safe to run as several processes)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="sweep once and exit")
        parser.add_argument("--interval", type=float, default=30.0, help="seconds between sweeps (default 30)")
        parser.add_argument("--batch", type=int, default=500, help="orders per transaction (default 500)")
        parser.add_argument("--hot-every", type=float, default=300.0,
                            help="seconds between hot-issue snapshots (default 300; 0 = never)")

    def handle(self, *args, once=False, interval=30.0, batch=500, hot_every=300.0, **options):
        from huying.dispatch.hot.services import hot_snapshot_due, hot_snapshot_take

        def step(stopping):
            ensure_daily()  # the order table's monthly partitions, once a day (PostgreSQL; D15)
            counts = deadline_sweep(batch=batch)
            line = " ".join(f"{k}={v}" for k, v in counts.items())
            if hot_every > 0 and not stopping() and hot_snapshot_due(every=timedelta(seconds=hot_every)):
                snaps = hot_snapshot_take()
                line += (f" hot_groups={sum(len(s.groups) for s in snaps)}"
                         f" hot_ms={sum(s.elapsed_ms for s in snaps)}")
            return line

        run_forever(step, once=once, interval=interval, stdout=self.stdout)
