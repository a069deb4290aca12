"""Benchmark: a province of cities on PostgreSQL — the figures behind docs/province.md.

    .venv/bin/python bench/province.py [--cities 4] [--repeat 30] [--community-days 30] [--burst 100]

Starts two throw-away PostgreSQL 15 clusters under /tmp (never the machine's own server on 5432):

- "cities" (127.0.0.1:5460, `wal_level = logical`): one database per city, `huying_prov_city1..N`,
  each with an `insight_areaday` of the application's shape (same columns, key and indexes as
  huying/insight/models.py) holding a synthetic year of a Guangzhou-sized city: every street ×
  level-1 subject × day with orders (11 districts × 16 streets, 28 subjects, 22,400 orders a day,
  Poisson fill), the district and city rows summed from them, and the community rows of the last
  `--community-days` days. Codes are Guangdong's prefecture codes (4401 广州, 4403 深圳 …).
- "province" (127.0.0.1:5461): one database `huying_prov` that sees the cities twice:
  1. `fdw.insight_areaday`, a table partitioned by RANGE (code) whose partitions are postgres_fdw
     foreign tables, one per city (`async_capable`, so a province-wide query scans the cities
     concurrently; the planner prunes the cities a query's code range excludes);
  2. `public.insight_areaday`, a local copy partitioned the same way, filled by logical
     replication: each city publishes its rollup rows of levels city/district/street
     (`WHERE length(code) <= 9`, no personal data, no orders), one subscription per city.

Then it measures p50/p95 of three provincial dashboard queries over both, the first query of a new
session, what happens when one city is unreachable, replication lag for single upserts and for a
burst of drain-sized transactions, the initial copy of the cities, what a city's `huying insight
rebuild` (TRUNCATE, re-insert) does to its subscription and how long re-seeding that city takes, and
rollup sizes (measured bytes per row, and a Guangzhou year of every level estimated from a simulated
day of orders).

Prints `name: value` lines. Everything (both clusters, their directory) is removed at the end, also
on error or Ctrl-C. Needs Debian's PostgreSQL 15 binaries (`PGBIN=` for others); as root the
server runs as the `postgres` user. About 2–4 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import psycopg

PGBIN = os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin")
# huying.insight.metrics.COUNTERS, in storage order (copied: the bench does not import Django).
COUNTERS = ("created", "rejected", "merged", "dispatches", "accepts", "accepts_on_time", "returns", "resolutions",
            "resolutions_on_time", "reworks", "closes", "callbacks", "cb_solved", "cb_satisfied", "cb_basic",
            "cb_unsatisfied", "open", "overdue", "suspended_overdue", "unsigned_late")
# Guangdong's 21 prefecture-level cities (GB/T 2260 codes).
CITY_CODES = ("4401", "4403", "4404", "4405", "4406", "4407", "4408", "4409", "4412", "4413", "4414", "4415",
              "4416", "4417", "4418", "4419", "4420", "4451", "4452", "4453", "4402")
DISTRICTS, STREETS, COMMUNITIES, GRIDS = 11, 16, 15, 4  # per city, per district, per street, per community
SUBJECTS = 28
ORDERS_PER_DAY = 22_400  # Guangzhou: 8.17 M a year
TODAY = date(2026, 12, 3)
PUBLISHED = "length(code) <= 9"  # city (4), district (6), street (9): what goes up to the province

AS_PG = os.geteuid() == 0


def say(name: str, value) -> None:
    print(f"{name}: {value}", flush=True)


def note(msg: str) -> None:
    print(f"# {msg}", file=sys.stderr, flush=True)


def weights() -> list[float]:
    """Level-1 subjects' shares of orders: Zipf (s = 1), as hotline subjects are skewed."""
    raw = [1 / k for k in range(1, SUBJECTS + 1)]
    total = sum(raw)
    return [w / total for w in raw]


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))]


def free_port(start: int) -> int:
    for port in range(start, start + 100):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as PostgreSQL binds: TIME_WAIT is free
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port from {start}")


# -- clusters ------------------------------------------------------------------------------------

