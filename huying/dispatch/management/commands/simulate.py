"""`huying simulate orders --count N [--batch B]`: push N residents' reports through the real intake path.

Every order goes through intake exactly as a page or the API sends it — validation, idempotency
key, locating the point, routing, auto-dispatch with both deadlines, timeline and audit rows.
Without `--batch` (or with `--batch 1`) each order is one `work_order_create` call and one
transaction, as from a page; with `--batch B` the orders go B at a time through
`work_orders_create_many`, one transaction per batch, as from a bulk import. Points are drawn
inside the unified grids of the loaded territory (optionally one district). The last line
printed is `orders_per_s: X`, over the intake calls only (the points are drawn beforehand).
"""

import random
import time
import uuid

import shapely
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from huying.dispatch import reference
from huying.dispatch.models import RequestType, State, Subject, SubjectKind, WorkOrder
from huying.dispatch.seed import dispatch_seed
from huying.dispatch.services import work_order_create, work_orders_create_many
from huying.territory.models import UNIFIED_LAYER, Grid


def sample_points(n: int, *, seed: int, district: str = "", grids: int = 400) -> list[tuple[float, float]]:
    """n points inside randomly chosen unified grids (rejection sampling in each grid's box)."""
    rng = random.Random(seed)
    qs = Grid.objects.filter(layer=UNIFIED_LAYER)
    if district:
        qs = qs.filter(code__startswith=district)
    ids = list(qs.values_list("pk", flat=True))
    if not ids:
        raise CommandError("no unified grids loaded: run `huying demo --no-serve` (or load a territory) first")
    chosen = rng.sample(ids, min(grids, len(ids)))
    shapes = [shapely.from_geojson(g) for g in Grid.objects.filter(pk__in=chosen).values_list("geometry", flat=True)]
    for s in shapes:
        shapely.prepare(s)
    points = []
    while len(points) < n:
        shape = rng.choice(shapes)
        minx, miny, maxx, maxy = shape.bounds
        for _try in range(50):
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if shapely.contains_xy(shape, x, y):
                points.append((round(x, 7), round(y, 7)))
                break
    return points


def simulated_items(count: int, *, seed: int, district: str = "", auto_dispatch: bool = True,
                    run: str | None = None) -> list[dict]:
    """`count` residents' web reports as intake arguments (random subject, type, point and phone)."""
    rng = random.Random(seed)
    subjects = list(Subject.objects.filter(kind=SubjectKind.REQUEST, depth=3, active=True)
                    .values_list("code", flat=True))
    types = list(RequestType.objects.filter(active=True).values_list("code", flat=True))
    if not subjects or not types:
        raise CommandError("no subjects or request types: run `huying dispatch_seed` first")
    points = sample_points(count, seed=seed, district=district)
    run = run or uuid.uuid4().hex[:8]
    return [
        {"channel": "web", "subject": rng.choice(subjects), "request_type": rng.choice(types),
         "title": f"模拟诉求 {i + 1}", "description": "由 huying simulate 生成", "lng": lng, "lat": lat,
         "reporter_phone": f"138{rng.randrange(10**8):08d}", "idempotency_key": f"sim-{run}-{i}",
         "auto_dispatch": auto_dispatch}
        for i, (lng, lat) in enumerate(points)
    ]


class Command(BaseCommand):
    help = "Simulate residents' reports through the real intake path and print orders_per_s."

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["orders"], help="what to simulate")
        parser.add_argument("--count", type=int, default=1000)
        parser.add_argument("--batch", type=int, default=1,
                            help="orders per transaction through the batched path (1: one call per order)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--district", default="", help="only points in this district code, e.g. 440104")
        parser.add_argument("--no-dispatch", action="store_true", help="take in only; leave orders for a dispatcher")

    def handle(self, *args, what, count, batch, seed, district, no_dispatch, **options):
        if count < 1:
            raise CommandError("--count must be at least 1")
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        if any(dispatch_seed().values()):
            reference.reset()  # bulk-created subjects send no signals
        items = simulated_items(count, seed=seed, district=district, auto_dispatch=not no_dispatch)
        before = WorkOrder.objects.count()
        mode = "one transaction per order" if batch == 1 else f"batches of {batch}"
        self.stdout.write(f"simulating {count} orders ({mode}) …")
        orders = []
        started = time.perf_counter()
        cpu = time.process_time()
        if batch == 1:
            for item in items:
                orders.append(work_order_create(**item, now=timezone.now()))
        else:
            for i in range(0, count, batch):
                orders.extend(work_orders_create_many(items[i:i + batch], actor=None, now=timezone.now()))
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        made = WorkOrder.objects.count() - before
        dispatched = sum(o.state == State.DISPATCHED for o in orders)
        self.stdout.write(f"orders: {made} (dispatched {dispatched}) in {elapsed:.2f} s, {cpu:.2f} s CPU "
                          f"({count / cpu:.1f} orders per CPU second in this process)")
        self.stdout.write(f"orders_per_s: {count / elapsed:.1f}")
