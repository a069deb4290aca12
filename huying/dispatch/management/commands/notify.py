"""`huying notify`: deliver the notification outbox in a loop, or once with --once.

Several processes may run at once: each message is claimed with SELECT … FOR UPDATE SKIP LOCKED
and held until its outcome is written, so none is delivered twice. Failed deliveries come back
after a growing delay (30 s doubling to an hour) until HUYING_NOTIFY_MAX_ATTEMPTS, then become dead
letters; a message nobody can receive is undeliverable at once. Each round prints
`sent=… failed=… dead=…` (dead: newly undeliverable or dead letters).
"""

from django.core.management.base import BaseCommand

from huying.core.loop import run_forever
from huying.dispatch.notify.services import deliver_pending


class Command(BaseCommand):
    help = "Deliver pending notifications from the outbox (safe to run as several processes)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="deliver what is due now and exit")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between rounds (default 5)")
        parser.add_argument("--batch", type=int, default=100, help="messages per round (default 100)")

    def handle(self, *args, once=False, interval=5.0, batch=100, **options):
        def step(stopping):
            total = deliver_pending(batch=batch, stopping=stopping)
            return f"sent={total['sent']} failed={total['failed']} dead={total['dead']}"

        run_forever(step, once=once, interval=interval, stdout=self.stdout)
