"""Failover drill: intake over HTTP through the load balancer while the primary database is killed.

    bash scripts/topology.sh up && .venv/bin/python bench/failover.py && bash scripts/topology.sh down

    .venv/bin/python bench/failover.py [--orders 2400] [--clients 4] [--kill-at 0.33] [--timeout 30]

Needs the topology of scripts/topology.sh (docs/topology.md): HAProxy on 127.0.0.1:8100 in front of
two `huying serve` instances, a primary PostgreSQL and its synchronous streaming standby.

`--clients` client processes POST residents' reports (`simulated_items`) to /api/v1/dispatch/orders
with an Idempotency-Key and the topology's API token. Once `--kill-at` of the orders are
acknowledged (HTTP 201), the drill kills the primary's postmaster with SIGKILL and runs the failover
procedure, `bash scripts/topology.sh failover`: promote the standby (the application's URL names
both servers with target_session_attrs=read-write, so it reaches the promoted one on its next
connection), then narrow DATABASE_URL to the promoted server and restart the web instances and
workers one by one. The clients never give up on an order: a request that failed,
got an error status or no answer at all is sent again with the SAME Idempotency-Key until it is
acknowledged (that is what makes failover lose nothing and create nothing twice).

Then it counts on the promoted database: `lost` — orders the clients got a 201 for that are not
there (or under another key); `duplicates` — keys with more than one order, and orders of the
drill's API user that no key stands for; `unavailable_s` — the longest time with no successful
request, from the first acknowledgement to the last. The last four lines are
`acknowledged: N`, `lost: L`, `duplicates: D`, `unavailable_s: X`; the exit status is 1 unless
lost and duplicates are 0 and every order was acknowledged.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOPOLOGY = ROOT / "var" / "topology"
DISTRICT = "440104"


def read_env(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, _sep, value = line.partition("=")
            env[name.strip()] = value.strip().strip("'\"")
    return env


def _client(n: int, base: str, token: str, bodies: list[tuple[str, bytes]], timeout: float, give_up_s: float,
            start, acked, out) -> None:
    """Send each body until it is acknowledged; report (key, code, wall time of the 201) and the failures."""
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(base)
    conn = None
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    done, failures, gave_up = [], {}, []
    start.wait(120)
    for key, body in bodies:
        first = time.monotonic()
        pause = 0.05
        while True:
            status = None
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
                conn.request("POST", "/api/v1/dispatch/orders", body=body, headers={**headers, "Idempotency-Key": key})
                resp = conn.getresponse()
                payload = resp.read()
                status = resp.status
                if status == 201:
                    done.append((key, json.loads(payload)["code"], time.time()))
                    with acked.get_lock():
                        acked.value += 1
                    break
                label = f"HTTP {status}"
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as exc:  # no answer: refused, reset, timed out — the same request again
                label = type(exc).__name__
                if conn is not None:
                    conn.close()
                conn = None
            failures[label] = failures.get(label, 0) + 1
            if status is not None and 400 <= status < 500 and status not in (408, 409, 429):
                # The request itself is wrong: retrying will not help; counted as not acknowledged.
                gave_up.append((key, label, payload[:300].decode(errors="replace")))
                break
            if time.monotonic() - first > give_up_s:
                gave_up.append((key, label, "no acknowledgement within --give-up seconds"))
                break
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
    if conn is not None:
        conn.close()
    out.put((n, done, failures, gave_up))


def kill_primary(env: dict[str, str]) -> tuple[str, int]:
    """SIGKILL the current primary's postmaster (HUYING_TOPOLOGY_PRIMARY; var/topology/pgN/postmaster.pid)."""
    port = env["HUYING_TOPOLOGY_PRIMARY"].rsplit(":", 1)[1].split("/")[0]
    for name in ("pg1", "pg2"):
        conf = TOPOLOGY / name / "postgresql.conf"
        ports = [ln.split("=", 1)[1].strip() for ln in conf.read_text().splitlines() if ln.startswith("port = ")]
        if ports and ports[-1] == port:
            pid = int((TOPOLOGY / name / "postmaster.pid").read_text().split()[0])
            os.kill(pid, signal.SIGKILL)
            return name, pid
    raise SystemExit(f"failover: no cluster under {TOPOLOGY} listens on port {port}")


