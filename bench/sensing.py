"""Benchmark: sensor readings through the real broker and the bridge into the database.

    .venv/bin/python bench/sensing.py [--readings 100000] [--publishers 2] [--per-message 50] [--sensors 500]
                                      [--database URL] [--broker mqtt://127.0.0.1:1883] [--use-running-bridge]

Publishers (`--publishers` processes, paho clients) send `--readings` readings with QoS 1 as fast as the
broker acknowledges them (up to 1,000 unacknowledged each), `--per-message` readings per message (a
gateway's batch, `{"readings": [...]}`; 1 = one reading per message) to `huying/v1/sensors/<code>/readings`
for `--sensors` sensors. The bridge (`huying sensing bridge`, started here as a subprocess with its own
client id unless `--use-running-bridge`) stores them through the real ingest. The clock runs from the
first publish until every reading is a row in the database; `readings_per_s` is stored rows / that time.
The run also prints the bridge's CPU seconds per thread (paho's network thread: reading and parsing
messages; the main thread: ingest and acks), the publishers' and the broker's CPU, and the bridge's counts.

The database (default PostgreSQL `huying_bench_sensing`, created and migrated if absent; any DATABASE_URL
works, e.g. sqlite:///var/bench-sensing.sqlite3) gets one owner unit and the sensors `BENCH-00001…`;
readings of earlier runs are deleted first. No alert rules are set, so the figure is storage plus the
(empty) rule pass; the time per batch is in the bridge's own lines.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from _db import ensure_pg_database  # bench/ is the script's folder, first on sys.path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huying.settings")

PG_URL = "postgres://postgres@127.0.0.1:5432/huying_bench_sensing"
TICKS = os.sysconf("SC_CLK_TCK")
PREFIX = "BENCH-"
BRIDGE_ID = "huying-bench-bridge"


def prepare(sensors: int) -> list[str]:
    """Migrate, make the bench sensors, drop earlier readings; the sensor codes."""
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from huying.people.models import Unit
    from huying.sensing.models import Reading, Sensor

    call_command("migrate", verbosity=0)
    unit, _ = Unit.objects.get_or_create(code="bench-sensing", defaults={"name": "感知压测单位", "kind": "department"})
    codes = [f"{PREFIX}{i + 1:05d}" for i in range(sensors)]
    have = set(Sensor.objects.filter(code__in=codes).values_list("code", flat=True))
    now = timezone.now()
    kinds = ["water_level", "temperature", "gas", "smoke", "rainfall"]
    Sensor.objects.bulk_create([
        Sensor(code=c, name=f"压测设备{c[-5:]}", kind=kinds[i % len(kinds)], owner_unit=unit, lng=113.26 + i * 1e-5,
               lat=23.13, created_at=now, updated_at=now)
        for i, c in enumerate(codes) if c not in have], batch_size=1000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"TRUNCATE {Reading._meta.db_table}")
    else:
        Reading.objects.all().delete()
    return codes


def stored_rows(since_ms: int) -> int:
    from datetime import UTC, datetime

    from huying.sensing.models import Reading

    return Reading.objects.filter(ts__gte=datetime.fromtimestamp(since_ms / 1000, UTC)).count()


def publisher(idx: int, url: str, codes: list[str], messages: list[tuple[int, int]], per_message: int,
              base_ms: int, start, done) -> None:
    """Publish (sensor index, first reading number) messages; report (acked, cpu seconds) on `done`."""
    from huying.sensing.simulate import Publisher

    pub = Publisher(url, client_id=f"huying-bench-pub-{os.getpid()}", max_inflight=1000)
    payloads = []
    for s, n in messages:
        readings = [{"ts": base_ms + n + k, "value": round(1.0 + ((n + k) % 97) / 10, 2)} for k in range(per_message)]
        body = readings[0] if per_message == 1 else {"readings": readings}
        payloads.append((f"huying/v1/sensors/{codes[s]}/readings", json.dumps(body, separators=(",", ":")).encode()))
    start.wait()
    for topic, payload in payloads:
        pub.publish(topic, payload)
    pub.close(wait=600)
    cpu = time.process_time()
    done.put((pub.acked, pub.sent, cpu))


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of each thread of a process, by thread name."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
            name = (task / "comm").read_text().strip()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        out[f"{name}[{task.name}]"] = (int(fields[11]) + int(fields[12])) / TICKS
    return out


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def pids_named(name: str) -> list[int]:
    try:
        return [int(x) for x in subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout.split()]
    except OSError:
        return []


def total_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += proc_cpu(pid)
        except OSError:
            pass
    return total


def broker_pid(url: str) -> int | None:
    """The broker's process, if it runs here: the oldest mosquitto (the system's), or the only one."""
    try:
        out = subprocess.run(["pgrep", "-xo", "mosquitto"], capture_output=True, text=True).stdout.split()
    except OSError:
        return None
    return int(out[0]) if out else None


def end_session(url: str, client_id: str) -> None:
    """Drop the bench bridge's persistent session, so the broker stops queueing sensor messages for it."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    from huying.sensing.bridge import parse_broker_url

    address = parse_broker_url(url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    if address.username:
        client.username_pw_set(address.username, address.password)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0
    try:
        client.connect(address.host, address.port, clean_start=True, properties=props)
        client.loop_start()
        time.sleep(0.3)
        client.disconnect()
        client.loop_stop()
    except OSError as exc:
        print(f"could not drop the bench session: {exc}", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--readings", type=int, default=100_000)
    ap.add_argument("--publishers", type=int, default=2)
    ap.add_argument("--per-message", type=int, default=50)
    ap.add_argument("--sensors", type=int, default=500)
    ap.add_argument("--database", default=PG_URL)
    ap.add_argument("--broker", default=os.environ.get("HUYING_MQTT_URL", "mqtt://127.0.0.1:1883"))
    ap.add_argument("--use-running-bridge", action="store_true", help="a bridge is already running on this database")
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--no-forecast", action="store_true", help="skip the forecast_mase part")
    ap.add_argument("--forecast-dir", default="/tmp/huying-bench-forecast",
                    help="SQLite var dir of the forecast part's simulated year (kept between runs)")
    args = ap.parse_args()
    if not 1 <= args.per_message <= 1000:
        ap.error("--per-message: 1–1000")

    os.environ["DATABASE_URL"] = args.database
    os.environ["HUYING_MQTT_URL"] = args.broker
    if args.database.startswith("postgres"):
        ensure_pg_database(args.database)
    import django

    django.setup()
    codes = prepare(args.sensors)
    from django.db import connection

    connection.close()

    per_sensor = -(-args.readings // args.sensors)
    base_ms = int(time.time() * 1000) - per_sensor - 60_000  # in the past, distinct per (sensor, reading)
    messages = [(s, n) for n in range(0, per_sensor, args.per_message) for s in range(args.sensors)]
    total = len(messages) * args.per_message
    print(f"sensing bench: {total} readings in {len(messages)} messages ({args.per_message} each) for "
          f"{args.sensors} sensors, {args.publishers} publishers, {args.broker}, database {connection.vendor}",
          flush=True)

    bridge = None
    lines: list[str] = []
    if not args.use_running_bridge:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        bridge = subprocess.Popen([sys.executable, "-m", "huying.cli", "sensing", "bridge", "--stats-every", "5",
                                   "--client-id", BRIDGE_ID], env=env, cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        connected = threading.Event()

        def read():
            for line in bridge.stdout:
                lines.append(line.rstrip())
                if "connected to" in line:
                    connected.set()

        threading.Thread(target=read, daemon=True).start()
        if not connected.wait(30):
            bridge.kill()
            sys.exit("the bridge did not connect:\n" + "\n".join(lines))
        time.sleep(1.0)  # its SUBSCRIBE answered

    ctx = mp.get_context("fork")
    start, done = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=publisher, args=(i, args.broker, codes, messages[i::args.publishers],
                                                 args.per_message, base_ms, start, done))
             for i in range(args.publishers)]
    for p in procs:
        p.start()
    time.sleep(1.0)  # payloads built
    bpid = broker_pid(args.broker)
    pg = pids_named("postgres") if connection.vendor == "postgresql" else []
    cpu0 = {"bridge": proc_cpu(bridge.pid) if bridge else 0.0, "broker": proc_cpu(bpid) if bpid else 0.0,
            "postgres": total_cpu(pg)}
    t0 = time.monotonic()
    start.set()
    published_at = None
    results = []
    n = 0
    while True:
        time.sleep(0.25)
        while not done.empty():
            results.append(done.get())
        if published_at is None and len(results) == len(procs):
            published_at = time.monotonic() - t0
        n = stored_rows(base_ms)
        if n >= total or time.monotonic() - t0 > args.timeout:
            break
    wall = time.monotonic() - t0
    connection.close()
    for p in procs:
        p.join(30)
    while not done.empty():
        results.append(done.get())
    cpu = {}
    if bridge:
        cpu["bridge_threads"] = thread_cpu(bridge.pid)
        cpu["bridge"] = round(proc_cpu(bridge.pid) - cpu0["bridge"], 2)
    if bpid:
        cpu["broker"] = round(proc_cpu(bpid) - cpu0["broker"], 2)
    cpu["publishers"] = round(sum(r[2] for r in results), 2)
    if connection.vendor == "postgresql":  # every PostgreSQL process, other sessions' too; new backends wholly
        cpu["postgres"] = round(total_cpu(pids_named("postgres")) - cpu0["postgres"], 2)
    if bridge:
        bridge.send_signal(signal.SIGTERM)
        try:
            bridge.wait(30)
        except subprocess.TimeoutExpired:
            bridge.kill()
        time.sleep(0.2)
        end_session(args.broker, BRIDGE_ID)
        stats = [line for line in lines if line.startswith("sensing bridge: messages=")]
        if stats:
            print(stats[-1])
    acked = sum(r[0] for r in results)
    print(json.dumps({"readings": total, "acked_by_broker": acked, "stored": n,
                      "publish_seconds": round(published_at, 2) if published_at else None,
                      "wall_seconds": round(wall, 2), "cpu_seconds": cpu}, ensure_ascii=False))
    if n < total:
        print(f"only {n} of {total} readings stored within {args.timeout:g}s", file=sys.stderr)
    print(f"readings_per_s: {n / wall:.0f}")
    if not args.no_forecast:
        print(f"forecast_mase: {forecast_mase(args.forecast_dir)}")
    sys.exit(0 if n >= total else 1)


FORECAST_CHILD = """
import django, json
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from huying.insight.forecast import bench_forecast
print(json.dumps(bench_forecast()))
"""


def forecast_mase(var_dir: str) -> float:
    """The forecast's MASE against the naive seasonal forecast on 4 held-back weeks of a simulated year
    (huying.insight.forecast.bench_forecast), in a child process on its own SQLite database under
    `var_dir`, so the readings' database gets no orders; the year is simulated once and kept there."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(HUYING_VAR_DIR=var_dir, DJANGO_SETTINGS_MODULE="huying.settings")
    Path(var_dir).mkdir(parents=True, exist_ok=True)
    out = subprocess.run([sys.executable, "-c", FORECAST_CHILD], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    print(json.dumps({k: v for k, v in result.items() if not isinstance(v, (dict, list))}, ensure_ascii=False))
    return result["forecast_mase"]


if __name__ == "__main__":
    main()
