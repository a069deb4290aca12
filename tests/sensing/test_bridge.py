"""The bridge's envelope checks, batching, acks after ingest, and its handling of ingest failures and stops.
(No broker: paho's client is replaced by a recorder; the broker itself is in test_broker_integration.py.)"""

import json
import logging
import threading
from dataclasses import dataclass, field

import pytest

from huying.sensing import bridge as bridge_mod
from huying.sensing.bridge import (
    MAX_BATCH_READINGS,
    MAX_PAYLOAD_BYTES,
    BadMessage,
    Bridge,
    parse_broker_url,
    parse_message,
)

TOPIC = "huying/v1/sensors/WL-001/readings"


def reasons(topic, payload):
    with pytest.raises(BadMessage) as err:
        parse_message(topic, payload)
    return err.value.reason


def test_one_reading_and_a_batch_become_items_of_the_topic_sensor():
    one = {"ts": "2026-06-01T08:00:00+08:00", "value": 1.5, "seq": 3}
    assert parse_message(TOPIC, json.dumps(one).encode()) == [("WL-001", one)]
    batch = [{"ts": 1780000000000 + i, "value": i} for i in range(3)]
    assert parse_message(TOPIC, json.dumps({"readings": batch}).encode()) == [("WL-001", r) for r in batch]


@pytest.mark.parametrize("topic", [
    "huying/v1/sensors/bad code/readings", "huying/v1/sensors//readings", "huying/v2/sensors/A/readings",
    "huying/v1/sensors/A/readings/x", "huying/v1/sensors/" + "A" * 41 + "/readings",
    "huying/v1/sensors/A\x00/readings", "huying/v1/sensors/A/readings\n",
])
def test_a_topic_outside_the_layout_is_refused(topic):
    assert reasons(topic, b'{"ts": 1, "value": 1}') == "bad_topic"


@pytest.mark.parametrize("payload, reason", [
    (b"\xff\xfe", "not_utf8"),
    (b"not json", "not_json"),
    (b"", "not_json"),
    (b'{"ts": 1, "value": NaN}', "not_json"),
    (b'{"ts": 1, "value": Infinity}', "not_json"),
    (b"[" * 100000 + b"]" * 100000, "not_json"),
    (b"[1, 2]", "bad_shape"),
    (b'"text"', "bad_shape"),
    (b'{"value": 1}', "bad_shape"),
    (b'{"ts": 1}', "bad_shape"),
    (b'{"readings": []}', "bad_shape"),
    (b'{"readings": {"ts": 1, "value": 1}}', "bad_shape"),
    (b'{"readings": [{"ts": 1, "value": 1}, 5]}', "bad_shape"),
    (b'{"readings": [{"ts": 1, "value": 1}], "extra": 1}', "bad_shape"),
])
def test_bad_payloads_have_a_reason(payload, reason):
    assert reasons(TOPIC, payload) == reason


def test_limits_on_size_and_readings_per_message():
    big = b'{"ts": 1, "value": 1, "pad": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}'
    assert reasons(TOPIC, big) == "too_large"
    many = {"readings": [{"ts": i, "value": 1} for i in range(MAX_BATCH_READINGS + 1)]}
    assert reasons(TOPIC, json.dumps(many).encode()) == "too_many_readings"
    ok = {"readings": [{"ts": i, "value": 1} for i in range(MAX_BATCH_READINGS)]}
    assert len(parse_message(TOPIC, json.dumps(ok).encode())) == MAX_BATCH_READINGS


def test_broker_url():
    a = parse_broker_url("mqtt://127.0.0.1:1883")
    assert (a.host, a.port, a.tls, a.username) == ("127.0.0.1", 1883, False, None)
    b = parse_broker_url("mqtts://bridge:p%40ss@broker.example:8883")
    assert (b.host, b.port, b.tls, b.username, b.password) == ("broker.example", 8883, True, "bridge", "p@ss")
    assert "p@ss" not in str(b) and "p%40ss" not in str(b)
    assert parse_broker_url("mqtt://h").port == 1883
    for bad in ["http://h:1", "h:1883", "mqtt://"]:
        with pytest.raises(ValueError):
            parse_broker_url(bad)


# -- batching and acks, with paho's client replaced -------------------------------------------------------

@dataclass
class Result:
    stored: int
    duplicates: int = 0
    rejected: dict = field(default_factory=dict)
    alerts: int = 0


class RecordingClient:
    def __init__(self):
        self.acks = []

    def ack(self, mid, qos):
        self.acks.append(mid)


@dataclass
class Msg:
    topic: str
    payload: bytes
    mid: int
    qos: int = 1


def make_bridge(ingest, **kw):
    b = Bridge("mqtt://127.0.0.1:1", "test-bridge", ingest=ingest, stats_every=0, **kw)
    b.client = RecordingClient()
    b._generation, b._connected = 1, True
    return b


def deliver(b, mid, payload, topic=TOPIC):
    b._on_message(b.client, None, Msg(topic, payload if isinstance(payload, bytes) else json.dumps(payload).encode(), mid))


