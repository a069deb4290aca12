"""`huying insight rebuild`: recompute every order's contribution and all rollups from scratch."""

import time

from django.core.management.base import BaseCommand
from tqdm import tqdm


class Command(BaseCommand):
    help = "Insight maintenance: `rebuild` recomputes the dashboard rollups from the order table."

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["rebuild"])

    def handle(self, *args, what, **options):
        from huying.insight.rollups import rebuild

        bar = tqdm(desc="rebuild", unit=" orders", mininterval=0.5, disable=None)

        def progress(done, total):
            bar.total = total
            bar.update(done - bar.n)

        started = time.perf_counter()
        try:
            result = rebuild(progress=progress)
        finally:
            bar.close()
        self.stdout.write(f"orders: {result['orders']}, area rows: {result['area_rows']}, "
                          f"unit rows: {result['unit_rows']} in {time.perf_counter() - started:.1f} s")
