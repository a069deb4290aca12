"""Benchmark: the first resident report a fresh server process takes, cold and after the warm-up.

    .venv/bin/python bench/first_report.py [--repeat 1]

Run it on a loaded demo (`huying demo --no-serve`; DATABASE_URL / HUYING_VAR_DIR as for the demo).
Each case runs in a fresh Python process, as a new gunicorn worker would:

- cold, no index file: nothing loaded and no locator index on disk (as right after the demo's
  first load before this change): the report pays for the classifier and the index build;
- cold, index file: nothing loaded, the index file of var/cache/locator there;
- warmed: `huying.web.warmup.warm_up()` first (what `huying serve` runs in the background of each
  worker as it boots), then the report.

Each prints the warm-up's parts, the first GET and POST of /orders/report/ (anonymous, no subject:
the classifier names it; a point inside a unified grid: the locator places it) and a second POST.
The POSTs run inside a transaction that is rolled back, so the database is left as it was.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huying.settings")


def child(case: str) -> dict:
    os.environ["HUYING_RATE_REPORT"] = ""  # no throttle: the bench posts from one address
    import django

    django.setup()
    from django.db import transaction
    from django.test import Client

    from huying.dispatch.models import RequestType
    from huying.territory import locator
    from huying.territory.models import UNIFIED_LAYER, Grid

    if case == "cold-no-index":
        empty = Path(tempfile.mkdtemp(prefix="huying-bench-locator-"))
        locator._cache_dir = lambda: empty
    # Reading these warms nothing but the database connection, which every request has anyway.
    grid = Grid.objects.filter(layer=UNIFIED_LAYER).order_by("id").only("lng", "lat").first()
    if grid is None:
        raise SystemExit("no unified grids: run `huying demo --no-serve` first")
    kind = RequestType.objects.filter(active=True).order_by("sort").values_list("code", flat=True).first()
    out: dict = {"case": case}
    if case == "warmed":
        from huying.web.warmup import warm_up

        started = time.perf_counter()
        out["warm_up_parts"] = warm_up()
        out["warm_up_s"] = round(time.perf_counter() - started, 3)
    client = Client(HTTP_HOST="127.0.0.1")
    for n in (1, 2):
        started = time.perf_counter()
        client.get("/orders/report/")
        out[f"get{n}_s"] = round(time.perf_counter() - started, 3)
        data = {"idempotency_key": f"bench-first-report-{os.getpid()}-{n}", "request_type": kind,
                "title": "小区门口路灯不亮", "description": "晚上小区门口的路灯一直不亮，行人看不清路。",
                "lng": grid.lng, "lat": grid.lat, "reporter_name": "测试", "reporter_phone": "13800000000"}
        with transaction.atomic():
            started = time.perf_counter()
            resp = client.post("/orders/report/", data)
            out[f"post{n}_s"] = round(time.perf_counter() - started, 3)
            transaction.set_rollback(True)
        if resp.status_code != 302:
            raise SystemExit(f"the report was refused ({resp.status_code}): {resp.content.decode()[:2000]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each case")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    print(f"{'case':<15} {'warm-up':>8} {'GET 1':>7} {'POST 1':>7} {'GET 2':>7} {'POST 2':>7}  warm-up parts")
    for case in ("cold-no-index", "cold-index", "warmed"):
        for _ in range(args.repeat):
            done = subprocess.run([sys.executable, __file__, "--child", case], capture_output=True, text=True,
                                  check=False)
            if done.returncode:
                raise SystemExit(done.stdout + done.stderr)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            warm = f"{r['warm_up_s']:.2f}" if "warm_up_s" in r else "—"
            print(f"{case:<15} {warm:>8} {r['get1_s']:>7.2f} {r['post1_s']:>7.2f} {r['get2_s']:>7.2f} "
                  f"{r['post2_s']:>7.2f}  {json.dumps(r.get('warm_up_parts', {}))}", flush=True)


if __name__ == "__main__":
    main()
