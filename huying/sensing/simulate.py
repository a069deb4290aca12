"""`huying sensing simulate`: publishes realistic sensor readings (and, with faults, bad ones) over MQTT.

Values follow the sensor's kind: temperature on a daily curve (coolest before dawn, warmest mid-afternoon,
cooler in rain), rainfall from one city-wide weather process (dry spells, showers, downpours), water level
rising with the rain that fell and draining afterwards, gas and smoke near zero with occasional spikes,
structural tilt drifting slowly, hazardous-chemical storage temperature following the day. A few sensors
stay silent (they never report: the silence rule's case). With `faults` about one message in fifty is
malformed (not JSON, wrong shape, a topic the bridge refuses, too large, NaN, a timestamp far in the
future) or a device-reported fault (`"status": "fault"`).

Readings carry real time (epoch milliseconds), strictly increasing per sensor, and are published with
QoS 1; the counts returned say how many the broker acknowledged.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from huying.sensing.bridge import MAX_PAYLOAD_BYTES, parse_broker_url

TOPIC = "huying/v1/sensors/{code}/readings"
KINDS = ["temperature", "water_level", "rainfall", "gas", "smoke", "hazchem", "tilt"]
FAULT_SHARE = 0.02
LOCAL = ZoneInfo("Asia/Shanghai")


class Weather:
    """One city-wide rain process (mm/h), advanced in real seconds: dry spells, showers, the odd downpour."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.rain = 0.0
        self.t = None

    def at(self, now: float) -> float:
        if self.t is None:
            self.t = now
            self.rain = 8.0 if self.rng.random() < 0.3 else 0.0
        while self.t < now:
            self.t += 1.0
            if self.rain <= 0.0:
                if self.rng.random() < 0.01:  # a shower starts about every 100 s of simulation
                    self.rain = self.rng.choice([2.0, 5.0, 12.0, 40.0])
            else:
                self.rain = max(0.0, self.rain * self.rng.uniform(0.95, 1.04) - 0.05)
                if self.rng.random() < 0.02:
                    self.rain = 0.0
        return self.rain


@dataclass
class SensorModel:
    code: str
    kind: str
    rng: random.Random
    weather: Weather
    base: float = 0.0
    state: float = 0.0
    spike: int = 0
    last_ms: int = 0
    last_t: float | None = None

    def value(self, now: float) -> float:
        rng, kind = self.rng, self.kind
        rain = self.weather.at(now)
        dt = 1.0 if self.last_t is None else max(0.0, now - self.last_t)
        self.last_t = now
        hour = datetime.fromtimestamp(now, LOCAL)
        hour = hour.hour + hour.minute / 60
        daily = math.sin(2 * math.pi * (hour - 9) / 24)  # lowest ~03:00, highest ~15:00
        if kind == "temperature":
            return round(self.base + 5.0 * daily - 0.08 * rain + rng.gauss(0, 0.3), 2)
        if kind == "hazchem":
            return round(self.base + 2.0 * daily + rng.gauss(0, 0.2), 2)
        if kind == "rainfall":
            return round(max(0.0, rain * rng.uniform(0.8, 1.2)), 1)
        if kind == "water_level":  # storage filled by rain, draining with a time constant of ~10 minutes
            self.state = self.state * math.exp(-dt / 600) + rain * dt / 3600 * 0.6
            return round(self.base + self.state + rng.gauss(0, 0.005), 3)
        if kind in ("gas", "smoke"):
            if self.spike:
                self.spike -= 1
                return round(self.state * rng.uniform(0.85, 1.15), 3)
            if rng.random() < (0.004 if kind == "gas" else 0.001):
                self.spike = rng.randint(3, 12)
                self.state = rng.uniform(20, 60) if kind == "gas" else rng.uniform(0.2, 1.5)
            return round(abs(rng.gauss(self.base, self.base * 0.2)), 3)
        if kind == "tilt":
            self.state += rng.gauss(0, 0.0005)
            return round(self.base + self.state, 4)
        self.state += rng.gauss(0, 0.1)
        return round(self.base + self.state, 3)

    def reading(self, now: float) -> dict:
        ms = max(int(now * 1000), self.last_ms + 1)  # (sensor, ts) is unique: never two readings in one ms
        self.last_ms = ms
        return {"ts": ms, "value": self.value(now)}


BASES = {"temperature": (24.0, 3.0), "hazchem": (18.0, 2.0), "water_level": (1.2, 0.4), "gas": (2.0, 0.5),
         "smoke": (0.02, 0.005), "tilt": (0.1, 0.05), "rainfall": (0.0, 0.0)}


def make_models(sensors: list[tuple[str, str]], rng: random.Random) -> list[SensorModel]:
    weather = Weather(rng)
    models = []
    for code, kind in sensors:
        mean, spread = BASES.get(kind, (10.0, 2.0))
        models.append(SensorModel(code, kind, random.Random(rng.random()), weather,
                                  base=round(rng.gauss(mean, spread) if spread else mean, 3)))
    return models


def generated_codes(count: int) -> list[tuple[str, str]]:
    return [(f"SIM-{KINDS[i % len(KINDS)].upper().replace('_', '')}-{i + 1:05d}", KINDS[i % len(KINDS)])
            for i in range(count)]


def sensors_from_db(limit: int | None) -> list[tuple[str, str]]:
    from huying.sensing.models import Sensor

    qs = Sensor.objects.exclude(state="retired").order_by("code").values_list("code", "kind")
    return list(qs[:limit] if limit else qs)