class Cluster:
    def __init__(self, root: str, name: str, port: int, conf: dict):
        self.dir = os.path.join(root, name)
        self.log = os.path.join(root, f"{name}.log")
        self.port = port
        self.conf = conf
        self.root = root
        self.started = False

    def _run(self, *args: str) -> None:
        cmd = (["runuser", "-u", "postgres", "--"] if AS_PG else []) + list(args)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def start(self) -> None:
        self._run(f"{PGBIN}/initdb", "-D", self.dir, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8")
        conf = {"port": self.port, "listen_addresses": "'127.0.0.1'", "unix_socket_directories": f"'{self.root}'",
                "shared_buffers": "'256MB'", "fsync": "on", "max_connections": 60, **self.conf}
        with open(os.path.join(self.dir, "postgresql.conf"), "a") as f:
            f.write("\n# bench/province.py\n")
            for k, v in conf.items():
                f.write(f"{k} = {v}\n")
        self.started = True
        self._run(f"{PGBIN}/pg_ctl", "-D", self.dir, "-l", self.log, "-w", "-t", "60", "start")

    def stop(self) -> None:
        if self.started:
            try:
                self._run(f"{PGBIN}/pg_ctl", "-D", self.dir, "-m", "immediate", "-w", "-t", "30", "stop")
            except Exception as exc:  # noqa: BLE001 - reported; the directory is removed anyway
                note(f"stopping {self.dir}: {exc}")
            self.started = False

    def connect(self, db: str, **kw) -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=db, autocommit=True, **kw)


# -- the cities ----------------------------------------------------------------------------------

def areaday_ddl(table: str = "insight_areaday") -> str:
    counters = ", ".join(f"{c} integer NOT NULL DEFAULT 0" for c in COUNTERS)
    return (f"CREATE TABLE {table} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, {counters}, "
            "day date NOT NULL, code varchar(20) NOT NULL, subject varchar(8) NOT NULL, "
            "level smallint NOT NULL CHECK (level >= 0), parent varchar(20) NOT NULL)")


def counter_exprs(lam: str) -> str:
    """The 20 counters of a row whose expected orders are `lam`, from one random `c` (created)."""
    c = f"greatest(1, round({lam} * (0.5 + random())))::int"
    derived = {
        "created": "c", "rejected": "(c * 0.02)::int", "merged": "(c * 0.03)::int", "dispatches": "(c * 1.1)::int",
        "accepts": "(c * 1.05)::int", "accepts_on_time": "(c * 0.98)::int", "returns": "(c * 0.05)::int",
        "resolutions": "(c * 0.9)::int", "resolutions_on_time": "(c * 0.85)::int", "reworks": "(c * 0.04)::int",
        "closes": "(c * 0.88)::int", "callbacks": "(c * 0.6)::int", "cb_solved": "(c * 0.5)::int",
        "cb_satisfied": "(c * 0.45)::int", "cb_basic": "(c * 0.1)::int", "cb_unsatisfied": "(c * 0.05)::int",
        "open": "(c * 0.1)::int", "overdue": "(c * 0.02)::int", "suspended_overdue": "0",
        "unsigned_late": "(c * 0.01)::int",
    }
    return c, ", ".join(derived[k] for k in COUNTERS)


