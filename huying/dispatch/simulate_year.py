"""A year of Guangzhou's calls (`huying simulate year`), written on a bulk path.

Every order is placed on a unified grid (volume per district follows its number of grids, with
hot spots: each grid draws a lognormal weight), taken in at a time drawn from daily, weekly,
holiday and seasonal cycles, on a subject whose level-1 category has its own season, and then
lived through: routed and timed by dispatch's own code (`services.routing.route_for`,
`deadlines.applicable_limits` / `plan_clocks` on the working calendar), dispatched, sometimes
returned and re-dispatched one level up, signed, parked, resolved (mostly in time), called back,
reworked when the resident is unsatisfied, closed. Nothing after `end` happens, so the last days
hold open, warned and overdue orders like a live system.

The rows are the ones the services write — order, assignments, timeline (Transition), audit
(AuditEntry) and callbacks — built step by step by the same builders (`huying.dispatch.steps`),
marked `"simulated": true` in every timeline and audit row's data and in the order's `routing`.
They are written with COPY on PostgreSQL (bulk_create elsewhere), one transaction per batch, the
batches in time order. Whoever keeps per-order facts (insight's rollups) hands in a `Facts` hook:
each order's contribution is computed from its rows and written in the batch's transaction, and
the hook finishes (re-aggregates) at the end — so dispatch imports nothing from insight.
`huying.insight.simulate` wires insight's rollups in and is what `huying simulate year` runs.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import gc
import itertools
import json
import math
import multiprocessing
import os
import queue
import random
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Protocol
from zoneinfo import ZoneInfo

import chinese_calendar
import numpy as np
import orjson
import psycopg
from django.conf import settings
from django.db import DatabaseError, connection, connections, models, transaction
from psycopg.adapt import PyFormat

from huying.core.models import AuditEntry
from huying.core.worktime import get_calendar
from huying.territory.models import UNIFIED_LAYER, Division, Grid

from . import partitions, reference, steps
from .deadlines import Plan, applicable_limits, deadline_state, fixed_limits, plan_clocks, plan_many
from .models import Assignment, Callback, DeferredIndex, RequestType, Subject, Transition, WorkOrder
from .seed import dispatch_seed
from .services.routing import route_for, territorial_units

GUANGZHOU_YEAR = 8_170_000
TZ = ZoneInfo(settings.TIME_ZONE)

# Relative call volume per hour of the day (local time): office hours peak, nights are quiet.
HOURLY = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.5, 1.2, 2.5, 3.5, 3.6, 3.2,
                   2.2, 2.4, 3.2, 3.4, 3.1, 2.6, 2.0, 1.8, 1.6, 1.3, 0.9, 0.6])
WEEKDAY = np.array([1.10, 1.05, 1.04, 1.03, 1.00, 0.80, 0.75])  # Monday first
HOLIDAY_FACTOR = 0.6
# Level-1 subjects with a season: (amplitude, day of year of the peak).
SEASONS = {
    "Q01": (0.25, 200),  # 城乡建设: rainy-season flooding, summer construction
    "Q04": (0.35, 195),  # 环境保护: summer noise and smells
    "Q06": (0.15, 35),   # 交通运输: Spring Festival travel
    "Q10": (0.30, 90),   # 农村农业: spring ploughing
    "Q12": (0.30, 15),   # 卫生计生: winter flu
    "Q14": (0.45, 240),  # 教育文体: school enrolment
    "Q15": (0.40, 25),   # 劳动和社会保障: wage arrears before the Spring Festival
    "E01": (0.20, 200),  # 市容环境
    "E04": (0.60, 220),  # 突发事件: typhoons
    "C01": (0.20, 200),  # 公用设施: storm damage
}
KIND_SHARE = {"request": 0.78, "event": 0.17, "component": 0.05}
REQUEST_TYPE_SHARE = {"complaint": 0.34, "help": 0.30, "consult": 0.20, "suggestion": 0.10, "report": 0.06}
CHANNEL_OF_KIND = {"request": ("hotline", "web"), "event": ("patrol",), "component": ("patrol",)}
P_EMERGENCY = 0.004
P_REJECT = 0.015
P_RETURN = 0.04
P_SUSPEND = 0.008
P_LATE_RESOLVE = 0.07
P_REACHED = 0.92
SATISFACTION = (("satisfied", 0.82), ("basically", 0.13), ("unsatisfied", 0.05))
# The same draws as `choices(population, weights)`, without rebuilding both lists per order.
_RT_CODES, _RT_CUM = list(REQUEST_TYPE_SHARE), list(itertools.accumulate(REQUEST_TYPE_SHARE.values()))
_SAT_CODES, _SAT_CUM = [s for s, _p in SATISFACTION], list(itertools.accumulate(p for _s, p in SATISFACTION))
SIM = {"simulated": True}


class Facts(Protocol):
    """Per-order facts kept beside the simulated rows (insight's rollups)."""

    # The hook's own tables whose secondary indexes a big load builds afterwards, as the history's
    # (`defer_indexes`); `finish` must not need them (they are built beside it).
    deferrable: tuple = ()

    def of(self, order: dict, steps: list[dict]): ...  # one order's fact from its fields and timeline
    def write(self, facts: list) -> None: ...  # a batch's facts, inside the batch's transaction
    def finish(self) -> None: ...  # after the last batch, outside any transaction


@dataclass
class Options:
    orders: int = GUANGZHOU_YEAR
    end: datetime | None = None
    days: int = 365
    seed: int = 2025
    batch: int = 20000
    workers: int | None = None  # processes simulating at once (PostgreSQL); None: one per core
    # False: every order is lived through as usual, but only its facts are kept (the `Facts` hook:
    # the dashboard's rollups), not its rows — to measure the dashboard on a year bigger than the disk.
    history: bool = True
    # Build the history tables' secondary indexes after the load instead of row by row (PostgreSQL).
    # None: when the year has at least DEFER_INDEXES_FROM orders and the database a tenth of that.
    defer_indexes: bool | None = None


# -- bulk writing ------------------------------------------------------------------------------

class Table:
    """Rows for one model written in the model's full column order; unspecified columns get their defaults."""

    def __init__(self, model, attnames: tuple[str, ...], *, with_pk: bool):
        self.model = model
        fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
        pos = {f.attname: i for i, f in enumerate(fields)}
        missing = [a for a in attnames if a not in pos]
        if missing:
            raise RuntimeError(f"{model.__name__} has no fields {missing}")
        given = set(attnames)
        # A column nobody gives whose default is NULL is left out: the database fills it in.
        fields = [f for f in fields if f.attname in given or self._default(f) is not None]
        self.columns = [f.column for f in fields]
        self.attnames = [f.attname for f in fields]
        self.template = [self._default(f) for f in fields]
        self.given = attnames
        self.json = {i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"}
        self.rows: list[list] = []  # one list for the Table's life (`add` appends to it)
        self.encoded = False  # True: the rows' JSON values are already jsonb's binary form (`jsonb`)
        self.add = self._adder(attnames)
        self._oids: list[int] | None = None

    def _adder(self, attnames):
        """`add(*values)`: append a row of the given values (in `attnames` order) in column order,
        the defaults filled in — one generated function (a list display, then append) instead of a
        copy and a loop per row; the simulator calls it for every row it writes."""
        arg = {a: f"v{i}" for i, a in enumerate(attnames)}
        items = ", ".join(arg.get(a, f"d[{i}]") for i, a in enumerate(self.attnames))
        namespace = {"d": self.template, "append": self.rows.append}
        exec(f"def add({', '.join(arg.values())}):\n    append([{items}])", namespace)  # noqa: S102 - our own names
        return namespace["add"]

    @staticmethod
    def _default(f):
        if f.primary_key:
            return None
        v = f.get_default()
        if v is None and not f.null and f.get_internal_type() in ("CharField", "TextField"):
            return ""
        return v

    def take(self) -> list[list]:
        rows = self.rows.copy()  # `add` keeps appending to self.rows
        self.rows.clear()
        return rows

    def flush(self, rows: list[list] | None = None, *, memo: dict | None = None) -> None:
        """Write `rows` (the taken ones if None): binary COPY on PostgreSQL, bulk_create elsewhere.
        `memo`: JSON already encoded in this write, by the id of its dict (a step's timeline and
        audit rows share one `data` dict: it is encoded once)."""
        if rows is None:
            rows = self.take()
        if not rows:
            return
        if connection.vendor == "postgresql":
            qn = connection.ops.quote_name
            cols = ", ".join(qn(c) for c in self.columns)
            if self.json and not self.encoded:
                _encode_json(rows, self.json, memo if memo is not None else {})
            with connection.cursor() as cur:
                raw = cur.cursor
                types = self._types(raw)
                # By oid psycopg picks its Python dumper for bytea (the one of `Binary` objects); the
                # C one of `bytes` passes the same bytes through (this cursor only).
                raw.adapters.register_dumper(bytes, _BYTES_DUMPER)
                with raw.copy(f"COPY {qn(self.model._meta.db_table)} ({cols}) FROM STDIN WITH (FORMAT BINARY)") as cp:
                    cp.set_types(types)
                    write = cp.write_row
                    for row in rows:
                        write(row)
        else:
            objs = [self.model(**dict(zip(self.attnames, row, strict=True))) for row in rows]
            self.model.objects.bulk_create(objs, batch_size=500)

    def _types(self, cur) -> list[int]:
        """The columns' type oids for binary COPY (read once per process). A jsonb column is sent
        as bytea: its values are already jsonb's binary form (`_encode_json`), which bytea's C
        dumper passes through untouched, where psycopg's jsonb dumper is Python per value."""
        if self._oids is None:
            cur.execute("SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
                        [self.model._meta.db_table])
            oid = dict(cur.fetchall())
            bytea = cur.adapters.types["bytea"].oid
            self._oids = [bytea if i in self.json else oid[c] for i, c in enumerate(self.columns)]
        return self._oids


def jsonb(value) -> bytes | None:
    """jsonb's binary form of `value` (None stays None): a version byte, then the text — orjson's
    (a fifteenth of json.dumps' time on these payloads; jsonb stores the same value either way),
    json.dumps' for what orjson refuses."""
    if value is None:
        return None
    try:
        return b"\x01" + orjson.dumps(value)
    except TypeError:
        return b"\x01" + json.dumps(value, ensure_ascii=False).encode()


def _encode_json(rows: list[list], columns, memo: dict) -> None:
    """Replace the JSON values of `rows` (in place) by jsonb's binary form: a version byte, then
    the text. orjson writes the text (a fifteenth of json.dumps' time on these payloads; jsonb
    stores the same value either way), json.dumps what orjson refuses. A dict carried by several
    rows is encoded once (`memo`, by its id; the dict is kept there so its id is not reused)."""
    for row in rows:
        for i in columns:
            value = row[i]
            if value is None:
                continue
            key = id(value)
            hit = memo.get(key)
            if hit is None:
                memo[key] = hit = (value, jsonb(value))
            row[i] = hit[1]


_BYTES_DUMPER = psycopg.adapters.get_dumper(bytes, PyFormat.BINARY)
_reserved: dict[str, int] = {}


def reserve_ids(model, n: int) -> list[int]:
    """n fresh primary keys for `model` (from its sequence on PostgreSQL; after the max elsewhere)."""
    table = model._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n])
            return [r[0] for r in cur.fetchall()]
        cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
        # Ids reserved earlier in this batch are not written yet: count past them too.
        start = max(cur.fetchone()[0], _reserved.get(table, 0)) + 1
        _reserved[table] = start + n - 1
        return list(range(start, start + n))


