"""`huying simulate orders --count N`: push N residents' reports through the real intake path.

Each order goes through `work_order_create` exactly as a page or the API sends it — validation,
idempotency key, locating the point, routing, auto-dispatch with both deadlines, timeline and
audit rows — one transaction per order. Points are drawn inside the unified grids of the loaded
territory (optionally one district). The last line printed is `orders_per_s: X`.
"""

import random
import time
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


def sample_points(n: int, *, seed: int, district: str = "", grids: int = 400) -> list[tuple[float, float]]:
    """n points inside randomly chosen unified grids (rejection sampling in each grid's box)."""
    import shapely

    from huying.territory.models import UNIFIED_LAYER, Grid

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


class Command(BaseCommand):
    help = "Simulate residents' reports through the real intake path and print orders_per_s."

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["orders"], help="what to simulate")
        parser.add_argument("--count", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--district", default="", help="only points in this district code, e.g. 440104")
        parser.add_argument("--no-dispatch", action="store_true", help="take in only; leave orders for a dispatcher")

    def handle(self, *args, what, count, seed, district, no_dispatch, **options):
        from huying.dispatch.models import RequestType, State, Subject, SubjectKind, WorkOrder
        from huying.dispatch.seed import dispatch_seed
        from huying.dispatch.services import work_order_create

        if count < 1:
            raise CommandError("--count must be at least 1")
        dispatch_seed()
        rng = random.Random(seed)
        subjects = list(Subject.objects.filter(kind=SubjectKind.REQUEST, depth=3, active=True)
                        .values_list("code", flat=True))
        types = list(RequestType.objects.filter(active=True).values_list("code", flat=True))
        points = sample_points(count, seed=seed, district=district)
        run = uuid.uuid4().hex[:8]
        before = WorkOrder.objects.count()
        self.stdout.write(f"simulating {count} orders …")
        started = time.perf_counter()
        dispatched = 0
        for i, (lng, lat) in enumerate(points):
            order = work_order_create(
                channel="web", subject=rng.choice(subjects), request_type=rng.choice(types),
                title=f"模拟诉求 {i + 1}", description="由 huying simulate 生成", lng=lng, lat=lat,
                reporter_phone=f"138{rng.randrange(10**8):08d}", idempotency_key=f"sim-{run}-{i}",
                auto_dispatch=not no_dispatch, now=timezone.now(),
            )
            dispatched += order.state == State.DISPATCHED
        elapsed = time.perf_counter() - started
        made = WorkOrder.objects.count() - before
        self.stdout.write(f"orders: {made} (dispatched {dispatched}) in {elapsed:.2f} s")
        self.stdout.write(f"orders_per_s: {count / elapsed:.1f}")
