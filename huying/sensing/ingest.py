"""Ingest (接收读数): a batch of readings from the MQTT bridge, validated, stored once, evaluated.

`ingest(items)` takes `(sensor_code, reading)` pairs, one reading each (the bridge splits batches;
docs in /work/notes/sensing.md). Bad readings are counted by reason and never raise; the good ones
are stored in one transaction with INSERT … ON CONFLICT DO NOTHING RETURNING, so a QoS-1 redelivery of a
stored reading is counted as a duplicate and not evaluated again, and the sensors' `last_seen` moves
forward in the same transaction. After the commit the alert rules run over the new readings (services.evaluate).

On PostgreSQL both statements take arrays (unnest): one INSERT for the batch, one UPDATE of last_seen, no
per-row formatting or timestamp decoding. Elsewhere (SQLite) a portable path does the same per 2,000 rows and
per sensor. Sensors are looked up fresh every batch (code → id, state, kind; no cache, so a sensor retired or
a rule set up a moment ago counts from the next batch); full Sensor rows are loaded only for the sensors of a
kind some active rule watches.
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import CODE_RE, AlertRule, Reading, Sensor, SensorState

log = logging.getLogger("huying.sensing")
_CODE = re.compile(CODE_RE.replace("$", r"\Z"))

FUTURE_SKEW = timedelta(minutes=5)  # device clocks run a little fast; more than this is refused
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
CHUNK = 2000  # rows per INSERT (3 parameters each: well under SQLite's and PostgreSQL's limits)


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    alerts: int = 0
    rule_errors: int = 0  # rules that failed on this batch (logged; the readings are stored)

    def reject(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1


def parse_ts(raw) -> datetime | None:
    """An ISO-8601 time with an offset, or epoch milliseconds; None if neither."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        if not math.isfinite(raw):
            return None
        try:
            return datetime.fromtimestamp(raw / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(raw, str) and len(raw) <= 40:
        try:
            ts = parse_datetime(raw.strip())
        except ValueError:
            return None
        if ts is None or ts.tzinfo is None:
            return None  # a time without an offset is ambiguous
        return ts.astimezone(UTC)
    return None


def parse_value(raw) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return None
    try:
        value = float(raw)
    except (OverflowError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _check(item, now) -> tuple[str, datetime, float] | str:
    """(code, ts, value) of a good reading, else the reason it is refused."""
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        return "bad_payload"
    code, reading = item
    if not isinstance(code, str) or not _CODE.match(code):
        return "unknown_sensor"  # not even a possible code (a NUL would not reach PostgreSQL's text)
    if not isinstance(reading, dict):
        return "bad_payload"
    status = reading.get("status", "ok")
    if status == "fault":
        return "fault"
    if status != "ok":
        return "bad_payload"
    ts = parse_ts(reading.get("ts"))
    if ts is None or ts < EARLIEST:
        return "bad_ts"
    if ts > now + FUTURE_SKEW:
        return "future_ts"
    value = parse_value(reading.get("value"))
    if value is None:
        return "bad_value"
    return code, ts, value


def _aware(ts) -> datetime:
    """A returned timestamp as an aware datetime (SQLite may answer with text, or a naive UTC value)."""
    if isinstance(ts, str):
        ts = parse_datetime(ts)
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def _lookup(codes: set[str]) -> dict[str, tuple[int, str, str]]:
    """code → (id, state, kind) of the known sensors among `codes` (fresh from the database every batch)."""
    if connection.vendor == "postgresql":  # one array parameter: no 500-placeholder query to build and parse
        with connection.cursor() as cur:
            cols = ", ".join(_q(Sensor._meta.get_field(f).column) for f in ("code", "id", "state", "kind"))
            cur.execute(f"SELECT {cols} FROM {_q(Sensor._meta.db_table)} "  # noqa: S608 (no user text)
                        f"WHERE {_q(Sensor._meta.get_field('code').column)} = ANY(%s::text[])", [list(codes)])
            return {code: (sid, state, kind) for code, sid, state, kind in cur.fetchall()}
    return {code: (sid, state, kind) for code, sid, state, kind in
            Sensor.objects.filter(code__in=list(codes)).values_list("code", "id", "state", "kind")}


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _store_pg(rows: dict[tuple[int, datetime], float]) -> dict[int, list]:
    """PostgreSQL: one INSERT … SELECT FROM unnest(arrays) … ON CONFLICT DO NOTHING RETURNING, then one UPDATE of
    the sensors' last_seen/last_value from their latest stored reading. Times travel as epoch microseconds (exact
    integers both ways: nothing to format or decode per row). Returns the stored readings by sensor, unsorted
    ({sensor id: [(ts, value)]})."""
    sids, uss, values, back = [], [], [], {}
    for (sid, ts), value in rows.items():
        us = (ts - EPOCH) // ONE_US
        sids.append(sid)
        uss.append(us)
        values.append(value)
        back[(sid, us)] = (ts, value)
    reading, sensor = Reading._meta, Sensor._meta
    r_sensor, r_ts, r_value = (_q(reading.get_field(f).column) for f in ("sensor", "ts", "value"))
    s_id, s_seen, s_value = (_q(sensor.get_field(f).column) for f in ("id", "last_seen", "last_value"))
    new: dict[int, list] = defaultdict(list)
    latest: dict[int, int] = {}
    with connection.cursor() as cur:
        cur.execute(  # noqa: S608 (names from the models, no user text)
            f"INSERT INTO {_q(reading.db_table)} ({r_sensor}, {r_ts}, {r_value}) "
            f"SELECT v.sid, {_FROM_US.format('v.us')}, v.value "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::float8[]) AS v(sid, us, value) "
            f"ON CONFLICT ({r_sensor}, {r_ts}) DO NOTHING "
            f"RETURNING {r_sensor}, (extract(epoch FROM {r_ts}) * 1000000)::bigint", [sids, uss, values])
        for sid, us in cur.fetchall():
            new[sid].append(back[(sid, us)])
            if us > latest.get(sid, -1 << 62):
                latest[sid] = us
        if latest:
            ids = list(latest)
            cur.execute(  # noqa: S608
                f"UPDATE {_q(sensor.db_table)} AS s SET {s_seen} = {_FROM_US.format('v.us')}, {s_value} = v.value "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::float8[]) AS v(id, us, value) "
                f"WHERE s.{s_id} = v.id AND (s.{s_seen} IS NULL OR s.{s_seen} < {_FROM_US.format('v.us')})",
                [ids, [latest[i] for i in ids], [back[(i, latest[i])][1] for i in ids]])
    return new


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
_FROM_US = "(timestamptz 'epoch' + {} * interval '1 microsecond')"  # bigint × interval: exact to the microsecond