def reserve_order_numbers(n: int):
    """n running numbers of the order-id sequence (partitioned PostgreSQL), taken at once and in
    order: a range when nobody else took one meanwhile (no transfer), else the numbers themselves."""
    with connection.cursor() as cur:
        cur.execute("SELECT min(v), max(v) FROM (SELECT nextval(%s) AS v FROM generate_series(1, %s)) s",
                    [partitions.SEQUENCE, n])
        lo, hi = cur.fetchone()
        if hi - lo + 1 == n:
            return range(lo, hi + 1)
        cur.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [partitions.SEQUENCE, n])
        return np.array([r[0] for r in cur.fetchall()], dtype=np.int64)


def reserve_order_ids(created: list[datetime], numbers=None) -> list[int]:
    """Ids for orders taken in at `created`: on a partitioned PostgreSQL table each carries its
    order's month (D15), so a simulated year fills its monthly partitions; elsewhere as `reserve_ids`.
    `numbers`: running numbers reserved beforehand (`reserve_order_numbers`), one per order."""
    if not partitions.is_partitioned(connection):
        return reserve_ids(WorkOrder, len(created))
    if numbers is None:
        with connection.cursor() as cur:
            cur.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [partitions.SEQUENCE, len(created)])
            numbers = [r[0] for r in cur.fetchall()]
    elif not isinstance(numbers, range):
        numbers = numbers.tolist()
    return [partitions.month_id(partitions.month_of(t), n) for t, n in zip(created, numbers, strict=True)]


# -- the world the calls come from -------------------------------------------------------------

@dataclass
class Place:
    grid_id: int
    code: str
    community_id: int
    community_code: str
    street_code: str
    district_code: str
    lng: float
    lat: float
    label: str


def load_places() -> list[Place]:
    names = dict(Division.objects.values_list("code", "name"))
    out = []
    for g in (Grid.objects.filter(layer=UNIFIED_LAYER).select_related("community").order_by("code")
              .values("id", "code", "community_id", "community__code", "lng", "lat", "name")):
        cc = g["community__code"]
        label = " ".join(x for x in (names.get(cc[:6]), names.get(cc[:9]), names.get(cc), g["name"]) if x)
        out.append(Place(g["id"], g["code"], g["community_id"], cc, cc[:9], cc[:6], g["lng"], g["lat"], label[:200]))
    return out


def day_weights(start_day, days: int) -> np.ndarray:
    w = np.empty(days)
    for i in range(days):
        d = start_day + timedelta(days=i)
        f = WEEKDAY[d.weekday()]
        try:
            if chinese_calendar.is_holiday(d) and d.weekday() < 5:
                f = HOLIDAY_FACTOR
        except NotImplementedError:
            pass
        doy = d.timetuple().tm_yday
        w[i] = f * (1 + 0.12 * math.cos(2 * math.pi * (doy - 200) / 365))  # a busier summer
    return w


# -- one order's life --------------------------------------------------------------------------

