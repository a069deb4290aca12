"""Benchmark: how many points per second `locate_points` places in Guangzhou's unified grids, on one core.

    .venv/bin/python bench/locate.py [--points 1000000] [--seed 1] [--check 10000]

Uses the current database (DATABASE_URL, default var/huying.sqlite3). If it holds no unified grids,
the benchmark uses var/bench-locate.sqlite3 instead, loading the divisions and generating the whole
city (about 20,000 grids) into it the first time, so reruns start at once.

Points are drawn uniformly inside the city boundary (the union of the 11 districts, by rejection
sampling with a fixed seed). Index building is timed apart from locating. A sample is checked
against the brute-force answer (GEOS point-in-polygon over every grid).
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")  # one core
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huying.settings")

BENCH_DB = "bench-locate.sqlite3"


def unified_grid_count() -> int:
    from django.db import DatabaseError

    from huying.territory.models import UNIFIED_LAYER, Grid

    try:
        return Grid.objects.filter(layer=UNIFIED_LAYER).count()
    except DatabaseError:
        return 0


def prepare_bench_db() -> None:
    from django.core.management import call_command

    from huying.territory.testing import load_territory, shipped_data

    print("no unified grids: loading Guangzhou and generating the whole city (once) …", flush=True)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    districts = [f["properties"]["code"] for f in shipped_data("districts.geojson")["features"]]
    load_territory(districts=districts)
    print(f"  generated in {time.perf_counter() - started:.1f} s", flush=True)


def city_points(n: int, seed: int):
    """n points uniform inside the union of the district boundaries."""
    import numpy as np
    import shapely

    from huying.territory.models import Division, Level

    texts = list(Division.objects.filter(level=Level.DISTRICT).exclude(geometry="").values_list("geometry", flat=True))
    city = shapely.union_all(shapely.from_geojson(texts))
    shapely.prepare(city)
    minx, miny, maxx, maxy = city.bounds
    rng = np.random.default_rng(seed)
    xs, ys, have = [], [], 0
    while have < n:
        x = rng.uniform(minx, maxx, n)
        y = rng.uniform(miny, maxy, n)
        inside = shapely.contains_xy(city, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
        have += int(inside.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n], city.area


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--check", type=int, default=10_000, help="points checked against brute force")
    args = parser.parse_args()

    import django

    django.setup()
    if unified_grid_count() == 0 and not os.environ.get("HUYING_BENCH_REEXEC"):
        from django.conf import settings

        env = {**os.environ, "HUYING_BENCH_REEXEC": "1",
               "DATABASE_URL": f"sqlite:///{Path(settings.VAR_DIR) / BENCH_DB}"}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    if unified_grid_count() == 0:
        prepare_bench_db()

    import numpy as np
    from django.db import connection

    from huying.territory import locator

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    x, y, _area = city_points(args.points, args.seed)

    locator.invalidate()
    wall, cpu = time.perf_counter(), time.process_time()
    info = locator.index_info()
    build_wall, build_cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"grids: {info['grids']:,}  index: {info['nodes']:,} nodes, {info['boundary_leaves']:,} boundary cells, "
          f"depth {info['depth']}, finest cell {info['fine_deg'] * 111_000:.1f} m, {info['bytes'] / 2**20:.1f} MiB")
    print(f"index ready (read grids, then build or load the disk cache): {build_wall:.2f} s wall, {build_cpu:.2f} s CPU")
    state = locator._current()
    wall, cpu = time.perf_counter(), time.process_time()
    locator.GridIndex(state.index.geoms)
    print(f"index built from scratch: {time.perf_counter() - wall:.2f} s wall, {time.process_time() - cpu:.2f} s CPU")

    locator.locate_points(x[:1000], y[:1000])  # warm up
    runs = []
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        ids = locator.locate_points(x, y)
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    best_wall = min(r[0] for r in runs)
    best_cpu = min(r[1] for r in runs)
    print(f"locate_points, {args.points:,} points uniform in the city, best of 3: "
          f"{args.points / best_wall:,.0f} points/s wall ({best_wall:.3f} s), "
          f"{args.points / best_cpu:,.0f} points/s CPU ({best_cpu:.3f} s)")
    print(f"  in a grid: {(ids >= 0).mean():.2%}  in no grid (gaps, simplified borders): {(ids < 0).mean():.2%}")

    m = min(args.check, args.points)
    pos = locator.brute_force_lookup(state.index.geoms, x[:m], y[:m])
    expected = np.where(pos >= 0, state.grid_ids[np.maximum(pos, 0)], -1)
    wrong = int((expected != ids[:m]).sum())
    print(f"brute-force check of {m:,} points: {m - wrong:,} equal, {wrong} different")
    if wrong:
        sys.exit(1)


if __name__ == "__main__":
    main()
