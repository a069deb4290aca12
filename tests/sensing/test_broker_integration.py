"""Through a real Mosquitto: the bridge stores every reading the broker acknowledged exactly once, across a
broker restart, and a bad payload is counted without stopping it.

Each test starts its own broker (/usr/sbin/mosquitto, a free port, persistence in a temporary folder), the
bridge in a thread with the real ingest, and sensors created here. The restart is SIGTERM (Mosquitto writes
its persistence file) and a new broker on the same port and file, as after a service restart.
"""

import os
import pwd
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from django.db import OperationalError, connections
from django.utils import timezone

from huying.sensing.bridge import Bridge
from huying.sensing.simulate import Publisher

MOSQUITTO = "/usr/sbin/mosquitto"
CONF = """listener {port} 127.0.0.1
allow_anonymous true
user {user}
persistence true
persistence_location {dir}/
persistence_file bridge-test.db
autosave_interval 1
max_queued_messages 100000
log_dest file {dir}/mosquitto.log
log_type error
log_type warning
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self, tmp: Path):
        self.port = _free_port()
        self.dir = tmp
        self.conf = tmp / "mosquitto.conf"
        # run as this user (root would otherwise become `mosquitto`, who may not write the persistence file here)
        self.conf.write_text(CONF.format(port=self.port, dir=tmp, user=pwd.getpwuid(os.getuid()).pw_name))
        self.proc = None

    @property
    def url(self):
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self):
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"mosquitto exited: {self.proc.stderr.read()!r}") from None
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: Mosquitto saves its persistence file, then exits
            self.proc.wait(10)


@pytest.fixture
def broker(tmp_path):
    if not os.path.exists(MOSQUITTO):
        pytest.skip(f"{MOSQUITTO} not installed (Debian package mosquitto; .ci/run installs it)")
    b = Broker(tmp_path)
    b.start()
    yield b
    b.stop()


@pytest.fixture
def sensors(db):
    from huying.people.models import Unit
    from huying.sensing.models import Sensor

    unit = Unit.objects.create(code="sense-owner", name="水务设施管理所", kind="department")
    now = timezone.now()
    return [Sensor.objects.create(code=f"WL-{i:03d}", name=f"水位计{i}", kind="water_level", owner_unit=unit,
                                  lng=113.27, lat=23.13, created_at=now, updated_at=now) for i in range(5)]


class BridgeThread:
    def __init__(self, url, **kw):
        self.bridge = Bridge(url, "huying-test-bridge", stats_every=0, reconnect_max=2, **kw)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.error = None

    def _run(self):
        try:
            self.bridge.run()
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            self.error = exc
        finally:
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        assert self.bridge.subscribed.wait(10), "bridge did not subscribe"
        return self.bridge

    def __exit__(self, *exc):
        self.bridge.request_stop()
        self.thread.join(20)
        assert not self.thread.is_alive(), "bridge did not stop"
        assert self.error is None, self.error


def wait_for(predicate, seconds=60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OperationalError:  # SQLite's shared in-memory test database: the bridge holds the table
            pass
        time.sleep(0.1)
    return predicate()


def stored():
    from huying.sensing.models import Reading

    return list(Reading.objects.values_list("sensor__code", "ts"))


@pytest.mark.django_db(transaction=True)
def test_broker_restart_loses_no_acknowledged_reading_and_stores_each_once(broker, sensors):
    codes = [s.code for s in sensors]
    base = int(time.time() * 1000) - 60_000
    sent = []  # (code, ts_ms, MQTTMessageInfo)

    def slow_ingest(items):  # a slow database: messages pile up unacknowledged at the broker across the restart
        from huying.sensing.ingest import ingest

        time.sleep(0.3)
        return ingest(items)

    with BridgeThread(broker.url, ingest=slow_ingest, batch_messages=100) as bridge:
        pub = Publisher(broker.url, client_id="huying-test-publisher", max_inflight=200)
        pub.acked_mids = set()  # packet ids the broker PUBACKed (1,500 messages: no id is reused)
        try:
            for i in range(1500):
                code = codes[i % len(codes)]
                ts = base + i
                info = pub.publish(f"huying/v1/sensors/{code}/readings", b'{"ts": %d, "value": %d.5}' % (ts, i % 7))
                sent.append((code, ts, info))
                if i == 700:
                    broker.stop()  # mid-stream: some readings in flight, some queued, some not yet sent
                    time.sleep(0.3)
                    broker.start()
                if i % 100 == 0:
                    time.sleep(0.02)
            # paho keeps what was published while the broker was away and sends it after reconnecting
            wait_for(lambda: all(info.mid in pub.acked_mids for _, _, info in sent), 90)
        finally:
            pub.client.disconnect()
            pub.client.loop_stop()
        acked = {(c, ts) for c, ts, info in sent if info.mid in pub.acked_mids}
        assert len(acked) > 1000, f"only {len(acked)} of {len(sent)} acknowledged by the broker"

        def rows():
            return {(c, int(t.timestamp() * 1000)) for c, t in stored()}

        assert wait_for(lambda: acked <= rows()), f"missing {len(acked - rows())} acknowledged readings"
        assert bridge.stats.connects >= 2  # it did reconnect
    all_rows = stored()
    assert len(all_rows) == len(set(all_rows))  # exactly once
    assert {(c, int(t.timestamp() * 1000)) for c, t in all_rows} <= {(c, ts) for c, ts, _ in sent}


@pytest.mark.django_db(transaction=True)
def test_bad_payloads_are_counted_and_the_bridge_goes_on(broker, sensors):
    now = int(time.time() * 1000)
    with BridgeThread(broker.url) as bridge:
        pub = Publisher(broker.url, client_id="huying-test-publisher-2")
        try:
            pub.publish("huying/v1/sensors/WL-000/readings", b"\x00\xff not utf-8")
            pub.publish("huying/v1/sensors/WL-000/readings", b"{not json")
            pub.publish("huying/v1/sensors/bad code/readings", b'{"ts": 1, "value": 1}')
            pub.publish("huying/v1/sensors/WL-000/readings", b'{"readings": "x"}')
            pub.publish("huying/v1/sensors/NOPE-1/readings", b'{"ts": %d, "value": 1}' % now)
            pub.publish("huying/v1/sensors/WL-001/readings", b'{"ts": %d, "value": "high"}' % now)
            pub.publish("huying/v1/sensors/WL-001/readings", b'{"readings": [{"ts": %d, "value": 2.5}, '
                                                             b'{"ts": %d, "value": 2.6}]}' % (now, now + 1))
        finally:
            pub.close(10)
        assert wait_for(lambda: len(stored()) == 2, 60)
        assert wait_for(lambda: bridge.stats.messages == 7, 60)
        assert bridge.stats.rejected["not_utf8"] == 1
        assert bridge.stats.rejected["not_json"] == 1
        assert bridge.stats.rejected["bad_topic"] == 1
        assert bridge.stats.rejected["bad_shape"] == 1
        assert bridge.stats.rejected["unknown_sensor"] == 1
        assert bridge.stats.rejected["bad_value"] == 1
        assert bridge.stats.stored == 2
    # everything was acknowledged: a new session under the same id gets nothing again
    with BridgeThread(broker.url) as again:
        time.sleep(1.0)
        assert again.stats.messages == 0


def test_the_command_stops_on_sigterm_after_storing_its_batch(broker, monkeypatch, capsys):
    """`huying sensing bridge` in this process's main thread (where signal handlers live), the ingest stubbed."""
    import signal
    from dataclasses import dataclass

    from django.core.management import call_command

    from huying.sensing import bridge as bridge_mod

    @dataclass
    class Result:
        stored: int
        duplicates: int = 0
        rejected: dict = None
        alerts: int = 0

    got = []
    monkeypatch.setattr(bridge_mod, "_default_ingest", lambda items: got.extend(items) or Result(stored=len(items)))

    def publish_then_terminate():
        time.sleep(1.5)
        pub = Publisher(broker.url)
        for i in range(20):
            pub.publish("huying/v1/sensors/WL-009/readings", b'{"ts": %d, "value": 1}' % (1780000000000 + i))
        pub.close(10)
        wait_for(lambda: len(got) == 20, 60)
        os.kill(os.getpid(), signal.SIGTERM)

    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    killer = threading.Thread(target=publish_then_terminate)
    killer.start()
    try:
        call_command("sensing_bridge", "--url", broker.url, "--client-id", "huying-test-cmd", "--stats-every", "0")
    finally:
        killer.join(20)
        for sig, handler in before.items():
            signal.signal(sig, handler)
    assert len(got) == 20
    assert "sensing bridge: messages=20 stored=20" in capsys.readouterr().out