class Simulator:
    def __init__(self, opts: Options, *, actor_label: str = "simulate", facts: Facts | None = None):
        dispatch_seed()
        reference.reset()
        self.opts = opts
        self.cal = get_calendar()
        self.rng = random.Random(opts.seed)
        self.np = np.random.default_rng(opts.seed)
        self.places = load_places()
        if not self.places:
            raise RuntimeError("no unified grids loaded: load the territory first (huying demo --no-serve)")
        self.areas = [{"grid_id": p.grid_id, "community_id": p.community_id, "district_code": p.district_code,
                       "street_code": p.street_code, "community_code": p.community_code, "area_code": p.code}
                      for p in self.places]
        self.territorial = [territorial_units(grid_id=a["grid_id"], district_code=a["district_code"],
                                              street_code=a["street_code"], community_code=a["community_code"])
                            for a in self.areas]
        self.grid_w = self.np.lognormal(0.0, 0.8, len(self.places))
        self.grid_w /= self.grid_w.sum()
        subjects = list(Subject.objects.filter(active=True).order_by("code"))
        leaves = [s for s in subjects if not any(o.code != s.code and o.code.startswith(s.code) for o in subjects
                                                 if len(o.code) > len(s.code))]
        self.by_l1: dict[str, list] = {}
        for s in leaves:
            self.by_l1.setdefault(s.code[:3], []).append(s)
        self.l1_kind = {code: items[0].kind for code, items in self.by_l1.items()}
        self.chains = {s.code: reference.subject_chain(s) for s in leaves}
        self.urgency = {code: next((s.urgency for s in chain if s.urgency), "normal") or "normal"
                        for code, chain in self.chains.items()}
        self.request_types = {rt.code: rt for rt in RequestType.objects.filter(active=True)}
        self.label = actor_label
        self.facts = facts
        end = opts.end or datetime.now(TZ)
        self.end = end.astimezone(TZ)
        self.start_day = (self.end - timedelta(days=opts.days - 1)).date()
        self.day_w = day_weights(self.start_day, opts.days)
        self.count = 0
        self.order_numbers = None  # the running numbers of the orders' ids, reserved for the whole run
        self._fixed: dict = {}  # (request type, subject, emergency) -> (limits or None, their dict)

    # drawing --------------------------------------------------------------------------------
    def schedule(self, n: int) -> None:
        """Draw the instants of the next `n` calls at once and keep them in time order: the batches
        then go through the year from its first day to its last, so each batch's rows land at the
        growing end of the month partitions and of the order-id, time and timeline indexes instead
        of all over them (at a year's scale the indexes no longer fit in memory)."""
        days = self.np.choice(len(self.day_w), size=n, p=self.day_w / self.day_w.sum())
        hours = self.np.choice(24, size=n, p=HOURLY / HOURLY.sum())
        secs = self.np.integers(0, 3600, size=n)
        self._instants = np.sort(days.astype(np.int64) * 86400 + hours * 3600 + secs)
        self._next = 0

    def draw_times(self, n: int) -> list[datetime]:
        """The next `n` call instants of the schedule, oldest first (a new schedule of `n` if none is left)."""
        if getattr(self, "_instants", None) is None or self._next + n > len(self._instants):
            self.schedule(n)
        out = self.times_at(self._next, n)
        self._next += n
        return out

    def times_at(self, start: int, n: int) -> list[datetime]:
        """Instants `start` … `start + n` of the schedule as datetimes, in time order."""
        out = []
        for offset in self._instants[start:start + n].tolist():
            d, rest = divmod(offset, 86400)
            day = self.start_day + timedelta(days=d)
            midnight = datetime(day.year, day.month, day.day, tzinfo=TZ)
            t = midnight + timedelta(seconds=rest)
            if t >= self.end:  # today, later than now: spread over the part of today that has passed
                t = midnight + (self.end - midnight) * self.rng.random()
            out.append(t)
        return out

    def seed_batch(self, k: int) -> None:
        """Batch `k` draws from its own generators, seeded by (seed, k): the year comes out the
        same whichever process simulates which batch, and however many there are."""
        self.rng = random.Random(self.opts.seed * 1_000_003 + k)
        self.np = np.random.default_rng([self.opts.seed, k])

    def draw_subject(self, t: datetime, u: list[float]):
        """(subject, kind) of a call at `t`, from the order's uniform draws `u`."""
        r = u[U_KIND]
        kind = "request" if r < KIND_SHARE["request"] else ("event" if r < 1 - KIND_SHARE["component"] else "component")
        l1s, cum = self._season(kind, t.timetuple().tm_yday)
        leaves = self.by_l1[l1s[bisect.bisect(cum, u[U_L1] * cum[-1], 0, len(cum) - 1)]]
        return leaves[int(u[U_LEAF] * len(leaves))], kind

    @functools.cache  # noqa: B019 - one simulator per run; (kind, day of year) has ~1,100 values
    def _season(self, kind: str, doy: int) -> tuple[list[str], list[float]]:
        """The level-1 subjects of a kind and their cumulative weights on a day of the year."""
        l1s = [c for c, k in self.l1_kind.items() if k == kind] or list(self.l1_kind)
        weights = []
        for c in l1s:
            amp, peak = SEASONS.get(c, (0.0, 0))
            weights.append(math.sqrt(len(self.by_l1[c])) * (1 + amp * math.cos(2 * math.pi * (doy - peak) / 365)))
        return l1s, list(itertools.accumulate(weights))

    # the life --------------------------------------------------------------------------------
    def plan(self, order_rt, chain, emergency, start):
        """(limits, plan) of a dispatch at `start`; the limits that do not depend on the start are
        looked up once per (request type, subject, emergency), with their dict form."""
        limits, as_dict = self._fixed_of(order_rt, chain, emergency)
        if limits is None:
            limits = applicable_limits(request_type=order_rt, subject_chain=chain, emergency=emergency, start=start,
                                       cal=self.cal)
            as_dict = limits.as_dict()
        return limits, as_dict, plan_clocks(start=start, limits=limits, cal=self.cal)

    def batch(self, n: int, w, *, k: int) -> list:
        """Simulate the schedule's batch `k` (its n instants from k × batch on, drawn from that batch's
        own generators) into the writer's tables; returns their facts (empty without a `Facts` hook).

        The batch's random numbers are drawn at once (`Draws`), then three passes: each order's
        subject, request type, channel and urgency; the first dispatch's clocks of every order at
        once (`deadlines.plan_many` on the working calendar, for the limits that do not depend on the
        start); and each order's life, step by step."""
        self.seed_batch(k)
        first = k * self.opts.batch
        times = sorted(self.times_at(first, n))
        numbers = self.order_numbers[first:first + n] if self.order_numbers is not None else None
        end = self.end
        grids = self.np.choice(len(self.places), size=n, p=self.grid_w).tolist()
        order_ids = reserve_order_ids(times, numbers)
        d = Draws(self.np, n)
        # 1. what each call is about
        calls = []
        for i in range(n):
            u = d.u[i]
            created = times[i]
            subject, kind = self.draw_subject(created, u)
            chain = self.chains[subject.code]
            rt = self.request_types.get(_RT_CODES[bisect.bisect(_RT_CUM, u[U_RT] * _RT_CUM[-1], 0, len(_RT_CUM) - 1)]) \
                if kind == "request" else None
            channels = CHANNEL_OF_KIND[kind]
            channel = channels[int(u[U_CHANNEL] * len(channels))]
            urgency = "emergency" if u[U_EMERGENCY] < P_EMERGENCY else self.urgency[subject.code]
            first_at = created + timedelta(microseconds=d.dispatch_us[i])
            calls.append((subject, kind, chain, rt, channel, urgency, first_at))
        # 2. the first dispatch's clocks, many at once
        planned = self.plans([(c[3], c[2], c[5] == "emergency", c[6]) for c in calls])
        # 3. each life
        facts = []
        for i in range(n):
            oid = order_ids[i]
            created = times[i]
            subject, kind, chain, rt, channel, urgency, first_at = calls[i]
            p = self.places[grids[i]]
            area = self.areas[grids[i]]  # routing only reads it
            route = route_for(subject=subject, subject_chain=chain, request_type=rt, urgency=urgency, area=area,
                              now=created, territorial=self.territorial[grids[i]])
            life = Life(w, oid, label=self.label, plan=functools.partial(self.plan, rt, chain, urgency == "emergency"))
            life.create(created, channel=channel, routing=route.as_dict())
            self._live(life, route, d, i, first_at, planned[i], end, area, subject, chain, rt, urgency, created,
                       grids[i])
            o = life.o
            # The clocks as the worker's sweep would have left them at `end`.
            if o["state"] in ("dispatched", "accepted"):
                o["deadline_state"] = deadline_state(now=end, warn_at=o["warn_at"], resolve_due=o["resolve_due"])
                if o["state"] == "dispatched" and o["response_due"] and end >= o["response_due"]:
                    o["response_overdue"] = True
            w.orders.add(oid, f"SIM{oid:012d}", channel, rt.pk if rt else None, subject.pk,
                         subject.name[:120], "由 huying simulate year 生成", urgency, "模拟市民",
                         f"138{d.phone[i]:08d}", p.lng, p.lat, p.label[:255], p.grid_id, p.community_id,
                         p.district_code, p.street_code, p.code, p.label, o["state"], o["version"],
                         route.unit_id, {**life.routing, **SIM}, o["lead_unit_id"], o["handling_level"],
                         o["dispatched_at"], o["accepted_at"], o["resolved_at"], o["closed_at"], o["response_due"],
                         o["resolve_due"], o["warn_at"], o["deadline_state"], o["response_overdue"],
                         o["suspended_at"], o["resolution"], o["return_count"], o["rework_count"], created,
                         o["updated_at"])
            life.finish()
            if self.facts is not None:
                facts.append(self.facts.of({"id": oid, "created_at": created, "area_code": p.code,
                                            "subject_code": subject.code, "state": o["state"],
                                            "deadline_state": o["deadline_state"],
                                            "response_overdue": o["response_overdue"],
                                            "lead_unit_id": o["lead_unit_id"], "version": o["version"]}, life.steps))
        self.count += n
        return facts

    def plans(self, dispatches: list[tuple]) -> list:
        """The (limits, their dict, plan) of each dispatch (request type, subject chain, emergency,
        at) whose limits do not depend on the start, computed many at once (`deadlines.plan_many`);
        None for the others (`plan` takes them at the dispatch)."""
        cal = self.cal
        moment = cal.moment
        # The clocks depend only on the limits' amounts and units: one call per such set (a few),
        # not per (request type, subject) key (hundreds a batch, each call a few dozen numpy steps).
        same: dict[tuple, list[int]] = {}
        fixed_of: dict[int, tuple] = {}
        for i, (rt, chain, emergency, _at) in enumerate(dispatches):
            fixed, as_dict = self._fixed_of(rt, chain, emergency)
            if fixed is None:
                continue
            fixed_of[i] = (fixed, as_dict)
            same.setdefault((fixed.response.value, fixed.response.unit, fixed.resolve.value, fixed.resolve.unit),
                            []).append(i)
        out: list = [None] * len(dispatches)
        for members in same.values():
            limits = fixed_of[members[0]][0]
            dues = plan_many(np.array([cal.local_us(dispatches[i][3]) for i in members], dtype=np.int64), limits, cal)
            if dues is None:
                continue
            for i, response_due, resolve_due, warn_at in zip(members, *(a.tolist() for a in dues), strict=True):
                fixed, as_dict = fixed_of[i]
                out[i] = (fixed, as_dict, Plan(start=dispatches[i][3], response_due=moment(response_due),
                                               resolve_due=moment(resolve_due), warn_at=moment(warn_at), limits=fixed))
        return out

    def _fixed_of(self, rt, chain, emergency: bool):
        """The limits of (request type, subject, emergency) when they do not depend on the start,
        and their dict form; (None, None) when they do. Looked up once per such key."""
        key = (rt.pk if rt is not None else None, chain[0].pk if chain else None, emergency)
        hit = self._fixed.get(key)
        if hit is None:
            fixed = fixed_limits(request_type=rt, subject_chain=chain, emergency=emergency)
            hit = self._fixed[key] = (fixed, fixed.as_dict() if fixed is not None else None)
        return hit

    def _live(self, life, route, d, i, first_at, planned, end, area, subject, chain, rt, urgency, created, grid):
        o = life.o
        u = d.u[i]
        if u[U_REJECT] < P_REJECT:
            t = created + timedelta(minutes=5 + 85 * u[U_REJECT_AFTER])
            if t <= end:
                life.reject(t, "不属于政府职责范围")
            return
        t = first_at
        if route.unit_id is None or t > end:
            return
        life.dispatch(t, route.unit_id, route.level, route.cohandler_ids, note="自动派单", planned=planned)
        if u[U_RETURN] < P_RETURN:
            t = t + timedelta(hours=0.5 + 5.5 * u[U_RETURN_AFTER])
            if t > end:
                return
            returning = o["lead_unit_id"]
            life.ret(t, "非本单位职责", "《广州市政务服务便民热线管理办法》")
            t = t + timedelta(hours=0.2 + 1.8 * u[U_REDISPATCH_AFTER])
            if t > end:
                return
            again = route_for(subject=subject, subject_chain=chain, request_type=rt, urgency=urgency, area=area,
                              now=t, exclude={returning}, territorial=self.territorial[grid])
            if again.unit_id is None:
                return
            life.routing = again.as_dict()
            life.dispatch(t, again.unit_id, again.level)
        t = t + timedelta(hours=d.accept_hours[i])
        if t > end:
            return
        life.accept(t)
        if u[U_SUSPEND] < P_SUSPEND:
            t = t + timedelta(days=0.5 + 2.5 * u[U_SUSPEND_AFTER])
            if t <= end:
                life.suspend(t, "需纳入工程计划")
            return
        for attempt in range(2):
            window = max((o["resolve_due"] - t).total_seconds(), 3600.0)
            frac = 1 + 0.8 * u[U_LATE_BY + attempt] if u[U_LATE + attempt] < P_LATE_RESOLVE \
                else d.resolve_share[i][attempt]
            t = t + timedelta(seconds=window * frac)
            if t > end:
                return
            life.resolve(t, "已办理")
            t = t + timedelta(hours=4 + 44 * u[U_CALLBACK_AFTER + attempt])
            if t > end:
                return
            reached = u[U_REACHED + attempt] < P_REACHED
            if reached:
                sat = _SAT_CODES[bisect.bisect(_SAT_CUM, u[U_SATISFACTION + attempt] * _SAT_CUM[-1], 0,
                                                  len(_SAT_CUM) - 1)]
                if attempt == 1 and sat == "unsatisfied":
                    sat = "basically"
            else:
                sat = ""
            solved = None if not reached else sat != "unsatisfied"
            life.callback(t, reached=reached, solved=solved, satisfaction=sat, note="" if reached else "联系不上")
            if o["state"] == "closed":
                return


