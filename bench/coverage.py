"""Benchmark: the 15-minute service circle at Guangzhou scale, in memory, on one core.

    .venv/bin/python bench/coverage.py [--grids 20000] [--per-grid 30] [--positions 3000] [--seed 1] [--picks 10]

Generates a synthetic city (no database): grid centres drawn 70 % around the urban core and 30 %
across the municipality's bounding box, ~30 buildings scattered within 250 m of each grid centre
(Poisson households, mean 40), and service positions placed at random buildings with the hours of a
street/community centre (weekday office hours, some with 错时 evening or Saturday hours) or of a
station (08:00–22:00 every day). It computes, for Tuesday 2026-03-10 19:30 Beijing time, which
positions are open, which buildings lie within 15 minutes' walk of an open one, the shares per
community (100 grids each ≈ 200 communities), and greedily picks `--picks` new sites among the grid
centres. Ends with `seconds: X` (all of it but the generation) and `households_covered_share: Y`.
"""

import argparse
import os
import sys
import time as _time
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huying.settings")

import numpy as np  # noqa: E402

BBOX = (112.95, 22.55, 114.05, 23.95)
CORE = (113.30, 23.13)


def generate(grids: int, per_grid: int, n_positions: int, seed: int):
    rng = np.random.default_rng(seed)
    n_core = int(grids * 0.7)
    g_lng = np.concatenate([rng.normal(CORE[0], 0.08, n_core), rng.uniform(BBOX[0], BBOX[2], grids - n_core)])
    g_lat = np.concatenate([rng.normal(CORE[1], 0.06, n_core), rng.uniform(BBOX[1], BBOX[3], grids - n_core)])
    n_b = grids * per_grid
    owner = np.repeat(np.arange(grids), per_grid)
    r = 250 * np.sqrt(rng.uniform(0, 1, n_b))
    theta = rng.uniform(0, 2 * np.pi, n_b)
    b_lat = g_lat[owner] + r * np.sin(theta) / 111_195
    b_lng = g_lng[owner] + r * np.cos(theta) / (111_195 * np.cos(np.radians(g_lat[owner])))
    households = rng.poisson(40, n_b)
    at_b = rng.choice(n_b, n_positions, replace=False)
    kinds = rng.choice(3, n_positions, p=[0.6, 0.3, 0.1])  # office hours / + evening & Saturday / station
    return g_lng, g_lat, owner, b_lng, b_lat, households, b_lng[at_b], b_lat[at_b], kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grids", type=int, default=20_000)
    parser.add_argument("--per-grid", type=int, default=30)
    parser.add_argument("--positions", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--picks", type=int, default=10)
    args = parser.parse_args()

    import django

    django.setup()
    from huying.core.worktime import WorkCalendar
    from huying.services import coverage as cov
    from huying.services.hours import Period, is_open

    g_lng, g_lat, owner, b_lng, b_lat, w, p_lng, p_lat, kinds = generate(
        args.grids, args.per_grid, args.positions, args.seed)
    office = [Period(d, time(9), time(12)) for d in range(5)] + [Period(d, time(13), time(17)) for d in range(5)]
    schedules = [office, office + [Period(d, time(18), time(21)) for d in range(5)] + [Period(5, time(9), time(17))],
                 [Period(d, time(8), time(22)) for d in range(7)]]
    moment = datetime(2026, 3, 10, 19, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    print(f"buildings: {len(b_lng)}  grids: {len(g_lng)}  positions: {len(p_lng)}  at: {moment.isoformat()}")

    started = _time.perf_counter()
    calendar = WorkCalendar()
    open_mask = np.array([is_open(schedules[k], moment, calendar=calendar, open_on_holidays=k == 2) for k in kinds])
    t0 = _time.perf_counter()
    c = cov.building_coverage(b_lng, b_lat, p_lng[open_mask], p_lat[open_mask])
    t1 = _time.perf_counter()
    community = owner // 100
    shares = cov.shares_by_group(community, c.covered, w)
    t2 = _time.perf_counter()
    picks = cov.greedy_sites(g_lng, g_lat, b_lng, b_lat, w, covered=c.covered, k=args.picks)
    t3 = _time.perf_counter()
    seconds = t3 - started
    hh_share = float(w[c.covered].sum() / w.sum())
    per_comm = shares.households_covered / np.maximum(shares.households, 1)
    print(f"open positions: {int(open_mask.sum())} of {len(kinds)}")
    print(f"coverage: {t1 - t0:.2f} s  shares: {t2 - t1:.3f} s ({len(shares.households)} communities, "
          f"median share {np.median(per_comm):.3f})  greedy: {t3 - t2:.2f} s")
    print("picks (grid, new households): " + ", ".join(f"{p.candidate}:{p.households}" for p in picks))
    print(f"buildings_covered_share: {c.covered.mean():.4f}")
    print(f"seconds: {seconds:.2f}")
    print(f"households_covered_share: {hh_share:.4f}")


if __name__ == "__main__":
    main()
