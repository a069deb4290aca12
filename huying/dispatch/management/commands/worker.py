"""`huying worker`: sweep deadlines (临期 at 75 %, 超期 at 100 %) in a loop, or once with --once.

Several workers may run at once on PostgreSQL: each batch takes its rows with
SELECT … FOR UPDATE SKIP LOCKED, so they split the work instead of repeating it.
"""

from django.core.management.base import BaseCommand

from huying.core.loop import run_forever
from huying.dispatch.services import deadline_sweep


class Command(BaseCommand):
    help = "Sweep work-order deadlines: mark warnings and overdue orders (safe to run as several processes)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="sweep once and exit")
        parser.add_argument("--interval", type=float, default=30.0, help="seconds between sweeps (default 30)")
        parser.add_argument("--batch", type=int, default=500, help="orders per transaction (default 500)")

    def handle(self, *args, once=False, interval=30.0, batch=500, **options):
        def step(_stopping):
            counts = deadline_sweep(batch=batch)
            return " ".join(f"{k}={v}" for k, v in counts.items())

        run_forever(step, once=once, interval=interval, stdout=self.stdout)