# The uniform draws of one order (`Draws.u[i]`), by what each decides.
(U_KIND, U_L1, U_LEAF, U_RT, U_CHANNEL, U_EMERGENCY, U_REJECT, U_REJECT_AFTER, U_RETURN, U_RETURN_AFTER,
 U_REDISPATCH_AFTER, U_SUSPEND, U_SUSPEND_AFTER) = range(13)
U_LATE, U_LATE_BY, U_CALLBACK_AFTER, U_REACHED, U_SATISFACTION = 13, 15, 17, 19, 21  # two each: resolve attempts
U_COUNT = 23


class Draws:
    """A batch's random numbers, drawn at once from its numpy generator (a call each, not a few
    dozen per order): per order `U_COUNT` uniforms, the first dispatch's delay in microseconds, the
    hours to signing, the share of the resolve window used by each attempt, a phone number."""

    def __init__(self, g: np.random.Generator, n: int):
        self.u = g.random((n, U_COUNT)).tolist()
        self.dispatch_us = np.rint(g.exponential(20 * 60 * 1_000_000, n)).astype(np.int64).tolist()
        self.accept_hours = g.lognormal(math.log(2.5), 1.0, n).tolist()
        self.resolve_share = g.beta(1.3, 3.0, (n, 2)).tolist()
        self.phone = g.integers(0, 10**8, n).tolist()