def count(url: str, acked: list[tuple[str, str, float]], run_prefix: str, api_user: str) -> tuple[int, int, dict]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        in_recovery = conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]
        rows = conn.execute(
            "SELECT k.key, o.code FROM dispatch_idempotencykey k LEFT JOIN dispatch_workorder o ON o.id = k.order_id "
            "WHERE k.key LIKE %s", (run_prefix + "%",)).fetchall()
        per_key: dict[str, list[str | None]] = {}
        for key, code in rows:
            per_key.setdefault(key, []).append(code)
        twice = sum(len(v) - 1 for v in per_key.values() if len(v) > 1)
        orphans = conn.execute(
            "SELECT count(*) FROM dispatch_workorder o JOIN people_user u ON u.id = o.created_by_id "
            "WHERE u.username = %s AND NOT EXISTS "
            "(SELECT 1 FROM dispatch_idempotencykey k WHERE k.order_id = o.id)", (api_user,)).fetchone()[0]
        stored = conn.execute(
            "SELECT count(*) FROM dispatch_workorder WHERE code = ANY(%s)", ([c for _k, c, _t in acked],)).fetchone()[0]
    lost = sum(1 for key, code, _t in acked if code not in (per_key.get(key) or []))
    return lost, twice + orphans, {"server_in_recovery": in_recovery, "keys_stored": len(per_key),
                                   "orders_acknowledged_found_by_code": stored, "keys_twice": twice,
                                   "orders_without_key": orphans}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="See docs/topology.md for the topology and the failover procedure.")
    parser.add_argument("--orders", type=int, default=2400, help="orders sent in all (default 2400)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes (default 4)")
    parser.add_argument("--kill-at", type=float, default=0.33,
                        help="kill the primary once this share of the orders is acknowledged (default 0.33)")
    parser.add_argument("--timeout", type=float, default=30, help="seconds a client waits for one answer")
    parser.add_argument("--give-up", type=float, default=300,
                        help="seconds a client keeps retrying one order before it reports it unacknowledged")
    parser.add_argument("--no-kill", action="store_true", help="run the load without killing anything")
    args = parser.parse_args()
    if not 1 <= args.clients <= 64 or args.orders < args.clients or not 0 < args.kill_at < 1:
        parser.error("--clients 1..64, --orders at least --clients, --kill-at between 0 and 1")

    env_file, token_file = TOPOLOGY / "env", TOPOLOGY / "token"
    if not env_file.exists() or not token_file.exists():
        sys.exit(f"failover: no topology ({env_file} missing): run `bash scripts/topology.sh up` first")
    env = read_env(env_file)
    token = token_file.read_text().strip()
    base = env["HUYING_TOPOLOGY_URL"]
    for name, value in env.items():
        os.environ[name] = value
    os.environ.setdefault("HUYING_SECRET_KEY", (TOPOLOGY / "secret_key").read_text().strip())
    sys.path.insert(0, str(ROOT))

    import multiprocessing as mp

    import django

    django.setup()
    from django.db import connections

    from huying.dispatch.management.commands.simulate import simulated_items

    run = f"failover-{uuid.uuid4().hex[:8]}"
    items = simulated_items(args.orders, seed=int(time.time()), district=DISTRICT, run=run)
    connections.close_all()  # before forking, and the server may soon be gone

    def body(item):
        payload = {k: v for k, v in item.items() if k not in ("idempotency_key", "auto_dispatch")}
        payload["channel"] = "api"
        return item["idempotency_key"], json.dumps(payload, ensure_ascii=False).encode()

    bodies = [body(i) for i in items]
    run_prefix = f"sim-{run}-"
    print(f"failover: {args.orders} orders from {args.clients} clients through {base} (keys {run_prefix}*); "
          f"primary {env['HUYING_TOPOLOGY_PRIMARY']}", flush=True)

    ctx = mp.get_context("fork")
    start, acked, out = ctx.Event(), ctx.Value("i", 0), ctx.Queue()
    procs = [ctx.Process(target=_client, args=(c, base, token, bodies[c::args.clients], args.timeout, args.give_up,
                                                start, acked, out)) for c in range(args.clients)]
    for p in procs:
        p.start()
    t0 = time.time()
    start.set()
    kill_at = int(args.orders * args.kill_at)
    killed_at = failover_done = None
    failover_rc = 0
    results = []
    while len(results) < len(procs):
        if killed_at is None and not args.no_kill and acked.value >= kill_at:
            name, pid = kill_primary(env)
            killed_at = time.time()
            print(f"failover: {acked.value} acknowledged after {killed_at - t0:.1f} s; "
                  f"at {time.strftime('%H:%M:%S', time.localtime(killed_at))}.{int(killed_at % 1 * 1000):03d} "
                  f"SIGKILL to the primary {name}'s postmaster (pid {pid})", flush=True)
            proc = subprocess.run(["bash", str(ROOT / "scripts" / "topology.sh"), "failover"], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            failover_done = time.time()
            failover_rc = proc.returncode
            for line in proc.stdout.splitlines():
                print(f"  {line}", flush=True)
            print(f"failover: procedure {'done' if proc.returncode == 0 else 'FAILED'} in "
                  f"{failover_done - killed_at:.1f} s; {acked.value} acknowledged so far", flush=True)
            if proc.returncode:
                break
        try:
            results.append(out.get(timeout=0.1))
        except Exception:  # queue.Empty
            continue
    if failover_rc:
        for p in procs:
            p.terminate()
        sys.exit("failover: the failover procedure failed; the clients were stopped")
    for p in procs:
        p.join(30)
    wall = time.time() - t0

    done = [d for _n, ds, _f, _g in results for d in ds]
    gave_up = [g for _n, _d, _f, gs in results for g in gs]
    failures: dict[str, int] = {}
    for _n, _d, fs, _g in results:
        for label, n in fs.items():
            failures[label] = failures.get(label, 0) + n
    times = sorted(t for _k, _c, t in done)
    gaps = [(b - a, a) for a, b in zip(times, times[1:], strict=False)]
    gap, gap_from = max(gaps) if gaps else (0.0, t0)
    print(f"failover: {len(done)} acknowledged in {wall:.1f} s ({len(done) / wall:.0f}/s over the whole run); "
          f"failed attempts retried: {sum(failures.values())} {json.dumps(failures)}", flush=True)
    if killed_at:
        print(f"failover: longest gap from {gap_from - t0:.1f} s to {gap_from + gap - t0:.1f} s; primary killed at "
              f"{killed_at - t0:.1f} s, procedure done at {failover_done - t0:.1f} s", flush=True)
    for key, label, detail in gave_up[:5]:
        print(f"failover: NOT acknowledged {key}: {label} {detail}", flush=True)

    env = read_env(env_file)  # the procedure rewrote DATABASE_URL
    lost, duplicates, detail = count(env["HUYING_TOPOLOGY_PRIMARY"], done, run_prefix, "topology-api")
    print(f"failover: counted on {env['HUYING_TOPOLOGY_PRIMARY']}: {json.dumps(detail)}", flush=True)
    if gave_up:
        print(f"failover: {len(gave_up)} orders were never acknowledged", flush=True)
    print(f"acknowledged: {len(done)}")
    print(f"lost: {lost}")
    print(f"duplicates: {duplicates}")
    print(f"unavailable_s: {gap:.1f}", flush=True)
    sys.exit(0 if lost == 0 and duplicates == 0 and not gave_up else 1)


if __name__ == "__main__":
    main()
