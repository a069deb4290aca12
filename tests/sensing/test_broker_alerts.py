"""Through a real Mosquitto and the bridge: a threshold crossing becomes one work order however many
readings cross it, and a sensor that falls silent becomes one maintenance order."""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from huying.dispatch.hot.models import Alert
from huying.dispatch.models import Channel, WorkOrder
from huying.sensing.services import silence_sweep
from huying.sensing.simulate import Publisher
from tests.sensing.sensecore_fixtures import (  # noqa: F401
    fresh_calendar,
    media,
    sensing,
    territory_mode,
    world,
)
from tests.sensing.test_broker_integration import BridgeThread, broker, wait_for  # noqa: F401


@pytest.mark.django_db(transaction=True)
def test_a_crossing_through_the_broker_is_one_order_and_a_silent_sensor_one_maintenance_order(
        broker, world, sensing):  # noqa: F811
    make_sensor, make_rule = sensing
    make_sensor("T-1")
    make_sensor("T-2")
    make_rule(name="高温", params={"threshold": 60}, subject="E04")
    make_rule(kind="silence", name="设备离线", params={"minutes": 30}, subject="C06", urgency="normal")
    now = timezone.now()
    with BridgeThread(broker.url, batch_messages=3):
        pub = Publisher(broker.url, client_id="huying-test-alerts", max_inflight=50)
        try:
            def send(code, minutes_ago, value):
                ts = int((now - timedelta(minutes=minutes_ago)).timestamp() * 1000)
                return pub.publish(f"huying/v1/sensors/{code}/readings",
                                   json.dumps({"ts": ts, "value": value}).encode())

            send("T-2", 45, 21.0)  # T-2 last heard 45 minutes ago
            for k, value in enumerate((25.0, 61.5, 63.0, 70.2, 66.0, 64.4)):  # five readings over 60 ℃
                send("T-1", 6 - k, value)
                time.sleep(0.05)  # several batches, not one
            assert wait_for(lambda: WorkOrder.objects.filter(channel=Channel.SENSOR).count() >= 1, 60)
            time.sleep(1.0)  # any further (wrong) order would have been made by now
        finally:
            pub.client.disconnect()
            pub.client.loop_stop()
    crossing = Alert.objects.get(kind="sensor")
    order = crossing.orders.get()
    assert order.channel == Channel.SENSOR and order.subject.code == "E04"
    assert WorkOrder.objects.filter(channel=Channel.SENSOR).count() == 1
    # the worker's silence sweep: T-2 (45 minutes) is silent, T-1 (just heard) is not
    assert silence_sweep(now=timezone.now())["alerts"] == 1
    assert silence_sweep(now=timezone.now() + timedelta(minutes=1))["alerts"] == 0  # the same order
    maintenance = WorkOrder.objects.filter(channel=Channel.SENSOR).exclude(pk=order.pk).get()
    assert maintenance.subject.code == "C06"
    assert "T-2" in Alert.objects.exclude(pk=crossing.pk).get().evidence["sensors"]