def fill_city(cluster: Cluster, db: str, city: str, community_days: int) -> None:
    """A Guangzhou-sized year of area rollups; indexes built after the load, as `rollups.aggregate`."""
    w = weights()
    # Expected orders per (street, subject, day) and per (community, subject, day).
    street_lam = [ORDERS_PER_DAY * wk / (DISTRICTS * STREETS) for wk in w]
    comm_lam = [ORDERS_PER_DAY * wk / (DISTRICTS * STREETS * COMMUNITIES) for wk in w]
    cols = ", ".join(COUNTERS)
    sums = ", ".join(f"sum({c})" for c in COUNTERS)
    start = TODAY - timedelta(days=364)
    with cluster.connect("postgres") as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    with cluster.connect(db) as conn:
        conn.execute(areaday_ddl())
        for level, lams, ncode, first_day, parent_len in (
                (2, street_lam, f"{city} || lpad(a::text, 2, '0') || lpad(b::text, 3, '0')", start, 6),
                (3, comm_lam, f"{city} || lpad(a::text, 2, '0') || lpad(b::text, 3, '0') || lpad(x::text, 3, '0')",
                 TODAY - timedelta(days=community_days - 1), 9)):
            if first_day > TODAY:
                continue
            c, rest = counter_exprs("s.lam")
            inner = f"generate_series(1, {DISTRICTS}) a, generate_series(1, {STREETS}) b"
            if level == 3:
                inner += f", generate_series(1, {COMMUNITIES}) x"
            conn.execute(
                f"INSERT INTO insight_areaday ({cols}, day, code, subject, level, parent) "
                f"SELECT {rest}, d, code, subject, {level}, left(code, {parent_len}) FROM ("
                # random() in this subquery's output keeps it a subquery, so the draw is made per
                # row (a WHERE random() < … on s alone would be pushed down to the subject list).
                f"  SELECT {c} AS c, random() AS u, s.lam, g.d::date AS d, p.code,"
                f"         'S' || lpad(s.k::text, 2, '0') AS subject"
                f"  FROM generate_series(%s::date, %s::date, interval '1 day') g(d),"
                f"       (SELECT {ncode} AS code FROM {inner}) p,"
                f"       unnest(%s::float8[]) WITH ORDINALITY s(lam, k)) r"
                f" WHERE u < 1 - exp(-lam)",
                [first_day, TODAY, lams])
        for level, plen, parent in ((1, 6, f"'{city}'"), (0, 4, "''")):
            conn.execute(
                f"INSERT INTO insight_areaday ({cols}, day, code, subject, level, parent) "
                f"SELECT {sums}, day, left(code, {plen}), subject, {level}, {parent} FROM insight_areaday "
                f"WHERE level = {level + 1} GROUP BY day, left(code, {plen}), subject")
        conn.execute("ALTER TABLE insight_areaday ADD CONSTRAINT insight_areaday_key UNIQUE (code, day, subject)")
        conn.execute("CREATE INDEX insight_areaday_parent_day ON insight_areaday (parent, day)")
        conn.execute("CREATE INDEX insight_areaday_level_day ON insight_areaday (level, day, code) "
                     "INCLUDE (created, open)")
        conn.execute("VACUUM (ANALYZE) insight_areaday")
        # What goes up: rollups of city, district and street, without the row id (each city has its
        # own ids). A publication's row filter may use only replica-identity columns, hence the key.
        conn.execute("ALTER TABLE insight_areaday REPLICA IDENTITY USING INDEX insight_areaday_key")
        pub_cols = ", ".join(("code", "day", "subject", "level", "parent", *COUNTERS))
        conn.execute(f"CREATE PUBLICATION province_rollups FOR TABLE insight_areaday ({pub_cols}) "
                     f"WHERE ({PUBLISHED}) WITH (publish = 'insert, update, delete')")


# -- the province --------------------------------------------------------------------------------

def province_tables(conn, cities: list[tuple[str, str]], cport: int) -> None:
    counters = ", ".join(f"{c} integer NOT NULL DEFAULT 0" for c in COUNTERS)
    cols = f"{counters}, day date NOT NULL, code varchar(20) NOT NULL, subject varchar(8) NOT NULL, " \
           "level smallint NOT NULL, parent varchar(20) NOT NULL"
    conn.execute("CREATE EXTENSION postgres_fdw")
    conn.execute("CREATE SCHEMA fdw")
    conn.execute(f"CREATE TABLE fdw.insight_areaday ({cols}) PARTITION BY RANGE (code)")
    conn.execute(f"CREATE TABLE public.insight_areaday ({cols}, PRIMARY KEY (code, day, subject)) "
                 "PARTITION BY RANGE (code)")
    for code, db in cities:
        hi = str(int(code) + 1)
        conn.execute(f"CREATE SERVER city_{code} FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', "
                     f"port '{cport}', dbname '{db}', async_capable 'true', fetch_size '10000', "
                     "connect_timeout '2')")
        conn.execute(f"CREATE USER MAPPING FOR postgres SERVER city_{code} OPTIONS (user 'postgres')")
        conn.execute(f"CREATE FOREIGN TABLE fdw.areaday_{code} PARTITION OF fdw.insight_areaday "
                     f"FOR VALUES FROM ('{code}') TO ('{hi}') SERVER city_{code} "
                     "OPTIONS (schema_name 'public', table_name 'insight_areaday')")
        conn.execute(f"CREATE TABLE public.areaday_{code} PARTITION OF public.insight_areaday "
                     f"FOR VALUES FROM ('{code}') TO ('{hi}')")
    conn.execute("CREATE INDEX ON public.insight_areaday (parent, day)")
    conn.execute("CREATE INDEX ON public.insight_areaday (level, day, code) INCLUDE (created, open)")
    conn.execute("ANALYZE fdw.insight_areaday")