def malformed(rng: random.Random, code: str, now: float) -> tuple[str, str, bytes]:
    """(reason, topic, payload) of one bad message."""
    topic = TOPIC.format(code=code)
    reason = rng.choice(["not_json", "bad_shape", "bad_topic", "too_large", "nan", "future_ts", "device_fault",
                         "bad_value"])
    if reason == "not_json":
        return reason, topic, b"\x00\xffnot json{"
    if reason == "bad_shape":
        return reason, topic, json.dumps(rng.choice([[1, 2, 3], {"readings": "x"}, {"temp": 3}])).encode()
    if reason == "bad_topic":
        return reason, "huying/v1/sensors/no such sensor!/readings", b'{"ts": 0, "value": 1}'
    if reason == "too_large":
        return reason, topic, b'{"ts": 0, "value": 1, "pad": "' + b"x" * (MAX_PAYLOAD_BYTES + 10) + b'"}'
    if reason == "nan":
        return reason, topic, b'{"ts": %d, "value": NaN}' % int(now * 1000)
    if reason == "future_ts":
        return reason, topic, json.dumps({"ts": int(now * 1000) + 30 * 86400 * 1000, "value": 1.0}).encode()
    if reason == "bad_value":
        return reason, topic, json.dumps({"ts": int(now * 1000), "value": "high"}).encode()
    return reason, topic, json.dumps({"ts": int(now * 1000), "value": 0.0, "status": "fault"}).encode()


@dataclass
class Publisher:
    """A paho client publishing with QoS 1 and counting the broker's PUBACKs."""

    url: str
    client_id: str = ""
    max_inflight: int = 1000
    sent: int = 0
    acked: int = 0
    failed: int = 0
    acked_mids: set | None = None  # keep the acknowledged packet ids (tests)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        import paho.mqtt.client as mqtt

        address = parse_broker_url(self.url)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv311)
        if address.username:
            self.client.username_pw_set(address.username, address.password)
        if address.tls:
            self.client.tls_set()
        self.client.max_inflight_messages_set(self.max_inflight)
        self.client.max_queued_messages_set(0)
        self.client.on_publish = self._on_publish
        self.client.connect(address.host, address.port, keepalive=30)
        self.client.loop_start()

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        with self._lock:
            if reason_code.is_failure:
                self.failed += 1
            else:
                self.acked += 1
                if self.acked_mids is not None:
                    self.acked_mids.add(mid)

    def publish(self, topic: str, payload: bytes):
        with self._lock:
            self.sent += 1
        return self.client.publish(topic, payload, qos=1)

    def close(self, wait: float = 30.0) -> None:
        """Wait (at most `wait` seconds) for the broker's PUBACKs, then disconnect."""
        deadline = time.monotonic() + wait
        while self.acked + self.failed < self.sent and time.monotonic() < deadline:
            time.sleep(0.02)
        self.client.disconnect()
        self.client.loop_stop()


def simulate(*, sensors: list[tuple[str, str]], rate: float, seconds: float, faults: bool = False,
             silent_share: float = 0.03, per_message: int = 1, url: str | None = None, seed: int = 2026,
             progress: Callable[[str], None] | None = None, clock=time.time) -> dict:
    """Publish about `rate` readings a second for `seconds`, spread over the sensors; return the counts."""
    if not sensors:
        raise ValueError("no sensors")
    from django.conf import settings

    rng = random.Random(seed)
    models = make_models(sensors, rng)
    silent = set(rng.sample(range(len(models)), int(len(models) * silent_share))) if silent_share > 0 else set()
    live = [m for i, m in enumerate(models) if i not in silent]
    if not live:
        raise ValueError("every sensor is silent")
    pub = Publisher(url or settings.HUYING_MQTT_URL)
    counts = Counter()
    bad = Counter()
    started = clock()
    last_note = time.monotonic()
    turn = 0
    sent_readings = 0
    try:
        while True:
            now = clock()
            elapsed = now - started
            if elapsed >= seconds:
                break
            due = int(min(elapsed + 0.05, seconds) * rate) - sent_readings
            while due > 0:
                model = live[turn % len(live)]
                turn += 1
                if faults and rng.random() < FAULT_SHARE:
                    reason, topic, payload = malformed(rng, model.code, now)
                    bad[reason] += 1
                    pub.publish(topic, payload)
                    counts["messages"] += 1
                    continue
                k = min(per_message, due)
                readings = [model.reading(now) for _ in range(k)]
                payload = readings[0] if k == 1 else {"readings": readings}
                pub.publish(TOPIC.format(code=model.code), json.dumps(payload, separators=(",", ":")).encode())
                counts["messages"] += 1
                counts["readings"] += k
                counts[model.kind] += k
                sent_readings += k
                due -= k
            if progress and time.monotonic() - last_note >= 5:
                last_note = time.monotonic()
                progress(f"simulate: {elapsed:.0f}s of {seconds:g}s, published={counts['messages']} "
                         f"acked={pub.acked}")
            time.sleep(0.05)
    finally:
        pub.close(wait=30.0)
    took = clock() - started
    return {"sensors": len(models), "silent": len(silent), "messages": counts["messages"],
            "readings": counts["readings"], "acked": pub.acked, "refused": pub.failed,
            "malformed": dict(sorted(bad.items())),
            "by_kind": {k: counts[k] for k in sorted({m.kind for m in live}) if counts[k]},
            "seconds": round(took, 2), "readings_per_s": round(counts["readings"] / took, 1) if took else 0.0}
