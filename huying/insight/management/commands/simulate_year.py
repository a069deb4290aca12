"""`huying simulate year --scale guangzhou [--orders N]`: a year of calls on the bulk path.

Registered as `simulate_year` (dispatch owns `simulate`); the `huying` CLI maps `simulate year`
here. Prints the counts and, last, `orders_per_s: X`.
"""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from huying.dispatch.simulate_year import disk_shortfall
from huying.insight.simulate import GUANGZHOU_YEAR, TZ, Options, simulate_year

SCALES = {"guangzhou": GUANGZHOU_YEAR, "small": 20000}


class Command(BaseCommand):
    help = "Simulate a year of Guangzhou's calls (routing, deadlines, timeline, audit) and rebuild the rollups."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(SCALES), default="guangzhou")
        parser.add_argument("--orders", type=int, default=None, help="how many orders (default: the scale's)")
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--end", default="", help="last moment simulated, ISO format (default: now)")
        parser.add_argument("--seed", type=int, default=2025)
        parser.add_argument("--batch", type=int, default=20000)
        parser.add_argument("--workers", type=int, default=None,
                            help="processes simulating at once on PostgreSQL (default: one per core)")
        parser.add_argument("--rollups-only", action="store_true",
                            help="live every order through but keep only its facts and the rollups (the dashboard's "
                                 "data), not the orders and their history: for a year bigger than the disk")
        parser.add_argument("--keep-indexes", action="store_true",
                            help="keep the history tables' secondary indexes up row by row (default: a year of "
                                 "100,000 orders or more into a new or demo database builds them after the load)")
        parser.add_argument("--ignore-disk", action="store_true",
                            help="start even when the estimate says the orders will not fit on the disk")

    def handle(self, *args, scale, orders, days, end, seed, batch, workers, ignore_disk=False, rollups_only=False,
               keep_indexes=False, **options):
        n = SCALES[scale] if orders is None else orders
        if n < 1 or days < 1 or batch < 1 or (workers is not None and workers < 1):
            raise CommandError("--orders, --days, --batch and --workers must be positive")
        short = None if ignore_disk else disk_shortfall(n, history=not rollups_only)
        if short:
            need, free = short
            raise CommandError(f"{n:,} orders need about {need / 1e9:.0f} GB on the database server's disk "
                               f"(~{need // n:,} bytes each); {free / 1e9:.0f} GB are free there. Free space, "
                               "simulate fewer orders, or pass --ignore-disk.")
        end_at = None
        if end:
            end_at = datetime.fromisoformat(end)
            if end_at.tzinfo is None:
                end_at = end_at.replace(tzinfo=TZ)
        bar = tqdm(total=n, desc="simulate year", unit=" orders", mininterval=0.5, disable=None)

        def progress(done, total):
            bar.update(done - bar.n)

        try:
            result = simulate_year(Options(orders=n, end=end_at, days=days, seed=seed, batch=batch,
                                           workers=workers, history=not rollups_only,
                                           defer_indexes=False if keep_indexes else None), progress=progress)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()
        indexes = (f", {result['indexes_deferred']} secondary indexes built after the load in "
                   f"{result['index_seconds']} s" if result.get("indexes_deferred") else "")
        self.stdout.write(f"orders: {result['orders']} in {result['seconds']} s "
                          f"({result['workers']} process{'es' if result['workers'] > 1 else ''}{indexes}); "
                          f"rollups aggregated in {result['aggregate_seconds']} s")
        self.stdout.write(f"orders_per_s: {result['orders_per_s']}")
        self.stdout.write(f"total: {result['total_seconds']} s")