def subscribe(conn, cities: list[tuple[str, str]], cport: int) -> None:
    for code, db in cities:
        conn.execute(f"CREATE SUBSCRIPTION city_{code} CONNECTION 'host=127.0.0.1 port={cport} user=postgres "
                     f"dbname={db}' PUBLICATION province_rollups WITH (disable_on_error = true)")


def wait_synced(conn, n: int, timeout: float = 240) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ready = conn.execute("SELECT count(*) FROM pg_subscription_rel WHERE srsubstate = 'r'").fetchone()[0]
        if ready == n:
            return
        bad = conn.execute("SELECT subname FROM pg_subscription WHERE NOT subenabled").fetchall()
        if bad:
            raise RuntimeError(f"subscriptions disabled by an error: {bad}")
        time.sleep(0.2)
    raise RuntimeError("initial copy not done in time")


QUERIES = {
    # The province's front page: per city, orders taken in and still open, last 30 days.
    "cities_30d": ("SELECT code, sum(created), sum(open) FROM {t} WHERE level = 0 AND day > %(today)s::date - 30 "
                   "AND day <= %(today)s GROUP BY code ORDER BY code", {}),
    # One city's districts on one day (the code range lets the planner prune the other cities).
    "city_districts_day": ("SELECT code, sum(created), sum(open) FROM {t} WHERE parent = %(city)s AND day = %(day)s "
                           "AND code >= %(city)s AND code < %(next)s GROUP BY code ORDER BY code", {}),
    # The province's 20 busiest streets over 7 days (pulls ~4 k street-days per city).
    "streets_top20_7d": ("SELECT code, sum(created) AS n FROM {t} WHERE level = 2 AND day > %(today)s::date - 7 "
                         "AND day <= %(today)s GROUP BY code ORDER BY n DESC, code LIMIT 20", {}),
}


def time_queries(conn, table: str, params: dict, repeat: int) -> dict[str, tuple[float, float, list]]:
    out = {}
    for name, (sql, _) in QUERIES.items():
        q = sql.format(t=table)
        conn.execute(q, params).fetchall()  # warm
        times, rows = [], None
        for _ in range(repeat):
            t0 = time.perf_counter()
            rows = conn.execute(q, params).fetchall()
            times.append((time.perf_counter() - t0) * 1000)
        out[name] = (pct(times, 50), pct(times, 95), rows)
    return out


# -- replication lag -----------------------------------------------------------------------------

def upsert_sql(rows: int) -> str:
    cols = ("code", "day", "subject", "level", "parent", *COUNTERS)
    one = "(" + ", ".join(["%s"] * len(cols)) + ")"
    sets = ", ".join(f"{c} = insight_areaday.{c} + EXCLUDED.{c}" for c in COUNTERS)
    return (f"INSERT INTO insight_areaday ({', '.join(cols)}) VALUES {', '.join([one] * rows)} "
            f"ON CONFLICT (code, day, subject) DO UPDATE SET {sets}")