# The audit's old and new of a step, `{"state": s}` and `{"state": s, "version": n}`, as jsonb's
# binary form: a few dozen distinct values in a whole year, each encoded once.
@functools.cache
def _state_jsonb(state: str) -> bytes:
    return jsonb({"state": state})


@functools.cache
def _state_version_jsonb(state: str, version: int) -> bytes:
    return jsonb({"state": state, "version": version})


class Life:
    """One simulated order's rows, each step built by `huying.dispatch.steps` (as the services build
    theirs) and added to the writer's tables; `o` is the order's fields as they stand, `steps` its
    timeline as `insight.facts.fact_of` reads it.

    `plan(at)` gives the (limits, their dict form, plan) of a dispatch at `at`.
    """

    ORDER = {"state": "", "version": 0, "lead_unit_id": None, "handling_level": "", "dispatched_at": None,
             "accepted_at": None, "resolved_at": None, "closed_at": None, "response_due": None, "resolve_due": None,
             "warn_at": None, "deadline_state": "none", "response_overdue": False, "suspended_at": None,
             "resolution": "", "return_count": 0, "rework_count": 0, "updated_at": None}

    def __init__(self, w, oid: int, *, label: str, plan):
        self.w, self.oid, self.label, self.plan = w, oid, label, plan
        self.target_id = str(oid)  # the audit rows' target
        self.o = dict(self.ORDER)
        self.steps: list[dict] = []
        self.assignments: list[dict] = []
        self.cohandlers: list[int] = []
        self.routing: dict = {}

    def apply(self, built: dict) -> dict:
        """Take one step: the order's changes, the assignment rows, the timeline and audit rows."""
        t, a = built["transition"], built["audit"]
        data = t["data"]
        if a["data"] is data:  # `steps.step` gave both rows one fresh dict: mark it in place
            data["simulated"] = True
        else:
            t["data"] = a["data"] = data = {**data, **SIM}
        self.o.update(built["order"])
        if "assignment_changes" in built and self.assignments:
            self.assignments[-1].update(built["assignment_changes"])
        if "assignment" in built:
            self.assignments.append({"id": t["data"]["assignment_id"], "order_id": self.oid, **built["assignment"]})
        if "cohandlers" in built:
            self.cohandlers = built["cohandlers"]
        self.steps.append(t)  # its action, unit_id and data are what `insight.facts.fact_of` reads
        old, new = a["old"], a["new"]
        if self.w.binary:  # the step's JSON encoded once, here, for both rows (`Table.encoded`)
            data = jsonb(data)
            old = _state_jsonb(old["state"]) if old is not None and len(old) == 1 else jsonb(old)
            new = _state_version_jsonb(new["state"], new["version"]) if len(new) == 2 else jsonb(new)
        self.w.transitions.add(self.oid, t["action"], t["from_state"], t["to_state"], self.label, t["unit_id"],
                               t["at"], t["note"], data)
        self.w.audits.add(a["created_at"], self.label, a["action"], "dispatch.workorder", self.target_id, "",
                          old, new, data, a["reason"])
        return built

    def _next(self) -> dict:
        return {"from_state": self.o["state"], "version": self.o["version"] + 1}

    def create(self, at, *, channel: str, routing: dict, photos: int = 0) -> dict:
        self.routing = routing
        return self.apply(steps.created(at=at, channel=channel, routing=routing, photos=photos))

    def dispatch(self, at, unit_id: int, level: str, cohandler_ids=(), *, note: str = "", planned=None) -> dict:
        """`planned`: the (limits, their dict, plan) of a dispatch at `at` if already computed."""
        _limits, as_dict, plan = planned if planned is not None else self.plan(at)
        return self.apply(steps.dispatched(**self._next(), at=at, unit_id=unit_id, level=level, plan=plan,
                                           limits=as_dict, cohandler_ids=cohandler_ids,
                                           assignment_id=self.w.next_assignment(), note=note))

    def accept(self, at, note: str = "") -> dict:
        o = self.o
        return self.apply(steps.accepted(**self._next(), at=at, unit_id=o["lead_unit_id"],
                                         response_due=o["response_due"], response_overdue=o["response_overdue"],
                                         note=note))

    def ret(self, at, reason: str, legal_basis: str) -> dict:
        a = self.assignments[-1] if self.assignments else None
        return self.apply(steps.returned(**self._next(), at=at, unit_id=self.o["lead_unit_id"],
                                         assignment_id=a["id"] if a else None, reason=reason,
                                         legal_basis=legal_basis, return_count=self.o["return_count"]))

    def resolve(self, at, result: str, photos: int = 0) -> dict:
        o = self.o
        return self.apply(steps.resolved(**self._next(), at=at, unit_id=o["lead_unit_id"], result=result,
                                         warn_at=o["warn_at"], resolve_due=o["resolve_due"], photos=photos))

    def callback(self, at, *, reached: bool, solved: bool | None, satisfaction: str, note: str = "") -> dict:
        cid = self.w.next_callback()
        self.w.callbacks.add(cid, self.oid, at, reached, solved, satisfaction, note)
        return self.apply(steps.called_back(**self._next(), at=at, unit_id=self.o["lead_unit_id"], callback_id=cid,
                                            reached=reached, solved=solved, satisfaction=satisfaction,
                                            rework_count=self.o["rework_count"], note=note))

    def suspend(self, at, reason: str) -> dict:
        return self.apply(steps.suspended(**self._next(), at=at, unit_id=self.o["lead_unit_id"], reason=reason))

    def reject(self, at, reason: str) -> dict:
        return self.apply(steps.rejected(**self._next(), at=at, reason=reason))

    def finish(self) -> None:
        """Add the order's assignments and co-handlers, as they stand at the end."""
        w = self.w
        for a in self.assignments:
            w.assignments.add(*w.assignment_values(a))
        for c in self.cohandlers:
            w.cohandlers.add(self.oid, c)


