"""Benchmark: the dashboard on a simulated year in PostgreSQL.

    .venv/bin/python bench/dashboard.py [--orders 1000000] [--pg-url URL] [--repeat 30] [--keep] [--rollups-only]

1. Prepares PostgreSQL `huying_k_bench` (created if missing): migrations, all of Guangzhou's
   divisions with generated grids (~20,000), the demo organisation (an office per division and
   grid) and the subject tree — once; later runs reuse them.
2. Empties the order tables (unless `--keep`) and writes `--orders` simulated orders over the
   last 365 days with `huying simulate year`'s bulk path (COPY), which re-aggregates the rollups;
   prints the simulation rate. `--rollups-only`: every order is lived through the same way but
   only its facts and the rollups are kept — the same rollups as with the history (a test holds
   them equal) — for a year the disk cannot hold with its history (Beijing's 21.4 M).
3. Calls every dashboard endpoint in-process through Django's test client (URL routing, login,
   scope check, rollup queries, JSON or HTML rendering) for the city, a district, a street, a
   community and a grid, `--repeat` times each, with the parameters the dashboard page sends
   (hot spots: 7 days), and prints p50/p95 per endpoint; also the API's longest hot-spot window
   (30 days, `hotspots_30d`). The worker's hot-spot lists are computed first (`hotspots.refresh`,
   timed), as a running worker keeps them.

The last line is `max_p95_ms: N`, the slowest endpoint's p95.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huying.settings")

PG_URL = "postgres://postgres@127.0.0.1:5432/huying_k_bench"
ENDPOINTS = ("summary", "children", "trend", "mix", "hotspots", "units", "tiles", "page")
# The query each endpoint gets from the dashboard page (insight/static/insight/dashboard.js).
PAGE_PARAMS = {"hotspots": {"days": "7"}}
# Asked by no page but allowed by the API: the longest hot-spot window.
EXTRA = {"hotspots_30d": ("hotspots", {"days": "30"})}
ORDER_TABLES = ("dispatch_workorder", "core_auditentry", "insight_orderfact", "insight_orderunitfact",
                "insight_areaday", "insight_areanow", "insight_unitday")


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def prepare(stdout) -> None:
    from django.core.management import call_command

    from huying.territory.models import UNIFIED_LAYER, Grid

    call_command("migrate", interactive=False, verbosity=0)
    if not Grid.objects.filter(layer=UNIFIED_LAYER).exists():
        stdout.write("loading Guangzhou (divisions, ~20,000 grids, offices) …\n")
        call_command("demo", "--no-serve", "--force", verbosity=0)  # its own database


def empty_orders() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("TRUNCATE " + ", ".join(ORDER_TABLES) + " CASCADE")


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def sample_codes() -> dict[str, str]:
    """The city and, below it, the busiest district, street, community and grid (by orders)."""
    from huying.insight.models import AreaNow, Level
    from huying.insight.rollups import city_code

    codes = {"city": city_code()}
    parent = codes["city"]
    for name, level in (("district", Level.DISTRICT), ("street", Level.STREET), ("community", Level.COMMUNITY),
                        ("grid", Level.GRID)):
        row = AreaNow.objects.filter(level=level, parent=parent).order_by("-created").values("code").first()
        if row is None:
            break
        codes[name] = parent = row["code"]
    return codes


def measure(repeat: int) -> dict[str, list[float]]:
    from django.test import Client
    from django.urls import reverse

    from huying.people.models import User

    user, _ = User.objects.get_or_create(username="bench-leader", defaults={"is_superuser": True, "is_staff": True})
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    urls = {name: reverse(f"insight:api_{name}") for name in ENDPOINTS[:6]}
    urls["tiles"] = reverse("insight:tiles")
    urls["page"] = reverse("insight:dashboard")
    calls = {name: (url, PAGE_PARAMS.get(name, {})) for name, url in urls.items()}
    calls.update({name: (urls[ep], params) for name, (ep, params) in EXTRA.items()})
    codes = sample_codes()
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for url, params in calls.values():
        for code in codes.values():  # warm-up: first query plans, caches
            client.get(url, {"code": code, **params})
    for _ in range(repeat):
        for name, (url, params) in calls.items():
            for code in codes.values():
                t0 = time.perf_counter()
                resp = client.get(url, {"code": code, **params})
                timings[name].append((time.perf_counter() - t0) * 1000)
                if resp.status_code != 200:
                    raise SystemExit(f"{name} {code}: HTTP {resp.status_code} {resp.content[:200]!r}")
    print("codes: " + ", ".join(f"{k}={v}" for k, v in codes.items()))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=os.environ.get("HUYING_BENCH_PG", PG_URL))
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--batch", type=int, default=20000)
    parser.add_argument("--keep", action="store_true", help="keep the orders already there, add none")
    parser.add_argument("--rollups-only", action="store_true",
                        help="keep only the orders' facts and rollups (what the dashboard reads), for a year "
                             "bigger than the disk (21.4 M orders with their history need ~143 GB)")
    args = parser.parse_args()

    ensure_database(args.pg_url)
    os.environ["DATABASE_URL"] = args.pg_url
    import django

    django.setup()
    prepare(sys.stdout)
    if not args.keep:
        empty_orders()
        print(f"simulating {args.orders:,} orders over 365 days …", flush=True)
        cmd = [sys.executable, str(ROOT / "manage.py"), "simulate_year", "--orders", str(args.orders),
               "--batch", str(args.batch)] + (["--rollups-only"] if args.rollups_only else [])
        t0 = time.perf_counter()
        out = subprocess.run(cmd, env={**os.environ, "DATABASE_URL": args.pg_url}, check=True, text=True,
                             stdout=subprocess.PIPE).stdout
        print(out.strip())
        print(f"simulation wall time: {time.perf_counter() - t0:.1f} s")
        rate = next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("orders_per_s")), "?")
        print(f"simulation_orders_per_s: {rate}")
    from django.db import connection

    from huying.dispatch.models import WorkOrder
    from huying.insight.models import AreaDay

    with connection.cursor() as cur:
        # Fresh statistics for every table, as autovacuum leaves them some minutes after a load (during
        # a year's load its workers are busy with the big tables: the demo's 23,000 units were still
        # estimated at 6,664, and a volunteer tile's join took 4.7 ms instead of 0.2).
        cur.execute("ANALYZE")
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cur.fetchone()[0]
    from huying.insight.models import AreaDayTotal, OrderFact

    print(f"orders: {WorkOrder.objects.count():,}; order facts: {OrderFact.objects.count():,}; "
          f"rollup rows: {AreaDay.objects.count():,} by subject, {AreaDayTotal.objects.count():,} totals; "
          f"database: {size}")
    # What the worker's `hotspots` job does every HUYING_HOTSPOTS_EVERY seconds.
    from huying.insight import hotspots

    t0 = time.perf_counter()
    made = hotspots.refresh()["lists"]
    print(f"hotspot lists: {made} in {time.perf_counter() - t0:.2f} s (the worker's job)")
    timings = measure(args.repeat)
    worst = 0.0
    print(f"{'endpoint':<12} {'n':>5} {'p50_ms':>8} {'p95_ms':>8}")
    for name, values in timings.items():
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        worst = max(worst, p95)
        print(f"{name:<12} {len(values):>5} {p50:>8.1f} {p95:>8.1f}")
    print(f"max_p95_ms: {worst:.1f}")


if __name__ == "__main__":
    main()