def order_rows(city: str, rnd: random.Random, n_orders: int) -> list[tuple]:
    """The upserts a drain of n orders makes (as `rollups.Deltas`): each order adds 1 to created and
    open of its city, district, street, community and grid rows for today, summed by key."""
    acc: dict[tuple, int] = {}
    w = weights()
    for _ in range(n_orders):
        d, s, c, g = rnd.randint(1, DISTRICTS), rnd.randint(1, STREETS), rnd.randint(1, COMMUNITIES), rnd.randint(1, GRIDS)
        subject = f"S{rnd.choices(range(1, SUBJECTS + 1), w)[0]:02d}"
        chain = [city, f"{city}{d:02d}", f"{city}{d:02d}{s:03d}", f"{city}{d:02d}{s:03d}{c:03d}",
                 f"{city}{d:02d}{s:03d}{c:03d}{g:03d}"]
        for lvl, code in enumerate(chain):
            key = (code, TODAY, subject, lvl, chain[lvl - 1] if lvl else "")
            acc[key] = acc.get(key, 0) + 1
    out = []
    for key in sorted(acc):
        vec = [0] * len(COUNTERS)
        vec[COUNTERS.index("created")] = acc[key]
        vec[COUNTERS.index("open")] = acc[key]
        out.append((*key, *vec))
    return out


def city_total(conn, table: str, city: str) -> int:
    return conn.execute(f"SELECT coalesce(sum(created), 0) FROM {table} WHERE code = %s AND day = %s",
                        [city, TODAY]).fetchone()[0]


def wait_equal(prov, city: str, want: int, timeout: float = 120) -> float:
    """Poll the province until city's total for today is `want`; returns when (perf_counter)."""
    end = time.perf_counter() + timeout
    while True:
        if city_total(prov, "public.insight_areaday", city) == want:
            return time.perf_counter()
        if time.perf_counter() > end:
            raise RuntimeError("replication did not catch up")
        time.sleep(0.001)


# -- sizes ---------------------------------------------------------------------------------------