class Writer:
    """The batch's rows per table, and the ids reserved for rows others point to. Without
    `history` no row is kept (the tables stay empty) and no assignment or callback id is reserved."""

    def __init__(self, batch: int, *, history: bool = True, binary: bool | None = None):
        self.batch = batch
        self.history = history
        # Binary COPY (PostgreSQL): the steps hand in their timeline and audit JSON encoded.
        self.binary = history and (connection.vendor == "postgresql" if binary is None else binary)
        self.orders = Table(WorkOrder, (
            "id", "code", "channel", "request_type_id", "subject_id", "title", "description", "urgency",
            "reporter_name", "reporter_phone", "lng", "lat", "address", "grid_id", "community_id", "district_code",
            "street_code", "area_code", "area_label", "state", "version", "proposed_unit_id", "routing",
            "lead_unit_id", "handling_level", "dispatched_at", "accepted_at", "resolved_at", "closed_at",
            "response_due", "resolve_due", "warn_at", "deadline_state", "response_overdue", "suspended_at",
            "resolution", "return_count", "rework_count", "created_at", "updated_at"), with_pk=True)
        self.assignments = Table(Assignment, (
            "id", "order_id", "unit_id", "cohandler_ids", "level", "binding", "override_reason", "dispatched_at",
            "response_due", "resolve_due", "warn_at", "limits", "accepted_at", "ended_at", "outcome",
            "return_reason", "return_basis"), with_pk=True)
        self.transitions = Table(Transition, ("order_id", "action", "from_state", "to_state", "actor_label", "unit_id",
                                              "at", "note", "data"), with_pk=False)
        self.audits = Table(AuditEntry, ("created_at", "actor_label", "action", "target_type", "target_id",
                                         "target_label", "old", "new", "data", "reason"), with_pk=False)
        self.callbacks = Table(Callback, ("id", "order_id", "at", "reached", "solved", "satisfaction", "note"),
                               with_pk=True)
        self.assignment_values = itemgetter(*self.assignments.given)  # an assignment dict's values, in order
        through = WorkOrder.cohandlers.through
        self.cohandlers = Table(through, ("workorder_id", "unit_id"), with_pk=False)
        self.transitions.encoded = self.audits.encoded = self.binary
        self._assignment_ids: list[int] = []
        self._callback_ids: list[int] = []
        if not history:
            for table in self.tables():
                table.add = _discard

    def next_assignment(self) -> int:
        if not self.history:
            return 0  # written nowhere
        if not self._assignment_ids:
            self._assignment_ids = reserve_ids(Assignment, self.batch)[::-1]
        return self._assignment_ids.pop()

    def next_callback(self) -> int:
        if not self.history:
            return 0
        if not self._callback_ids:
            self._callback_ids = reserve_ids(Callback, self.batch)[::-1]
        return self._callback_ids.pop()

    def tables(self) -> list[Table]:
        # Parents before children (the orders first: `_write` takes them as batch[0]).
        return [self.orders, self.assignments, self.cohandlers, self.callbacks, self.transitions, self.audits]

    def take(self) -> list[tuple[Table, list]]:
        return [(t, t.take()) for t in self.tables()]


def _discard(*values) -> None:
    pass


def _defer_row_checks() -> bool:
    """Inside a transaction on PostgreSQL: stop per-row trigger work (the deferred foreign-key checks
    and the code table's triggers) until commit, if this role may; False if it may not."""
    try:
        with transaction.atomic(), connection.cursor() as cur:  # a savepoint: a refusal leaves the batch intact
            cur.execute("SET LOCAL session_replication_role = replica")
        return True
    except DatabaseError:
        return False


class ForeignKeyViolation(RuntimeError):
    pass


class KnownKeys:
    """Foreign-key values (by target "table.column") that committed rows of this run point at."""

    def __init__(self):
        self.committed: dict[str, set] = {}
        self.pending: dict[str, set] = {}  # the batch being written

    def new(self, key: str, values: set) -> set:
        """Of a batch's `values` for `key`, those no committed batch pointed at; noted as pending."""
        values = values - self.committed.get(key, set())
        self.pending.setdefault(key, set()).update(values)
        return values

    def commit(self) -> None:
        for key, values in self.pending.items():
            self.committed.setdefault(key, set()).update(values)
        self.pending.clear()

    def rollback(self) -> None:
        self.pending.clear()


def _check_foreign_keys(batch: list[tuple[Table, list]], known: KnownKeys | None = None) -> int:
    """Check every foreign-key value of the batch against its target, set-wise (one query per key),
    instead of PostgreSQL's one trigger call per row; raises ForeignKeyViolation (the transaction
    then rolls back). Returns the number of distinct values looked up.

    `known`, kept by the caller across its batches, skips the values an earlier committed batch
    already points at: their rows cannot go while ours point at them (the foreign keys hold for the
    other sessions' deletes), so each unit, grid or subject is looked up once a run, not once a
    batch. The caller commits `known` after the batch's transaction commits (`_write`)."""
    checked = 0
    # Primary keys this batch writes itself (its orders, assignments, callbacks): a row of the
    # batch pointing at one needs no lookup — the transaction holds both or neither.
    written: dict[type, set] = {}
    for table, rows in batch:
        pk = table.model._meta.pk
        if rows and pk.column in table.columns:
            written[table.model] = set(map(itemgetter(table.columns.index(pk.column)), rows))
    with connection.cursor() as cur:
        for table, rows in batch:
            if not rows:
                continue
            fields = [f for f in table.model._meta.concrete_fields
                      if isinstance(f, models.ForeignKey) and f.db_constraint]
            for f in fields:
                if f.column not in table.columns:
                    continue  # left out of the COPY: NULL for every row
                i = table.columns.index(f.column)
                values = set(map(itemgetter(i), rows))  # at C speed: a batch has ~100,000 timeline rows
                values.discard(None)
                target = f.target_field
                if target.primary_key and target.model in written:
                    values -= written[target.model]
                if known is not None:
                    values = known.new(f"{target.model._meta.db_table}.{target.column}", values)
                values = sorted(values)
                if not values:
                    continue
                qn = connection.ops.quote_name
                cur.execute(f"SELECT v FROM unnest(%s) AS v WHERE NOT EXISTS (SELECT 1 FROM "
                            f"{qn(target.model._meta.db_table)} t WHERE t.{qn(target.column)} = v) LIMIT 5",
                            [values])
                missing = [r[0] for r in cur.fetchall()]
                if missing:
                    raise ForeignKeyViolation(f"{table.model._meta.db_table}.{f.column}: no {missing}")
                checked += len(values)
    return checked


def _codes_write(orders: list[list], table: Table) -> None:
    """What the code table's trigger would have done: one row per new order (its primary key keeps
    the tracking code unique across partitions — an index, enforced whatever the role)."""
    if not orders or not partitions.is_partitioned(connection):
        return
    i_id, i_code = table.columns.index("id"), table.columns.index("code")
    with connection.cursor() as cur, cur.cursor.copy(
            f"COPY {connection.ops.quote_name(partitions.CODES)} (code, order_id) FROM STDIN") as cp:
        for row in orders:
            cp.write_row((row[i_code], row[i_id]))


def _write(batch: list[tuple[Table, list]], facts: list, *, thread: bool, hook: Facts | None = None,
           known: KnownKeys | None = None) -> None:
    """One batch's rows and facts in one transaction (on the writer thread's own connection).

    On PostgreSQL, when the role may, the per-row trigger work is replaced by set-based work on the
    batch (half the simulation's time went to PostgreSQL's row-by-row foreign-key checks at commit):
    every foreign-key value is checked with one query per key before commit, and the code table is
    filled by COPY. The foreign keys stay declared and enforced for every other write.
    """
    try:
        with transaction.atomic():
            deferred = connection.vendor == "postgresql" and _defer_row_checks()
            memo: dict = {}
            for table, rows in batch:
                table.flush(rows, memo=memo)
            if deferred:
                orders_table, order_rows = batch[0]
                _codes_write(order_rows, orders_table)
                _check_foreign_keys(batch, known)
            if hook is not None:
                hook.write(facts)
        if known is not None:
            known.commit()
    finally:
        if known is not None:
            known.rollback()  # nothing of a batch that did not commit counts
        if thread:
            connection.close()


# Disk a simulated order takes with its timeline, audit, assignment, callback, fact and rollup rows
# and their indexes on PostgreSQL (measured: a Guangzhou year, 8.17 M orders, made a 54 GB database).
BYTES_PER_ORDER = 6_700
# With its facts and rollups only (`Options.history` False).
BYTES_PER_ORDER_FACTS = 1_500  # 60,000 orders: 1.5 KB each, rollups included