def test_a_batch_is_acknowledged_only_after_ingest_returned_and_bad_messages_are_counted_and_acked(caplog):
    calls = []

    def ingest(items):
        assert b.client.acks == []  # nothing acknowledged before the commit
        calls.append(list(items))
        return Result(stored=len(items) - 1, duplicates=1, rejected={"unknown_sensor": 0}, alerts=2)

    b = make_bridge(ingest)
    deliver(b, 1, {"ts": 1, "value": 1})
    deliver(b, 2, b"secret-body-\x00{")
    deliver(b, 3, {"readings": [{"ts": 2, "value": 2}, {"ts": 3, "value": 3}]})
    deliver(b, 4, {"ts": 4, "value": 4}, topic="huying/v1/sensors/x y/readings")
    with caplog.at_level(logging.WARNING, logger="huying.sensing.bridge"):
        b._process(b._take_batch())
        b._print_stats()
    assert len(calls) == 1 and [c[1]["ts"] for c in calls[0]] == [1, 2, 3]
    assert sorted(b.client.acks) == [1, 2, 3, 4]
    s = b.stats
    assert (s.messages, s.readings, s.stored, s.duplicates, s.alerts) == (4, 3, 2, 1, 2)
    assert s.rejected == {"not_json": 1, "bad_topic": 1, "unknown_sensor": 0}
    assert "not_json=1" in caplog.text and "bad_topic=1" in caplog.text
    assert "secret-body" not in caplog.text and "x y" not in caplog.text  # counts and reasons, never bodies


def test_batches_are_cut_at_the_message_and_reading_limits():
    sizes = []
    b = make_bridge(lambda items: sizes.append(len(items)) or Result(stored=len(items)),
                    batch_messages=3, batch_readings=5, batch_seconds=5)
    for mid in range(1, 8):
        deliver(b, mid, {"ts": mid, "value": 1})
    deliver(b, 8, {"readings": [{"ts": 100 + i, "value": 1} for i in range(4)]})
    while not b._queue.empty():
        b._process(b._take_batch())
    assert sizes == [3, 3, 5]
    assert sorted(b.client.acks) == list(range(1, 9))


def test_a_failing_ingest_is_retried_and_nothing_is_acked_until_it_succeeds(monkeypatch):
    attempts = []

    def ingest(items):
        attempts.append(len(items))
        if len(attempts) < 3:
            raise RuntimeError("database away")
        return Result(stored=len(items))

    b = make_bridge(ingest)
    monkeypatch.setattr(b.stop_event, "wait", lambda delay: False)  # no real sleeping
    deliver(b, 7, {"ts": 1, "value": 1})
    b._process(b._take_batch())
    assert attempts == [1, 1, 1] and b.client.acks == [7]
    assert b.stats.ingest_errors == 2 and b.stats.stored == 1


def test_a_stop_while_ingest_keeps_failing_leaves_the_batch_unacknowledged():
    b = make_bridge(lambda items: (_ for _ in ()).throw(RuntimeError("down")))
    b.client.disconnect = b.client.loop_stop = lambda: None
    b.start = lambda: None
    deliver(b, 9, {"ts": 1, "value": 1})
    threading.Timer(0.3, b.request_stop).start()
    b.run()
    assert b.client.acks == [] and b.stats.stored == 0 and b.stats.ingest_errors >= 1


def test_messages_from_an_earlier_connection_are_ingested_but_not_acked_on_the_new_one():
    b = make_bridge(lambda items: Result(stored=len(items)))
    deliver(b, 5, {"ts": 1, "value": 1})
    b._generation = 2  # a reconnect: packet id 5 may now name another message
    deliver(b, 5, {"ts": 2, "value": 1})
    b._process(b._take_batch())
    assert b.client.acks == [5] and b.stats.stored == 2


def test_nothing_is_acked_while_disconnected():
    b = make_bridge(lambda items: Result(stored=len(items)))
    deliver(b, 1, {"ts": 1, "value": 1})
    b._connected = False
    b._process(b._take_batch())
    assert b.client.acks == [] and b.stats.stored == 1


def test_an_unexpected_error_reading_a_message_is_a_rejection_not_a_crash(monkeypatch):
    b = make_bridge(lambda items: Result(stored=len(items)))
    monkeypatch.setattr(bridge_mod, "parse_message", lambda t, p: 1 / 0)
    deliver(b, 1, {"ts": 1, "value": 1})
    b._process(b._take_batch())
    assert b.stats.rejected == {"unreadable": 1} and b.client.acks == [1]


def test_stats_line_names_the_counts():
    b = make_bridge(lambda items: Result(stored=len(items), rejected={"unknown_sensor": 1}))
    deliver(b, 1, {"readings": [{"ts": 1, "value": 1}, {"ts": 2, "value": 1}]})
    b._process(b._take_batch())
    line = b.stats.line()
    assert "stored=2" in line and "unknown_sensor=1" in line and "alerts=0" in line