def model_rows_per_day(days: int = 3) -> dict[int, float]:
    """Distinct (code, subject) rows per level on a Guangzhou day: 22,400 orders, places uniform over
    10,560 grids (an upper bound: real orders cluster), subjects Zipf."""
    rnd = random.Random(12345)
    w = weights()
    per_level = {lvl: 0 for lvl in range(5)}
    n_grids = DISTRICTS * STREETS * COMMUNITIES * GRIDS
    for _ in range(days):
        grids = [rnd.randrange(n_grids) for _ in range(ORDERS_PER_DAY)]
        subjects = rnd.choices(range(SUBJECTS), w, k=ORDERS_PER_DAY)
        for lvl, div in enumerate((n_grids, GRIDS * COMMUNITIES * STREETS, GRIDS * COMMUNITIES, GRIDS, 1)):
            per_level[lvl] += len({(g // div, s) for g, s in zip(grids, subjects, strict=True)})
    return {lvl: n / days for lvl, n in per_level.items()}


# -- main ----------------------------------------------------------------------------------------

def run(args, root: str, clusters: list[Cluster]) -> None:
    n = args.cities
    cities = [(CITY_CODES[i], f"huying_prov_city{i + 1}") for i in range(n)]
    cport = free_port(args.port)
    pport = free_port(cport + 1)
    workers = 2 * n + 4
    cc = Cluster(root, "cities", cport, {"wal_level": "logical", "max_wal_senders": n + 10,
                                         "max_replication_slots": 2 * n + 10, "work_mem": "'32MB'",
                                         "maintenance_work_mem": "'256MB'", "max_wal_size": "'4GB'"})
    pc = Cluster(root, "province", pport, {"max_logical_replication_workers": workers,
                                           "max_worker_processes": workers + 8,
                                           "max_sync_workers_per_subscription": 2, "max_wal_size": "'4GB'"})
    clusters += [cc, pc]
    t0 = time.monotonic()
    cc.start()
    pc.start()
    say("clusters", f"cities 127.0.0.1:{cport} (wal_level=logical), province 127.0.0.1:{pport}, "
                    f"{time.monotonic() - t0:.1f} s")

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda c: fill_city(cc, c[1], c[0], args.community_days), cities))
    say("cities", n)
    say("load_s", f"{time.monotonic() - t0:.1f}")

    code1, db1 = cities[0]
    with cc.connect(db1) as conn:
        rows, total, heap = conn.execute(
            "SELECT count(*), pg_total_relation_size('insight_areaday'), pg_relation_size('insight_areaday') "
            "FROM insight_areaday").fetchone()
        by_level = dict(conn.execute("SELECT level, count(*) FROM insight_areaday GROUP BY level").fetchall())
        published = conn.execute(f"SELECT count(*) FROM insight_areaday WHERE {PUBLISHED}").fetchone()[0]
    bpr = total / rows
    say("city_rows", f"{rows} (city {by_level.get(0, 0)}, district {by_level.get(1, 0)}, street "
                     f"{by_level.get(2, 0)} over 365 days; community {by_level.get(3, 0)} over the last "
                     f"{args.community_days} days)")
    say("city_rollup_mib", f"{total / 2**20:.0f} (heap {heap / 2**20:.0f}, indexes {(total - heap) / 2**20:.0f})")
    say("city_bytes_per_row", f"{bpr:.0f}")
    say("city_published_rows_year", published)

    model = model_rows_per_day()
    year_all = sum(model.values()) * 365
    year_up = (model[0] + model[1] + model[2]) * 365
    say("model_rows_per_day", ", ".join(f"{name} {model[lvl]:.0f}" for lvl, name in
                                        enumerate(("city", "district", "street", "community", "grid"))))
    say("guangzhou_rollup_rows_year", f"{year_all / 1e6:.1f} M (all levels; {year_up / 1e6:.2f} M city+district+street)")
    say("guangzhou_rollup_gib_year", f"{year_all * bpr / 2**30:.1f} (at {bpr:.0f} B/row; its orders: 8.17 M × 8.2 KB = "
                                     f"{8.17e6 * 8.2e3 / 2**30:.0f} GiB)")

    with pc.connect("postgres") as conn:
        conn.execute("CREATE DATABASE huying_prov")
    prov = pc.connect("huying_prov")
    province_tables(prov, cities, cport)

    # (2) logical replication: initial copy of every city, then sizes.
    t0 = time.monotonic()
    subscribe(prov, cities, cport)
    wait_synced(prov, n)
    sync_s = time.monotonic() - t0
    prov.execute("VACUUM (ANALYZE) public.insight_areaday")
    prow = prov.execute("SELECT count(*) FROM public.insight_areaday").fetchone()[0]
    psize = prov.execute("SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('public.insight_areaday')"
                         ).fetchone()[0]
    say("initial_copy_s", f"{sync_s:.1f} ({n} cities, {prow} rows, {prow / sync_s / 1000:.0f} k rows/s)")
    say("province_rows_per_city_year", f"{prow // n}")
    say("province_mib_per_city_year", f"{psize / n / 2**20:.0f} ({psize / prow:.0f} B/row)")
    say("province_gib_21_guangzhou_sized_cities_year", f"{psize / n * 21 / 2**30:.1f}")

    # Dashboard queries: foreign partitions (async on, then off) vs the replicated local table.
    prov.execute("SET enable_partitionwise_aggregate = on")
    code2 = cities[min(1, n - 1)][0]
    params = {"today": TODAY, "day": TODAY - timedelta(days=1), "city": code2, "next": str(int(code2) + 1)}
    results = {"local": time_queries(prov, "public.insight_areaday", params, args.repeat),
               "fdw": time_queries(prov, "fdw.insight_areaday", params, args.repeat)}
    for code, _db in cities:
        prov.execute(f"ALTER SERVER city_{code} OPTIONS (SET async_capable 'false')")
    prov.close()
    prov = pc.connect("huying_prov")
    prov.execute("SET enable_partitionwise_aggregate = on")
    results["fdw_serial"] = time_queries(prov, "fdw.insight_areaday", params, args.repeat)
    for code, _db in cities:
        prov.execute(f"ALTER SERVER city_{code} OPTIONS (SET async_capable 'true')")
    for q in QUERIES:
        same = results["local"][q][2] == results["fdw"][q][2] == results["fdw_serial"][q][2]
        for mode in ("fdw", "fdw_serial", "local"):
            p50, p95, _ = results[mode][q]
            say(f"{q}_{mode}_ms", f"p50 {p50:.1f} p95 {p95:.1f}")
        say(f"{q}_same_answer", "yes" if same else "NO")

    plan = "\n".join(r[0] for r in prov.execute(
        "EXPLAIN (VERBOSE) " + QUERIES["city_districts_day"][0].format(t="fdw.insight_areaday"), params).fetchall())
    say("city_districts_day_fdw_partitions_scanned", plan.count("Foreign Scan"))

    # A new session's first province-wide query opens one connection per city.
    firsts = {"fdw": [], "local": []}
    for _ in range(5):
        for mode, table in (("fdw", "fdw.insight_areaday"), ("local", "public.insight_areaday")):
            t0 = time.perf_counter()
            with pc.connect("huying_prov") as c:
                c.execute("SET enable_partitionwise_aggregate = on")
                c.execute(QUERIES["cities_30d"][0].format(t=table), params).fetchall()
            firsts[mode].append((time.perf_counter() - t0) * 1000)
    say("new_session_first_query_ms", f"fdw {statistics.median(firsts['fdw']):.1f}, "
                                      f"local {statistics.median(firsts['local']):.1f} (median of 5, incl. connect)")

    # One city unreachable (its server pointed at a closed port).
    if n > 1:
        dead = free_port(pport + 50)
        down = cities[-1][0]
        prov.execute(f"ALTER SERVER city_{down} OPTIONS (SET port '{dead}')")
        with pc.connect("huying_prov") as c:
            c.execute("SET enable_partitionwise_aggregate = on")
            t0 = time.perf_counter()
            try:
                c.execute(QUERIES["cities_30d"][0].format(t="fdw.insight_areaday"), params).fetchall()
                outcome = "answered"
            except psycopg.Error as exc:
                outcome = f"ERROR ({type(exc).__name__}) after {(time.perf_counter() - t0) * 1000:.0f} ms"
            say("one_city_down_province_query_fdw", outcome)
            try:
                other = {**params, "city": code1, "next": str(int(code1) + 1)}
                c.execute(QUERIES["city_districts_day"][0].format(t="fdw.insight_areaday"), other).fetchall()
                say("one_city_down_other_city_query_fdw", "answered (pruned)")
            except psycopg.Error as exc:
                say("one_city_down_other_city_query_fdw", f"ERROR ({type(exc).__name__})")
            rows_local = c.execute(QUERIES["cities_30d"][0].format(t="public.insight_areaday"), params).fetchall()
            say("one_city_down_province_query_local", f"answered, {len(rows_local)} cities (that one as of its "
                                                      "last replicated change)")
        prov.execute(f"ALTER SERVER city_{down} OPTIONS (SET port '{cport}')")

    # Replication lag: single small drains, then a burst of drain-sized transactions.
    rnd = random.Random(7)
    lags = []
    with cc.connect(db1) as city:
        for _ in range(args.singles):
            batch = order_rows(code1, rnd, 1)
            with city.transaction():
                city.execute(upsert_sql(len(batch)), [v for r in batch for v in r])
            t1 = time.perf_counter()
            want = city_total(city, "insight_areaday", code1)
            lags.append((wait_equal(prov, code1, want) - t1) * 1000)
        say("lag_single_order_ms", f"p50 {pct(lags, 50):.1f} p95 {pct(lags, 95):.1f} ({args.singles} commits, "
                                   "each one order's 5 upserts)")

        batches = [order_rows(code1, rnd, args.burst_orders) for _ in range(args.burst)]
        nrows = sum(len(b) for b in batches)
        sql = {}
        t0 = time.perf_counter()
        for b in batches:
            with city.transaction():
                for i in range(0, len(b), 200):
                    chunk = b[i:i + 200]
                    q = sql.setdefault(len(chunk), upsert_sql(len(chunk)))
                    city.execute(q, [v for r in chunk for v in r])
        t1 = time.perf_counter()
        want = city_total(city, "insight_areaday", code1)
        t2 = wait_equal(prov, code1, want)
        up_rows = sum(1 for b in batches for r in b if len(r[0]) <= 9)
    say("burst", f"{args.burst} transactions × {args.burst_orders} orders = {nrows} upserts "
                 f"({up_rows} published), written in {t1 - t0:.2f} s ({nrows / (t1 - t0):.0f} upserts/s)")
    say("burst_lag_after_last_commit_ms", f"{(t2 - t1) * 1000:.0f}")
    with cc.connect(db1) as city:
        slot = city.execute("SELECT slot_name, pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), "
                            "confirmed_flush_lsn)) FROM pg_replication_slots WHERE slot_type = 'logical' "
                            "ORDER BY 1 LIMIT 1").fetchone()
    say("slot_behind_after_catchup", f"{slot[1]}")

    # A city runs `huying insight rebuild` (TRUNCATE, then every row again). TRUNCATE is not
    # published (it would empty the province's table of every city), so the re-inserted rows meet
    # the old ones: the subscription stops on the duplicate key (disable_on_error). The way back is
    # to re-seed that one city: drop its subscription, empty its partition, subscribe again.
    with cc.connect(db1) as city:
        city.execute("CREATE TEMP TABLE keep AS SELECT * FROM insight_areaday")
        t0 = time.perf_counter()
        with city.transaction():
            city.execute("TRUNCATE insight_areaday")
            city.execute("INSERT INTO insight_areaday SELECT * FROM keep")
        t_commit = time.perf_counter()
        want = city_total(city, "insight_areaday", code1)
    end = time.perf_counter() + 60
    while prov.execute("SELECT subenabled FROM pg_subscription WHERE subname = %s", [f"city_{code1}"]).fetchone()[0]:
        if time.perf_counter() > end:
            break
        time.sleep(0.05)
    enabled = prov.execute("SELECT subenabled FROM pg_subscription WHERE subname = %s", [f"city_{code1}"]).fetchone()[0]
    say("city_rebuild_effect", "subscription still enabled after 60 s" if enabled else
        f"rebuild committed in {t_commit - t0:.1f} s; the subscription stopped on a duplicate key "
        f"{time.perf_counter() - t_commit:.1f} s after the commit")
    t0 = time.perf_counter()
    prov.execute(f"DROP SUBSCRIPTION city_{code1}")
    prov.execute(f"TRUNCATE public.areaday_{code1}")
    subscribe(prov, [(code1, db1)], cport)
    wait_synced(prov, n)
    wait_equal(prov, code1, want)
    say("city_reseed_s", f"{time.perf_counter() - t0:.1f} (drop subscription, empty the partition, copy the "
                         "city again; the other cities kept replicating)")
    prov.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cities", type=int, default=4, help="city databases (1–21)")
    ap.add_argument("--repeat", type=int, default=30, help="timed runs of each dashboard query per mode")
    ap.add_argument("--community-days", type=int, default=30, help="days of community rows in each city")
    ap.add_argument("--singles", type=int, default=30, help="single-order commits timed for lag")
    ap.add_argument("--burst", type=int, default=100, help="transactions in the burst")
    ap.add_argument("--burst-orders", type=int, default=200, help="orders per burst transaction")
    ap.add_argument("--port", type=int, default=5460, help="first port tried for the clusters")
    args = ap.parse_args()
    if not 1 <= args.cities <= len(CITY_CODES):
        ap.error(f"--cities must be 1..{len(CITY_CODES)}")
    if not os.path.exists(f"{PGBIN}/initdb"):
        ap.error(f"no PostgreSQL binaries in {PGBIN} (set PGBIN)")

    root = tempfile.mkdtemp(prefix="huying_prov_", dir="/tmp")
    if AS_PG:
        shutil.chown(root, "postgres", "postgres")
    clusters: list[Cluster] = []
    lock = threading.RLock()

    def cleanup() -> None:
        with lock:
            for c in reversed(clusters):
                c.stop()
            clusters.clear()
            shutil.rmtree(root, ignore_errors=True)

    def on_signal(signum, _frame):
        # Stop the clusters at once: the loading threads' statements then fail instead of running on.
        cleanup()
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    started = time.monotonic()
    try:
        run(args, root, clusters)
    except KeyboardInterrupt as exc:
        note(f"interrupted ({exc}); cleaning up")
        return 130
    except Exception:
        for c in clusters:
            if os.path.exists(c.log):
                with open(c.log) as f:
                    note(f"--- {c.log} (last lines)\n" + "".join(f.readlines()[-15:]))
        raise
    finally:
        cleanup()
    say("total_s", f"{time.monotonic() - started:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