def disk_shortfall(orders: int, *, history: bool = True) -> tuple[int, int] | None:
    """(bytes needed, bytes free) when `orders` would not fit on the PostgreSQL server's disk, else
    None; also None when that cannot be told (another vendor, a remote server, no right to read
    `data_directory`). A year that fills the disk stops the server for everyone, not just the run."""
    if connection.vendor != "postgresql":
        return None
    host = connection.settings_dict.get("HOST") or ""
    if host not in ("", "localhost", "127.0.0.1", "::1") and not host.startswith("/"):
        return None
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT setting FROM pg_settings WHERE name = 'data_directory'")
            row = cur.fetchone()
        free = shutil.disk_usage(row[0]).free if row and row[0] else None
    except (DatabaseError, OSError):
        return None
    needed = orders * (BYTES_PER_ORDER if history else BYTES_PER_ORDER_FACTS)
    if free is None or needed < free * 0.9:  # keep a tenth for WAL, checkpoints and everybody else
        return None
    return needed, free


# -- secondary indexes built after the load --------------------------------------------------------

# The tables a year writes with its history; the facts and rollups are insight's.
HISTORY_TABLES = (WorkOrder, Assignment, Transition, AuditEntry, Callback, WorkOrder.cohandlers.through)
# Below this the indexes are cheaper kept row by row than rebuilt.
DEFER_INDEXES_FROM = 100_000
# For each CREATE INDEX of the rebuild (its sort; the session default is 64 MB).
INDEX_BUILD_MEMORY = "512MB"


def _history_small(limit: int) -> bool:
    """Whether the order table holds at most `limit` orders (read no further than that)."""
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM (SELECT 1 FROM {qn(WorkOrder._meta.db_table)} LIMIT %s) s", [limit + 1])
        return cur.fetchone()[0] <= limit


