"""Benchmark: work-order intake rates in-process and over HTTP, on SQLite and PostgreSQL.

    .venv/bin/python bench/intake.py [--count 2000] [--batch 500] [--http-count 2000] [--clients 4]
                                     [--databases sqlite,postgres] [--pg-url URL] [--workers 2] [--threads 4]
                                     [--subscribers live,off] [--skip-http]

Every order goes the whole way: validation, idempotency key, locating the point, routing,
auto-dispatch with both working-time deadlines, timeline and audit rows.

- in-process, single: one `work_order_create` call (one transaction) per order, as a page makes it;
- in-process, batched: `work_orders_create_many`, `--batch` orders per transaction, as a bulk import;
- HTTP: `POST /api/v1/dispatch/orders` with an Idempotency-Key and a bearer API token, from
  `--clients` client processes at once (each keeps its connection open), against gunicorn as
  `huying serve` runs it (gthread, `--workers` × `--threads`, access log off) on 127.0.0.1 and a
  free port; its workers auto-dispatch like the in-process paths.

Each database runs twice: with the receivers of dispatch's signals live (insight's rollups and
notify's outbox run in or after every intake transaction, as the system runs) and with them
disconnected (`off`: intake alone). The databases are var/bench-intake.sqlite3 and PostgreSQL
`huying_bench` (created if missing); the first run loads 越秀区 (divisions, generated grids), the
demo organisation and the subject tree into each, later runs reuse them. Wall time is shared with
whatever else runs on the machine, so CPU time is printed beside it: orders per CPU second of the
process doing the work (for HTTP the server's workers; the clients' CPU is printed apart; the
database server's own CPU is in neither).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _db import ensure_pg_database  # bench/ is the script's folder, first on sys.path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huying.settings")

SQLITE_FILE = "bench-intake.sqlite3"
PG_URL = "postgres://postgres@127.0.0.1:5432/huying_bench"
BENCH_USER = "bench-api"
DISTRICT = "440104"
TICKS = os.sysconf("SC_CLK_TCK")

# Each worker, once it has loaded the app, auto-dispatches (as the in-process paths do) and, with
# HUYING_BENCH_SUBSCRIBERS=off, disconnects the receivers of dispatch's signals.
GUNICORN_CONF = f"""
import os
import sys

sys.path.insert(0, {str(ROOT / "bench")!r})


def post_worker_init(worker):
    from django.conf import settings

    settings.HUYING_DISPATCH_AUTO = True
    if os.environ.get("HUYING_BENCH_SUBSCRIBERS") == "off":
        from intake import subscribers_off

        subscribers_off()
