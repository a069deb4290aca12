"""`huying sensing bridge`: the MQTT subscriber that feeds sensor readings to `ingest` (docs/sensing.md).

Topic `huying/v1/sensors/<sensor_code>/readings`, QoS 1, UTF-8 JSON: one reading
`{"ts": ..., "value": ..., "seq": ...}` or a batch `{"readings": [...]}` (≤ 1,000).

Delivery: the bridge holds a persistent session (MQTT 5, clean start off, a session expiry, the fixed
client id `HUYING_MQTT_CLIENT_ID`), so the broker keeps what arrives while it is down. It acknowledges
a message (paho's manual ack: PUBACK) only after `ingest` committed the batch holding it; a crash
before that leaves the message unacknowledged and the broker delivers it again (ingest ignores a
reading it already stored). A message that cannot be read (bad topic, too large, not UTF-8 JSON,
wrong shape) is counted by reason, logged without its body and acknowledged, so it is not delivered
forever. Messages are taken in batches of at most `BATCH_MESSAGES` messages / `BATCH_READINGS`
readings or `BATCH_SECONDS` after the first one.

Threads: paho's network thread parses each message and queues it; the bridge's own thread (the
caller of `run`) takes batches, calls ingest and sends the acks. A PUBACK is sent only on the
connection the message came in on: after a reconnect the broker delivers the unacknowledged ones
again with the same packet ids, and an old id must not acknowledge a new message.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

log = logging.getLogger("huying.sensing.bridge")

TOPIC_FILTER = "huying/v1/sensors/+/readings"
TOPIC_RE = re.compile(r"huying/v1/sensors/([A-Za-z0-9_-]{1,40})/readings\Z")
MAX_PAYLOAD_BYTES = 256 * 1024  # a 1,000-reading batch is ~60 KB
MAX_BATCH_READINGS = 1000  # readings in one message (the contract)
BATCH_MESSAGES = 2000
BATCH_READINGS = 5000  # readings per ingest call
BATCH_SECONDS = 0.2
SESSION_EXPIRY_SECONDS = 7 * 24 * 3600  # how long the broker keeps the session while the bridge is away
RECEIVE_MAXIMUM = 65535  # unacknowledged messages the broker may send ahead (MQTT 5; mosquitto's default is 20)


class BadMessage(ValueError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _no_constant(name):  # NaN / Infinity are not JSON
    raise BadMessage("not_json")


def parse_message(topic: str, payload: bytes) -> list[tuple[str, dict]]:
    """(sensor_code, reading) pairs of one message, or BadMessage(reason). Readings' fields are ingest's
    to check (unknown sensor, bad ts, value); the bridge checks the envelope only."""
    match = TOPIC_RE.match(topic) if isinstance(topic, str) else None
    if match is None:
        raise BadMessage("bad_topic")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise BadMessage("too_large")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise BadMessage("not_utf8") from None
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise BadMessage("not_json") from None
    if not isinstance(data, dict):
        raise BadMessage("bad_shape")
    if "readings" in data:
        readings = data["readings"]
        if not isinstance(readings, list) or not readings or len(data) != 1:
            raise BadMessage("bad_shape")
        if len(readings) > MAX_BATCH_READINGS:
            raise BadMessage("too_many_readings")
    else:
        readings = [data]
    code = match.group(1)
    items = []
    for reading in readings:
        if not isinstance(reading, dict) or "value" not in reading or "ts" not in reading:
            raise BadMessage("bad_shape")
        items.append((code, reading))
    return items


@dataclass
class BrokerAddress:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    def __str__(self):  # never the password
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_broker_url(url: str) -> BrokerAddress:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise ValueError(f"HUYING_MQTT_URL: expected mqtt://host[:port], got scheme {parts.scheme!r}")
    tls = parts.scheme in ("mqtts", "ssl")
    return BrokerAddress(host=parts.hostname, port=parts.port or (8883 if tls else 1883), tls=tls,
                         username=unquote(parts.username) if parts.username else None,
                         password=unquote(parts.password) if parts.password else None)


@dataclass
class Stats:
    messages: int = 0
    readings: int = 0
    stored: int = 0
    duplicates: int = 0
    alerts: int = 0
    batches: int = 0
    ingest_errors: int = 0
    connects: int = 0
    rejected: Counter = field(default_factory=Counter)  # bridge reasons count messages, ingest's count readings

    def as_dict(self) -> dict:
        return {"messages": self.messages, "readings": self.readings, "stored": self.stored,
                "duplicates": self.duplicates, "rejected": dict(sorted(self.rejected.items())),
                "alerts": self.alerts, "batches": self.batches, "ingest_errors": self.ingest_errors,
                "connects": self.connects}

    def line(self) -> str:
        rejected = ",".join(f"{k}={v}" for k, v in sorted(self.rejected.items())) or "0"
        return (f"sensing bridge: messages={self.messages} stored={self.stored} duplicates={self.duplicates} "
                f"rejected[{rejected}] alerts={self.alerts} batches={self.batches} "
                f"ingest_errors={self.ingest_errors} connects={self.connects}")


@dataclass
class _Message:
    generation: int
    mid: int
    qos: int
    items: list


def _default_ingest(items):
    from huying.sensing.ingest import ingest

    return ingest(items)


class Bridge:
    """One subscriber. `run(stop)` blocks until `stop` is set (or `request_stop()`), then finishes the batch
    it holds, sends its acks and disconnects."""

    def __init__(self, url: str | None = None, client_id: str | None = None, *,
                 ingest: Callable | None = None, stats_every: float = 10.0, out=None,
                 batch_messages: int = BATCH_MESSAGES, batch_readings: int = BATCH_READINGS,
                 batch_seconds: float = BATCH_SECONDS, reconnect_min: float = 1.0, reconnect_max: float = 30.0):
        from django.conf import settings

        self.address = parse_broker_url(url or settings.HUYING_MQTT_URL)
        self.client_id = client_id or settings.HUYING_MQTT_CLIENT_ID
        self.ingest = ingest or _default_ingest
        self.stats_every = stats_every
        self.out = out
        self.batch_messages = batch_messages
        self.batch_readings = batch_readings
        self.batch_seconds = batch_seconds
        self.reconnect = (reconnect_min, reconnect_max)
        self.stats = Stats()
        self.stop_event = threading.Event()
        self.subscribed = threading.Event()  # set once a SUBACK came on the current connection
        self._queue: queue.SimpleQueue[_Message] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._generation = 0
        self._connected = False
        self._unlogged: Counter = Counter()  # rejections not yet in a log line
        self.client = self._make_client()

    # -- paho side (network thread) --------------------------------------------------------------
    def _make_client(self):
        import paho.mqtt.client as mqtt

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5,
                             manual_ack=True)
        if self.address.username:
            client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            client.tls_set()
        client.reconnect_delay_set(min_delay=max(1, int(self.reconnect[0])), max_delay=int(self.reconnect[1]))
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _connect_properties(self):
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_SECONDS
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        return props

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("sensing bridge: broker %s refused the connection: %s", self.address, reason_code)
            return
        with self._lock:
            self._generation += 1
            self._connected = True
        self.stats.connects += 1
        log.warning("sensing bridge: connected to %s (session present: %s)", self.address, flags.session_present)
        client.subscribe(TOPIC_FILTER, qos=1)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        if any(rc.is_failure for rc in reason_codes):
            log.error("sensing bridge: subscription to %s refused: %s", TOPIC_FILTER, reason_codes)
            return
        self.subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        with self._lock:
            self._connected = False
        self.subscribed.clear()
        if not self.stop_event.is_set():
            log.warning("sensing bridge: disconnected from %s (%s); reconnecting", self.address, reason_code)

    def _on_message(self, client, userdata, message):
        with self._lock:
            generation = self._generation
        try:
            items = parse_message(message.topic, message.payload)
        except BadMessage as exc:
            items = exc
        except Exception:  # never let one message take the network thread down
            log.exception("sensing bridge: unexpected error reading a message")
            items = BadMessage("unreadable")
        self._queue.put(_Message(generation, message.mid, message.qos, items))

    # -- bridge side (the caller's thread) --------------------------------------------------------
    def request_stop(self, *args) -> None:
        self.stop_event.set()

    def _take_batch(self) -> list[_Message]:
        try:
            first = self._queue.get(timeout=0.5)
        except queue.Empty:
            return []
        batch = [first]
        readings = 0 if isinstance(first.items, BadMessage) else len(first.items)
        deadline = time.monotonic() + self.batch_seconds
        while len(batch) < self.batch_messages and readings < self.batch_readings:
            remaining = deadline - time.monotonic()
            try:
                msg = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            batch.append(msg)
            if not isinstance(msg.items, BadMessage):
                readings += len(msg.items)
        return batch

    def _process(self, batch: list[_Message]) -> None:
        items = []
        for msg in batch:
            if isinstance(msg.items, BadMessage):
                self.stats.rejected[msg.items.reason] += 1
                self._unlogged[msg.items.reason] += 1
            else:
                items.extend(msg.items)
        self.stats.messages += len(batch)
        self.stats.readings += len(items)
        if items:
            self._ingest_until_done(items)
        self._ack(batch)
        self.stats.batches += 1

    def _ingest_until_done(self, items) -> None:
        """Ingest the batch; on an error (database away) retry with backoff, acknowledging nothing meanwhile.
        A stop during the retries gives up: the messages stay unacknowledged and come again next session."""
        delay = 0.5
        while True:
            try:
                result = self.ingest(items)
            except Exception:
                self.stats.ingest_errors += 1
                log.exception("sensing bridge: ingest failed for %d readings; retrying in %.1fs", len(items), delay)
                from django.db import connections

                connections.close_all()
                if self.stop_event.wait(delay):
                    raise _GiveUp from None
                delay = min(delay * 2, 30.0)
                continue
            self.stats.stored += result.stored
            self.stats.duplicates += result.duplicates
            self.stats.alerts += result.alerts
            for reason, n in (result.rejected or {}).items():
                self.stats.rejected[reason] += n
            return

    def _ack(self, batch: list[_Message]) -> None:
        # Under the lock, so no reconnect slips in between the check and the PUBACKs (a reconnect drops
        # paho's unsent packets, so acks queued just before it never reach the new connection).
        with self._lock:
            if not self._connected:
                return
            for msg in batch:
                if msg.qos > 0 and msg.generation == self._generation:
                    self.client.ack(msg.mid, msg.qos)

    def _log_rejections(self) -> None:
        if self._unlogged:
            log.warning("sensing bridge: rejected messages since the last line (reason=count, bodies not logged): %s",
                        ", ".join(f"{k}={v}" for k, v in sorted(self._unlogged.items())))
            self._unlogged.clear()

    def _print_stats(self) -> None:
        self._log_rejections()
        if self.out is not None:
            self.out.write(self.stats.line() + "\n")
            self.out.flush()

    def start(self) -> None:
        """Connect (asynchronously: a broker that is not up yet is retried with backoff) and start paho's thread."""
        self.client.connect_async(self.address.host, self.address.port, keepalive=30, clean_start=False,
                                  properties=self._connect_properties())
        self.client.loop_start()

    def run(self, stop: threading.Event | None = None) -> Stats:
        if stop is not None:
            self.stop_event = stop
        self.start()
        last_line = time.monotonic()
        try:
            while not self.stop_event.is_set():
                batch = self._take_batch()
                if batch:
                    self._process(batch)
                if self.stats_every and time.monotonic() - last_line >= self.stats_every:
                    self._print_stats()
                    last_line = time.monotonic()
        except _GiveUp:
            pass
        finally:
            self._print_stats()
            self.client.disconnect()  # queued after the last acks, so they go first
            self.client.loop_stop()
        return self.stats


class _GiveUp(Exception):
    pass