def _defer_wanted(opts: Options) -> bool:
    """Whether this year's load drops the secondary indexes first: on PostgreSQL, with the history,
    asked for — or, by default, a year of DEFER_INDEXES_FROM orders or more into a database holding
    at most a tenth of that (a new or demo database, not a city's history, whose readers would lose
    the indexes for the load's duration)."""
    if connection.vendor != "postgresql" or not opts.history or opts.defer_indexes is False:
        return False
    if opts.defer_indexes:
        return True
    return opts.orders >= DEFER_INDEXES_FROM and _history_small(opts.orders // 10)


def defer_indexes(also=()) -> list[str]:
    """Drop the secondary indexes of the history tables (and of the models `also`: a `Facts` hook's
    `deferrable`) — not primary keys, unique indexes or any index a constraint uses, nor partial
    ones — recording each definition (and comment) in
    `DeferredIndex` in the same transaction; returns their names. A partial index holds only the
    rows its condition takes (the few with an actor: D77), so keeping it costs the load a test per
    row, where building it afterwards costs a whole scan of its table (15 s for the timeline's on
    a Guangzhou year). PostgreSQL then writes each row into the heap and the
    primary key only; `rebuild_deferred_indexes` sorts each index once at the end. On the
    partitioned order table the parent's index is dropped with its partitions' and rebuilt on all."""
    tables = [m._meta.db_table for m in (*HISTORY_TABLES, *also)]
    qn = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("""SELECT ic.relname, pg_get_indexdef(i.indexrelid),
                              COALESCE(obj_description(i.indexrelid, 'pg_class'), '')
                       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                       WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary AND NOT i.indisunique
                         AND i.indpred IS NULL
                         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
                       ORDER BY ic.relname""", [tables])
        found = cur.fetchall()
        # A partitioned parent's definition says ON ONLY (its partitions' indexes attached later);
        # rebuilt without it, it is built on every partition at once.
        DeferredIndex.objects.bulk_create([
            DeferredIndex(name=name, definition=definition.replace(" ON ONLY ", " ON ", 1), comment=comment)
            for name, definition, comment in found])
        for name, _definition, _comment in found:
            cur.execute(f"DROP INDEX {qn(name)}")
    return [name for name, _d, _c in found]


def rebuild_deferred_indexes(progress=None) -> int:
    """Build every index `DeferredIndex` records (after a load, or left by one that stopped), one
    transaction each; returns how many. An index that exists already is only struck off."""
    if connection.vendor != "postgresql":
        return 0
    done = 0
    for d in DeferredIndex.objects.order_by("id"):
        _build_deferred(d)
        done += 1
        if progress:
            progress(d.name)
    return done


def _build_deferred(d: DeferredIndex) -> None:
    """Build one recorded index (unless it exists) and strike it off, in one transaction."""
    qn = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NULL", [qn(d.name)])
        if cur.fetchone()[0]:
            cur.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
            cur.execute(d.definition)
            if d.comment:
                cur.execute(f"COMMENT ON INDEX {qn(d.name)} IS %s", [d.comment])
        d.delete()


def _workers(opts: Options) -> int:
    if connection.vendor != "postgresql":
        return 1  # SQLite has one writer at a time
    if connection.in_atomic_block:
        return 1  # other processes could not see what this transaction has not committed
    n = opts.workers if opts.workers is not None else (os.cpu_count() or 1)
    return max(1, min(n, -(-opts.orders // opts.batch)))


def simulate_year(opts: Options, *, progress=None, facts: Facts | None = None) -> dict:
    """Write `opts.orders` simulated orders (and their facts, then `facts.finish()`); returns counts and timings.

    The schedule is cut into batches of `opts.batch` calls in time order. On PostgreSQL
    `opts.workers` processes (forked from this one, each with its own connection) take the
    batches in turn — process i the batches i, i + workers, … — so all of them write at the
    growing end of the year; in each, a writer thread COPYs one batch while the next is
    simulated. Ids come from the sequences, so nobody clashes. A failing process stops the
    others after their current batch; the batches already written stay (each is one transaction).
    A big year into a new or demo database drops the history's secondary indexes first and builds
    them once at the end, also when the load fails (`defer_indexes`; the rate counts that build).
    """
    started = time.perf_counter()
    rebuild_deferred_indexes()  # what a stopped load left unbuilt comes back first
    sim = Simulator(opts, facts=facts)
    sim.schedule(opts.orders)
    # Every month the year touches gets its partition before the first COPY (PostgreSQL).
    partitions.ensure(months=partitions.months_between(sim.start_day, sim.end))
    batches = -(-opts.orders // opts.batch)
    workers = _workers(opts)
    if workers > 1 and partitions.is_partitioned(connection):
        # Taken before the processes start, so the ids' running numbers follow the clock
        # whichever process writes a batch first.
        sim.order_numbers = reserve_order_numbers(opts.orders)
    written = 0

    def advanced(n: int) -> None:
        nonlocal written
        written += n
        if progress:
            progress(written, opts.orders)

    deferred = defer_indexes(getattr(facts, "deferrable", ())) if _defer_wanted(opts) else []
    loaded = False
    try:
        if workers == 1:
            done = _run_batches(sim, range(batches), progress=advanced)
        else:
            done = _run_processes(sim, batches, workers, progress=advanced)
        loaded = True
    finally:
        if deferred and not loaded:  # the batches written stay, with their indexes
            rebuild_deferred_indexes()
    load_s = time.perf_counter() - started
    index_s, aggregate_s = _after_load(bool(deferred), facts, overlap=workers > 1)
    simulated_s = load_s + index_s
    return {"orders": done, "seconds": round(simulated_s, 2), "orders_per_s": round(done / simulated_s, 1),
            "aggregate_seconds": round(aggregate_s, 2), "workers": workers, "indexes_deferred": len(deferred),
            "index_seconds": round(index_s, 2), "total_seconds": round(time.perf_counter() - started, 2)}


def _after_load(deferred: bool, facts: Facts | None, *, overlap: bool) -> tuple[float, float]:
    """Build the deferred indexes and finish the facts (the rollups); returns the seconds of each
    (from the start of this phase to the last index built, and the facts' own).

    With `overlap` (PostgreSQL, outside a transaction) two threads, each on a connection of its
    own, share the work: one finishes the facts while the other builds indexes, and whichever is
    free takes the next index. They touch different tables (the history's indexes, insight's
    rollups from its facts); one at a time, each left the cores partly idle while it wrote (D84)."""
    started = time.perf_counter()
    took = {}

    def finish() -> None:
        t0 = time.perf_counter()
        if facts is not None:
            facts.finish()
        took["facts"] = time.perf_counter() - t0

    if not (overlap and deferred and facts is not None and connection.vendor == "postgresql"
            and not connection.in_atomic_block):
        if deferred:
            rebuild_deferred_indexes()
        index_s = time.perf_counter() - started
        finish()
        return index_s, took["facts"]

    def on_own_connection(fn, *args) -> float:
        try:
            fn(*args)
            return time.perf_counter() - started
        finally:
            connection.close()  # this thread's

    def build_all(ds: list[DeferredIndex]) -> None:
        for d in ds:
            _build_deferred(d)

    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(on_own_connection, finish)]
        # A table at a time, the longest builds first (LONGEST_BUILDS_FIRST).
        builds = [pool.submit(on_own_connection, build_all, ds) for ds in _deferred_by_table()]
        ends = [f.result() for f in [*jobs, *builds]]  # the first error is raised, after the others finish
    return max(ends[1:], default=0.0), took["facts"]


# The tables whose deferred indexes take longest to build, longest first (a Guangzhou year, beside
# the rollups' 157 s: the audit's three 171 s, the orders' twelve 115 s, the timeline's two 51 s, the
# rest under 20 s). Handed out in this order, the thread that finishes the rollups takes the orders'
# while the other goes from the audit's to the rest, instead of one thread doing the audit's and
# then the orders' alone at the end (D85).
LONGEST_BUILDS_FIRST = ("core_auditentry", "dispatch_workorder", "dispatch_transition")


def _deferred_by_table() -> list[list[DeferredIndex]]:
    """The recorded indexes grouped by their table, each group in the order recorded, the groups
    of LONGEST_BUILDS_FIRST first. One table's are built one after another: two CREATE INDEX on one
    partitioned table at once may choose the same name for a partition's index (PostgreSQL names
    those itself) and one of them fails."""
    groups: dict[str, list[DeferredIndex]] = {}
    for d in DeferredIndex.objects.order_by("id"):
        table = re.search(r" ON (?:ONLY )?(\S+) ", d.definition)
        groups.setdefault(table.group(1) if table else d.name, []).append(d)
    first = {t: i for i, t in enumerate(LONGEST_BUILDS_FIRST)}
    order = sorted(groups, key=lambda t: first.get(t.removeprefix("public."), len(first)))  # a stable sort
    return [groups[t] for t in order]


def _batch_size(sim: Simulator, k: int) -> int:
    return min(sim.opts.batch, sim.opts.orders - k * sim.opts.batch)


GC_EVERY = 8


@contextlib.contextmanager
def _batch_gc():
    """No automatic cycle collection while simulating: the batches hold a few hundred thousand
    rows, and every generation-2 pass walked them all (a third of the simulation's time). The
    rows form no cycles, so reference counting frees them; `collect` is called every GC_EVERY
    batches (each process: its own) for the few cycles of cursors and the like — each call walks
    the live batch's rows, ~0.2 s — and whatever was on before is restored after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield gc.collect
    finally:
        if enabled:
            gc.enable()


def _run_batches(sim: Simulator, ks, *, progress=None, stop=None) -> int:
    """Simulate and write batches `ks` in this process; returns the orders written."""
    w = Writer(sim.opts.batch, history=sim.opts.history)
    pg = connection.vendor == "postgresql"
    pool = ThreadPoolExecutor(max_workers=1) if pg else None
    known = KnownKeys()  # one writer thread at a time uses it
    pending = None
    done = 0
    try:
        with _batch_gc() as collect:
            for taken, k in enumerate(ks, 1):
                if stop is not None and stop.is_set():
                    break
                n = _batch_size(sim, k)
                if pg:
                    batch_facts = sim.batch(n, w, k=k)
                    if pending is not None:
                        pending.result()
                    pending = pool.submit(_write, w.take(), batch_facts, thread=True, hook=sim.facts, known=known)
                else:
                    with transaction.atomic():
                        # SQLite hands out ids after the max: reserve them inside the write transaction.
                        w._assignment_ids, w._callback_ids = [], []
                        batch_facts = sim.batch(n, w, k=k)
                        _write(w.take(), batch_facts, thread=False, hook=sim.facts)
                del batch_facts
                if taken % GC_EVERY == 0:
                    collect(1)  # what survives moves to the old generation, which is never walked again
                done += n
                if progress:
                    progress(n)
            if pending is not None:
                pending.result()
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return done


# What a forked process inherits (set just before the fork, cleared after).
_shared: dict = {}


def _process_main(i: int) -> None:
    """One forked process: batches i, i + workers, … on a connection of its own; reports each
    batch written, or its error, on the shared queue."""
    sim, workers, batches = _shared["sim"], _shared["workers"], _shared["batches"]
    stop, q = _shared["stop"], _shared["queue"]
    # Connections inherited from the parent share its sockets: never use or close them here (closing
    # sends the server a goodbye that ends the parent's session), just let go of them; this process
    # opens its own. They stay referenced until os._exit, so no finaliser closes them either.
    inherited = []
    for conn in connections.all(initialized_only=True):
        inherited.append(conn)  # with its socket, if it has one, and its transaction state
        connections[conn.alias] = conn.__class__(conn.settings_dict, conn.alias)  # a fresh wrapper
    code = 0
    try:
        _run_batches(sim, range(i, batches, workers), progress=lambda n: q.put(("done", n)), stop=stop)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        stop.set()
        q.put(("error", f"{type(exc).__name__}: {exc}"))
        code = 1
    finally:
        connections.close_all()
        q.close()
        q.join_thread()
    os._exit(code)  # no atexit handlers or inherited finalizers of the parent's in the child


def _run_processes(sim: Simulator, batches: int, workers: int, *, progress=None) -> int:
    ctx = multiprocessing.get_context("fork")
    connections.close_all()  # each child opens its own; none may share the parent's socket
    q = ctx.Queue()
    _shared.update(sim=sim, workers=workers, batches=batches, stop=ctx.Event(), queue=q)
    procs = [ctx.Process(target=_process_main, args=(i,), name=f"simulate-{i}") for i in range(workers)]
    total, errors = 0, []
    try:
        for proc in procs:
            proc.start()
        while True:
            try:
                kind, value = q.get(timeout=0.5)
            except queue.Empty:
                if not any(proc.is_alive() for proc in procs):
                    break
                continue
            if kind == "done":
                total += value
                if progress:
                    progress(value)
            else:
                errors.append(value)
    finally:
        for proc in procs:
            proc.join()
        _shared.clear()
    if errors or any(proc.exitcode for proc in procs):
        raise RuntimeError(f"simulation stopped after {total} orders: " + "; ".join(
            errors or [f"a process exited with {proc.exitcode}" for proc in procs if proc.exitcode]))
    sim.count += total
    return total
