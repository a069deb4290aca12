"""`huying worker`: sweep deadlines (临期 at 75 %, 超期 at 100 %) in a loop, or once with --once.

Several workers may run at once on PostgreSQL: each batch takes its rows with
SELECT … FOR UPDATE SKIP LOCKED, so they split the work instead of repeating it.
"""

import signal
import time

from django.core.management.base import BaseCommand

from huying.dispatch.services import deadline_sweep


class Command(BaseCommand):
    help = "Sweep work-order deadlines: mark warnings and overdue orders (safe to run as several processes)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="sweep once and exit")
        parser.add_argument("--interval", type=float, default=30.0, help="seconds between sweeps (default 30)")
        parser.add_argument("--batch", type=int, default=500, help="orders per transaction (default 500)")

    def handle(self, *args, once=False, interval=30.0, batch=500, **options):
        stop = {"now": False}

        def _stop(*_args):
            stop["now"] = True

        if not once:
            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
        while True:
            counts = deadline_sweep(batch=batch)
            self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()))
            if once or stop["now"]:
                return
            slept = 0.0
            while slept < interval and not stop["now"]:
                time.sleep(min(1.0, interval - slept))
                slept += 1.0