"""


def subscribers_off() -> None:
    """Disconnect every receiver of dispatch's signals (insight's rollups, notify's outbox …), so the
    figures show intake alone; the default run keeps them, as the system runs."""
    from django.dispatch import Signal

    from huying.dispatch import signals

    for sig in [v for v in vars(signals).values() if isinstance(v, Signal)]:
        with sig.lock:
            sig.receivers = []
            sig.sender_receivers_cache.clear()


# -- the parent: one child process per database (settings are read once per process) --------------

def parent(args) -> None:
    results = []
    for db in args.databases.split(","):
        db = db.strip()
        if db == "sqlite":
            url = f"sqlite:///{ROOT / 'var' / SQLITE_FILE}"
        elif db == "postgres":
            url = args.pg_url
            ensure_pg_database(url)
        else:
            sys.exit(f"unknown database {db!r}: sqlite or postgres")
        for subscribers in args.subscribers.split(","):
            print(f"== {db}: {url} (after-commit subscribers {subscribers})", flush=True)
            env = {**os.environ, "DATABASE_URL": url, "HUYING_BENCH_DB": db, "HUYING_BENCH_SUBSCRIBERS": subscribers}
            proc = subprocess.run([sys.executable, __file__, "--child", *sys.argv[1:]], env=env, cwd=ROOT,
                                  stdout=subprocess.PIPE, text=True, timeout=3600)
            for line in proc.stdout.splitlines():
                if line.startswith("RESULT "):
                    results.append({**json.loads(line[7:]), "subscribers": subscribers})
                else:
                    print(line, flush=True)
            if proc.returncode:
                sys.exit(f"{db}: the benchmark failed (exit {proc.returncode})")
    print()
    print(f"{'database':<10} {'receivers':<9} {'path':<34} {'orders':>7} {'wall s':>7} {'orders/s':>9} {'CPU s':>7} "
          f"{'orders/CPU s':>12} {'queries/order':>13}")
    for r in results:
        print(f"{r['db']:<10} {r['subscribers']:<9} {r['path']:<34} {r['orders']:>7} {r['wall']:>7.2f} {r['rate']:>9.1f} "
              f"{r['cpu']:>7.2f} {r['cpu_rate']:>12.1f} {r.get('queries', ''):>13}")


# -- the child: set up, then measure --------------------------------------------------------------

def emit(db: str, path: str, orders: int, wall: float, cpu: float, **extra) -> None:
    row = {"db": db, "path": path, "orders": orders, "wall": wall, "rate": orders / wall, "cpu": cpu,
           "cpu_rate": orders / cpu if cpu else 0.0, **extra}
    print(f"  {path}: {orders} orders in {wall:.2f} s = {row['rate']:.1f} orders/s; "
          f"{cpu:.2f} s CPU = {row['cpu_rate']:.1f} orders per CPU second", flush=True)
    print("RESULT " + json.dumps(row), flush=True)


def prepare() -> str:
    """Territory, organisation and subjects (once per database), and a fresh API token."""
    from django.core.management import call_command

    from huying.dispatch import reference
    from huying.dispatch.seed import dispatch_seed
    from huying.people.demo import COMMAND_CODE, demo_org_seed
    from huying.people.models import Unit, User
    from huying.people.services import api_token_create, user_create
    from huying.territory.models import UNIFIED_LAYER, Grid
    from huying.territory.testing import load_territory

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)  # the rate limits' cache table (as `huying demo` makes it)
    if not Grid.objects.filter(layer=UNIFIED_LAYER, code__startswith=DISTRICT).exists():
        print("  loading 越秀区 (divisions, generated grids and buildings) — once …", flush=True)
        load_territory(districts=(DISTRICT,))
    if not Unit.objects.filter(code=COMMAND_CODE).exists():
        print("  creating the demo organisation — once …", flush=True)
        demo_org_seed(password="Huying-bench-2026")
    dispatch_seed()
    reference.reset()
    user = User.objects.filter(username=BENCH_USER).first() or user_create(
        username=BENCH_USER, password="Huying-bench-2026", display_name="压测接口", actor=None, check_password=False)
    _row, token = api_token_create(user, name="bench/intake.py", actor=None)
    print(f"  ready in {time.perf_counter() - started:.1f} s "
          f"({Grid.objects.filter(layer=UNIFIED_LAYER).count()} grids, {Unit.objects.count()} units)", flush=True)
    return token


def queries_per_order(fn) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def in_process(db: str, items: list[dict], *, batch: int) -> None:
    from django.utils import timezone

    from huying.dispatch.services import work_order_create, work_orders_create_many

    # Warm up (caches, the locator's index) and count the statements one order costs.
    work_order_create(**items[0], now=timezone.now())
    q_single = queries_per_order(lambda: work_order_create(**items[1], now=timezone.now()))
    probe = min(batch, 50)  # enough to show the per-batch statements spread over its orders
    q_batch = queries_per_order(lambda: work_orders_create_many(items[2:2 + probe], actor=None))
    single, batched = items[2 + probe:], []
    half = len(single) // 2
    single, batched = single[:half], single[half:]

    wall, cpu = time.perf_counter(), time.process_time()
    for item in single:
        work_order_create(**item, now=timezone.now())
    emit(db, "in-process, one order per call", len(single), time.perf_counter() - wall,
         time.process_time() - cpu, queries=q_single)

    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(batched), batch):
        work_orders_create_many(batched[i:i + batch], actor=None, now=timezone.now())
    emit(db, f"in-process, batches of {batch}", len(batched), time.perf_counter() - wall,
         time.process_time() - cpu, queries=f"{q_batch / probe:.2f}")


def secrets_token() -> str:
    import secrets

    return secrets.token_urlsafe(50)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _children(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if int((p / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(p.name))
            except OSError:
                continue
    return out


def _client(port: int, token: str, bodies: list[tuple[str, bytes]], start, done) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    start.wait(60)
    cpu = time.process_time()
    ok = bad = 0
    for key, body in bodies:
        conn.request("POST", "/api/v1/dispatch/orders", body=body, headers={**headers, "Idempotency-Key": key})
        resp = conn.getresponse()
        payload = resp.read()
        if resp.status == 201:
            ok += 1
        else:
            bad += 1
            if bad <= 3:
                print(f"  client: HTTP {resp.status} {payload[:200]!r}", flush=True)
    conn.close()
    done.put((ok, bad, time.process_time() - cpu))


def over_http(db: str, items: list[dict], token: str, *, clients: int, workers: int, threads: int) -> None:
    import multiprocessing as mp

    from django.db import connections

    from huying.dispatch.models import IdempotencyKey

    port = _free_port()
    # A fresh clone has no key file (var/secret_key) and the server refuses to start without a key.
    # The API's per-user write limit (HUYING_RATE_API, 120/m) would answer most of the load with 429.
    env = {"HUYING_SECRET_KEY": secrets_token(), "HUYING_RATE_API": "1000000/m", **os.environ,
           "HUYING_LOG_LEVEL": "ERROR"}
    config = Path(tempfile.mkdtemp(prefix="huying-bench-")) / "gunicorn_conf.py"
    config.write_text(GUNICORN_CONF)
    log = (config.parent / "gunicorn.log").open("w+b")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "huying.wsgi:application", "--bind", f"127.0.0.1:{port}", "-c", str(config),
         "--workers", str(workers), "--threads", str(threads), "--graceful-timeout", "5", "--log-level", "warning"],
        # Its log goes to a file: a pipe nobody reads fills up and blocks the workers' logging.
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError("gunicorn did not start: " + log.read().decode()[-2000:]) from None
                time.sleep(0.1)
        print(f"  gunicorn on 127.0.0.1:{port}: {workers} workers × {threads} threads", flush=True)

        def body(item):
            payload = {k: v for k, v in item.items() if k not in ("idempotency_key", "auto_dispatch")}
            payload["channel"] = "api"
            return item["idempotency_key"], json.dumps(payload, ensure_ascii=False).encode()

        # Every worker loads its caches and the locator index on its first requests: not timed.
        warm = [body(i) for i in items[:8 * workers * threads]]
        timed = [body(i) for i in items[len(warm):]]
        connections.close_all()  # the clients are forked; they must not share this process's connection
        ctx = mp.get_context("fork")
        for phase, bodies in (("warm-up", warm), ("timed", timed)):
            start, done = ctx.Event(), ctx.Queue()
            procs = [ctx.Process(target=_client, args=(port, token, bodies[c::clients], start, done))
                     for c in range(clients)]
            for p in procs:
                p.start()
            time.sleep(0.2)
            pids = [server.pid, *_children(server.pid)]
            server_cpu = sum(_proc_cpu(p) for p in pids)
            wall = time.perf_counter()
            start.set()
            got = [done.get(timeout=600) for _ in procs]
            wall = time.perf_counter() - wall
            server_cpu = sum(_proc_cpu(p) for p in pids) - server_cpu
            for p in procs:
                p.join(30)
            ok, bad = sum(g[0] for g in got), sum(g[1] for g in got)
            if bad:
                log.seek(0)
                raise RuntimeError(f"{phase}: {bad} requests failed; the server's log ends: "
                                   + log.read().decode(errors="replace")[-2000:])
            if phase == "timed":
                emit(db, f"HTTP, {clients} clients", ok, wall, server_cpu,
                     queries="", client_cpu=round(sum(g[2] for g in got), 2))
                print(f"  (clients used {sum(g[2] for g in got):.2f} s CPU beside the server's)", flush=True)
        stored = IdempotencyKey.objects.filter(key__in=[k for k, _b in warm + timed]).count()
        if stored != len(warm) + len(timed):
            raise RuntimeError(f"HTTP: {len(warm) + len(timed)} orders sent, {stored} stored")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(5)
        shutil.rmtree(config.parent, ignore_errors=True)


def child(args) -> None:
    import django

    django.setup()
    if os.environ.get("HUYING_BENCH_SUBSCRIBERS") == "off":
        subscribers_off()
    from django.db import connection

    from huying.dispatch.management.commands.simulate import simulated_items

    db = os.environ.get("HUYING_BENCH_DB", connection.vendor)
    token = prepare()
    n_in = 2 * args.count + 2 + min(args.batch, 50)
    http_n = args.http_count + 8 * args.workers * args.threads
    items = simulated_items(n_in + (0 if args.skip_http else http_n), seed=int(time.time()), district=DISTRICT)
    in_process(db, items[:n_in], batch=args.batch)
    if not args.skip_http:
        over_http(db, items[n_in:], token, clients=args.clients, workers=args.workers, threads=args.threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="orders for each in-process path")
    parser.add_argument("--batch", type=int, default=500, help="orders per batch on the batched path")
    parser.add_argument("--http-count", type=int, default=2000, help="orders over HTTP (timed)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--subscribers", default="live,off",
                        help="the receivers of dispatch's after-commit signals (insight rollups, notify outbox): "
                             "live, off (intake alone) or both (live,off)")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    for name in ("count", "batch", "http_count", "clients", "workers", "threads"):
        if not 1 <= getattr(args, name) <= 1_000_000:
            parser.error(f"--{name.replace('_', '-')} must be between 1 and 1,000,000")
    child(args) if args.child else parent(args)


if __name__ == "__main__":
    main()