def _store_portable(rows: dict[tuple[int, datetime], float]) -> dict[int, list]:
    """Any database (SQLite): INSERT … VALUES … ON CONFLICT DO NOTHING RETURNING per CHUNK rows, then each touched
    sensor's last_seen/last_value moved forward by one conditional UPDATE. Same results as _store_pg."""
    table = _q(Reading._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    by_key = {(sid, adapt(ts)): (sid, ts, value) for (sid, ts), value in rows.items()}
    keys = list(by_key)
    new: dict[int, list] = defaultdict(list)
    with connection.cursor() as cur:
        for i in range(0, len(keys), CHUNK):
            chunk = keys[i:i + CHUNK]
            params = []
            for key in chunk:
                sid, ts, value = by_key[key]
                params += [sid, key[1], value]
            values = ",".join(["(%s, %s, %s)"] * len(chunk))
            cur.execute(f"INSERT INTO {table} (sensor_id, ts, value) VALUES {values} "  # noqa: S608 (no user text)
                        "ON CONFLICT (sensor_id, ts) DO NOTHING RETURNING sensor_id, ts", params)
            for sid, ts in cur.fetchall():
                _sid, ts, value = by_key[(sid, adapt(_aware(ts)))]
                new[sid].append((ts, value))
    latest = {sid: max(readings) for sid, readings in new.items()}
    for sid, (ts, value) in latest.items():
        Sensor.objects.filter(Q(last_seen__isnull=True) | Q(last_seen__lt=ts), pk=sid).update(last_seen=ts,
                                                                                            last_value=value)
    return new


def ingest(items, *, now=None) -> IngestResult:
    """Validate, store and evaluate a batch of readings; see the module docstring. Never raises for bad data."""
    from .services import evaluate

    now = now or timezone.now()
    result = IngestResult()
    good: list[tuple[str, datetime, float]] = []
    for item in items:
        checked = _check(item, now)
        if isinstance(checked, str):
            result.reject(checked)
        else:
            good.append(checked)
    if not good:
        return result
    known = _lookup({c for c, _t, _v in good})
    rows: dict[tuple[int, datetime], float] = {}  # (sensor id, ts in UTC) → value; aware datetimes hash by instant
    for code, ts, value in good:
        sensor = known.get(code)
        if sensor is None:
            result.reject("unknown_sensor")
        elif sensor[1] == SensorState.RETIRED:
            result.reject("retired")
        else:
            key = (sensor[0], ts)
            if key in rows:
                result.duplicates += 1  # the same reading twice in one batch
            else:
                rows[key] = value
    if not rows:
        return result
    with transaction.atomic():
        new = (_store_pg if connection.vendor == "postgresql" else _store_portable)(rows)
        result.stored = sum(len(v) for v in new.values())
        result.duplicates += len(rows) - result.stored
    if new:
        # Only sensors in service of a kind some active rule watches can raise anything: load those rows alone
        # (after the commit, so their state is current); evaluate() skips every other sensor anyway.
        kinds = set(AlertRule.objects.filter(active=True).values_list("sensor_kind", flat=True).distinct())
        kind_of = {sid: kind for sid, _state, kind in known.values()}
        ids = [sid for sid in new if kind_of.get(sid) in kinds]
        if ids:
            by_id = {s.pk: s for s in Sensor.objects.filter(pk__in=ids).select_related("owner_unit", "building")}
            for readings in new.values():
                readings.sort()
            result.alerts, result.rule_errors = evaluate(dict(new), by_id, now=now)
    return result
