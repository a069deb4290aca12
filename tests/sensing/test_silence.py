"""The "sensing-silence" job: a sensor that stops reporting becomes one maintenance order, once."""

from datetime import timedelta

from huying.core import jobs
from huying.dispatch.hot.models import Alert
from huying.dispatch.models import Channel, WorkOrder
from huying.sensing.ingest import ingest
from huying.sensing.services import silence_sweep

from .sensecore_fixtures import T0, at, fresh_calendar, media, reading, sensing, territory_mode, ts, world  # noqa: F401


def test_the_job_is_registered():
    names = [j.name for j in jobs.registered()]
    assert "sensing-silence" in names


def test_silence_becomes_one_maintenance_order(world, sensing):  # noqa: F811
    make_sensor, make_rule = sensing
    make_sensor("T-1")
    make_sensor("T-2")
    make_rule(kind="silence", name="设备离线", params={"minutes": 30}, subject="C06", urgency="normal")
    ingest([("T-1", reading(0, 20)), ("T-2", reading(0, 20))], now=ts(1))
    assert silence_sweep(now=ts(20))["alerts"] == 0
    ingest([("T-2", reading(25, 20))], now=ts(26))
    out = silence_sweep(now=ts(31))
    assert out["alerts"] == 1
    assert silence_sweep(now=ts(40))["alerts"] == 0  # still silent: the same order
    alert = Alert.objects.get()
    assert "T-1" in alert.evidence["sensors"] and alert.subject.code == "C06"
    order = alert.orders.get()
    assert order.channel == Channel.SENSOR and order.subject.code == "C06"
    # It reports again, then falls silent again while the maintenance alert is open: no second order.
    ingest([("T-1", reading(45, 20))], now=ts(46))
    assert silence_sweep(now=ts(100))["alerts"] == 1  # T-2 now, T-1's open alert is refreshed
    assert WorkOrder.objects.filter(channel=Channel.SENSOR).count() == 2
    assert Alert.objects.count() == 2


def test_never_heard_sensor_counts_from_registration(world, sensing):  # noqa: F811
    make_sensor, make_rule = sensing
    make_sensor("T-9")  # registered a day before T0
    make_rule(kind="silence", params={"minutes": 60}, subject="C06")
    assert silence_sweep(now=T0)["alerts"] == 1
    assert silence_sweep(now=T0 + timedelta(hours=1))["alerts"] == 0
    _ = at
