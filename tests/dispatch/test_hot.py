"""Hot issues, early warning and reply quality: the pure parts on small fixtures drawn from the
citizen-messages data, and the alert services on the dispatch test city."""

import csv
import random
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from huying.core.errors import DomainError
from huying.core.models import AuditEntry
from huying.dispatch.hot.alerts import detect, ewma, poisson_sf
from huying.dispatch.hot.csvio import CsvError, parse_time, read_calls
from huying.dispatch.hot.grouping import Call, group_calls
from huying.dispatch.hot.heat import burst, heat_index, rank, residents
from huying.dispatch.hot.models import Alert, AlertStatus
from huying.dispatch.hot.selectors import alert_list, hot_groups
from huying.dispatch.hot.services import alert_acknowledge, alert_open_order, alert_raise, hot_scan
from huying.dispatch.models import WorkOrder
from huying.dispatch.notify.models import OutboxMessage
from huying.dispatch.quality.reply_quality import reply_quality

from .conftest import at

FIXTURES = Path(__file__).parent / "fixtures"
T0 = at(2026, 3, 2, 10, 0)


def call(i, title, *, days=0, area="", reporter="", likes=0, body=""):
    return Call(id=str(i), title=title, body=body, at=T0 + timedelta(days=days), area_code=area,
                reporter=reporter, likes=likes)


# ---- grouping and heat ---------------------------------------------------------------------------

def test_hot_sample_groups_are_pure_and_the_biggest_issue_ranks_first():
    calls = read_calls(FIXTURES / "hot_sample.csv")
    groups = rank(group_calls(calls))
    assert groups, "the sample holds two known hot issues"
    top = groups[0]
    assert top.size >= 5 and all("伊景园" in c.title + c.body for c in top.calls)
    for g in groups:
        topics = {t for t in ("伊景园", "丽发新城") for c in g.calls if t in c.title + c.body}
        assert len(topics) <= 1, [c.title for c in g.calls]
    # Rows about neither issue are (almost all) left alone: the 40 unrelated ones are random.
    grouped = {c.id for g in groups for c in g.calls}
    unrelated = [c for c in calls if "伊景园" not in c.title and "丽发" not in c.title]
    assert sum(c.id in grouped for c in unrelated) <= 6


def test_same_text_elsewhere_or_much_later_is_another_group():
    t = "仓边路井盖缺失，行人容易跌落"
    calls = [call(1, t, area="440104001001001"), call(2, t, area="440104001001001", days=1),
             call(3, t, area="440104002001001"), call(4, t, area="440104001001001", days=200),
             call(5, "A3区某小区" + t, days=100), call(6, "A5区某小区" + t, days=100),
             call(7, "A3区" + t, days=101)]
    groups = group_calls(calls, window=timedelta(days=30))
    # Calls without codes (CSV rows) are kept apart by the districts their texts name.
    assert [sorted(c.id for c in g.calls) for g in groups] == [["1", "2"], ["5", "7"]]
    assert groups[0].area_code == "440104001001001"


def test_different_problems_in_one_place_do_not_group():
    calls = [call(1, "仓边路井盖缺失", area="440104001"), call(2, "仓边路夜间施工噪音扰民", area="440104001"),
             call(3, "仓边路井盖缺失，很危险", area="440104001")]
    assert [sorted(c.id for c in g.calls) for g in group_calls(calls)] == [["1", "3"]]


def test_group_calls_rejects_a_bad_threshold():
    with pytest.raises(ValueError):
        group_calls([call(1, "a"), call(2, "a")], threshold=0)


def test_heat_components():
    calls = [call(1, "x", reporter="u1"), call(2, "x", reporter="u1", days=2), call(3, "x", days=3, likes=5),
             call(4, "x", days=20)]
    assert burst(calls, timedelta(days=7)) == 3
    assert residents(calls) == 1 + 2 + 5  # one known reporter twice, two anonymous, five likes
    base = {"count": 3, "residents": 3, "burst": 1, "severity": 0.0}
    for k, v in [("count", 9), ("residents", 30), ("burst", 3), ("severity", 1.0)]:
        assert heat_index({**base, k: v}) > heat_index(base)


# ---- early warning ------------------------------------------------------------------------------

def test_poisson_tail_and_ewma():
    assert poisson_sf(0, 2.0) == 1.0
    assert poisson_sf(1, 2.0) == pytest.approx(1 - 0.1353352832, rel=1e-9)
    assert poisson_sf(3, 1.0) == pytest.approx(1 - 0.3678794412 * (1 + 1 + 0.5), rel=1e-9)
    assert ewma([]) == 0.0
    assert ewma([4, 4, 4]) == pytest.approx(4.0)
    assert ewma([0, 10], alpha=0.3) == pytest.approx(3.0)


def test_detect_fires_on_a_spike_not_on_the_usual_rate():
    series = {("Q01", "s1"): [0] * 20 + [6], ("Q01", "s2"): [5, 6, 5, 7, 6, 5] * 3 + [6],
              ("Q02", "s1"): [0] * 20 + [2]}
    fired = detect(series)
    assert [t.key for t in fired] == [("Q01", "s1")]
    assert fired[0].count == 6 and fired[0].expected == 0.2 and fired[0].p_value < 1e-5
    with pytest.raises(ValueError):
        detect(series, p_value=0)


# ---- reply quality ------------------------------------------------------------------------------

def _replies():
    with open(FIXTURES / "replies_sample.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_a_message_s_own_reply_is_more_relevant_than_another_s():
    rows = _replies()
    others = rows[1:] + rows[:1]
    wins = sum(reply_quality(r["title"], r["body"], r["reply"], None, None).relevance
               > reply_quality(r["title"], r["body"], o["reply"], None, None).relevance
               for r, o in zip(rows, others, strict=True))
    assert wins >= 0.8 * len(rows)


def test_reply_quality_components():
    asked = at(2026, 3, 2, 9, 0)
    good = ("您好，关于您反映的仓边路井盖缺失问题，经调查核实，该井盖属供水公司管理。我局已责令其于3月5日前完成更换，"
            "并根据《城市道路管理条例》加强巡查。如有疑问，请拨打联系电话12345咨询。") * 2
    s = reply_quality("仓边路井盖缺失", "仓边路口井盖缺失多日", good, asked, asked + timedelta(days=3))
    assert s.timeliness == 1.0 and s.completeness == 1.0 and s.relevance > 0.5 and s.notes == []
    bare = reply_quality("仓边路井盖缺失", "仓边路口井盖缺失多日", "已收悉。", asked, asked + timedelta(days=35))
    assert bare.total < s.total - 40
    assert {"missing:findings", "missing:basis", "short", "late"} <= set(bare.notes)
    assert bare.timeliness == pytest.approx(1 - 20 / 45, abs=1e-3)
    assert reply_quality("t", "b", "r", asked, asked + timedelta(days=90)).timeliness == 0.0
    with pytest.raises(ValueError):
        reply_quality("t", "b", "r", asked, asked - timedelta(hours=1))
    r = _replies()[0]
    score = reply_quality(r["title"], r["body"], r["reply"], parse_time(r["time"]), parse_time(r["reply_time"]))
    assert 0 <= score.total <= 100 and score.days >= 0


# ---- CSV and the command ------------------------------------------------------------------------

def test_command_prints_the_top_groups(capsys):
    call_command("hot", "run", "--csv", str(FIXTURES / "hot_sample.csv"), "--top", "3")
    out = capsys.readouterr().out.splitlines()
    # One group of the sample's 伊景园 calls (the old single-link grouping split them 7 + 3).
    assert out[0] == "calls: 60  groups: 4"
    assert out[1].startswith(" 1. size=11 ") and "伊景园" in out[1]
    assert len(out) == 4


def test_command_names_the_place_and_sample_titles(capsys):
    call_command("hot", "run", "--csv", str(FIXTURES / "hot_sample.csv"), "--top", "2", "--samples", "2")
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith(" 1. size=11 ") and " place=" in out[1]
    samples = [line for line in out if line.startswith("      - ")]
    assert 2 <= len(samples) <= 4 and all(not out[1].endswith(" " + line[8:]) for line in samples[:2])
    with pytest.raises(CommandError, match="samples"):
        call_command("hot", "run", "--csv", str(FIXTURES / "hot_sample.csv"), "--samples", "-1")


def test_bad_csv_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,title,body,time\n1,t,b,yesterday\n", encoding="utf-8")
    with pytest.raises(CsvError, match="line 2: bad time"):
        read_calls(bad)
    (tmp_path / "nocol.csv").write_text("id,body\n1,b\n", encoding="utf-8")
    with pytest.raises(CommandError, match="missing column"):
        call_command("hot", "run", "--csv", str(tmp_path / "nocol.csv"))
    with pytest.raises(CommandError, match="threshold"):
        call_command("hot", "run", "--csv", str(bad), "--threshold", "2")


# ---- alerts on the database ---------------------------------------------------------------------

@pytest.fixture
def spike(world, report):
    """Quiet weeks of one order every ten days at point a, then five alike within a day."""
    now = at(2026, 3, 20, 12, 0)
    for d in (25, 15, 5):
        report(title="路面坑洼", now=now - timedelta(days=d))
    rng = random.Random(3)
    for h in range(5):
        report(title=rng.choice(["仓边路井盖缺失", "仓边路井盖缺失，很危险", "仓边路口井盖缺失"]),
               description="仓边路口井盖缺失多日", now=now - timedelta(hours=h + 1))
    return now


def test_scan_raises_located_deduplicated_notified_alerts(world, spike):
    alerts = hot_scan(now=spike)
    by_key = {a.dedup_key.rsplit(":", 1)[0]: a for a in alerts}
    subject_alert = by_key["hot:subject:Q010101:" + world.streets[0].code]
    assert subject_alert.evidence["count"] == 5 and subject_alert.evidence["expected"] > 0
    assert len(subject_alert.evidence["orders"]) == 5 and subject_alert.area_code.startswith(world.streets[0].code)
    assert subject_alert.lng is not None and subject_alert.status == AlertStatus.OPEN
    # The hot-issue group is the same surge: one alert carries both evidences, and units hear of it once.
    assert len(alerts) == 1 and not [k for k in by_key if k.startswith("hot:group:")]
    (group_key, group_ev), = subject_alert.evidence["linked"].items()
    assert group_key.startswith("hot:group:") and "井盖" in group_ev["title"] and group_ev["heat"] > 0
    assert sorted(group_ev["orders"]) == sorted(subject_alert.evidence["orders"])
    recipients = list(OutboxMessage.objects.filter(event="alert").values_list("recipient_id", flat=True))
    assert sorted(recipients) == sorted([world.units["street_a"].pk, world.units["district"].pk,
                                         world.units["command"].pk])
    assert AuditEntry.objects.filter(action="dispatch.alert.raised").count() == len(alerts)
    assert AuditEntry.objects.filter(action="dispatch.alert.evidence_linked").count() == 1
    before = OutboxMessage.objects.count()
    again = hot_scan(now=spike + timedelta(minutes=5))
    assert {a.pk for a in again} == {a.pk for a in alerts} and OutboxMessage.objects.count() == before
    assert Alert.objects.count() == len(alerts)
    again[0].refresh_from_db()
    assert list(again[0].evidence["linked"]) == [group_key]  # a rescan keeps the linked evidence
    assert AuditEntry.objects.filter(action="dispatch.alert.evidence_linked").count() == 1


def test_a_group_alert_raised_first_takes_the_subject_surge_as_evidence(world, spike):
    from django.utils import timezone as tz

    codes = [o.code for o in WorkOrder.objects.filter(title__contains="井盖")]
    day = tz.localtime(spike).date().isoformat()
    first, _ = alert_raise(kind="hot", dedup_key=f"hot:group:1:{day}", title="仓边路井盖缺失",
                           evidence={"count": 5, "expected": 0.2, "orders": codes}, area_code=world.streets[0].code,
                           street_code=world.streets[0].code, now=spike)
    sent = OutboxMessage.objects.count()
    alerts = hot_scan(now=spike)
    assert [a.pk for a in alerts] == [first.pk] and Alert.objects.count() == 1
    first.refresh_from_db()
    linked = first.evidence["linked"]
    assert any(k.startswith("hot:subject:Q010101:") for k in linked) and first.evidence["orders"] == codes
    assert OutboxMessage.objects.count() == sent


def test_a_closed_or_unrelated_alert_does_not_absorb_a_surge(world, spike):
    from django.utils import timezone as tz

    day = tz.localtime(spike).date().isoformat()
    codes = [o.code for o in WorkOrder.objects.filter(title__contains="井盖")]
    closed, _ = alert_raise(kind="hot", dedup_key=f"hot:group:1:{day}", title="旧", now=spike,
                            evidence={"count": 5, "orders": codes})
    closed.status = AlertStatus.CLOSED
    closed.save()
    other, _ = alert_raise(kind="hot", dedup_key=f"hot:group:2:{day}", title="别处", now=spike,
                           evidence={"count": 3, "orders": ["X1", "X2", "X3"]})
    alerts = hot_scan(now=spike)
    assert len(alerts) == 1 and alerts[0].pk not in (closed.pk, other.pk)
    closed.refresh_from_db()
    other.refresh_from_db()
    assert "linked" not in closed.evidence and "linked" not in other.evidence
    assert list(alerts[0].evidence["linked"])[0].startswith("hot:group:")


def test_alerts_are_scoped_and_acknowledged_once(world, spike):
    hot_scan(now=spike)
    alert = Alert.objects.filter(dedup_key__startswith="hot:subject:").get()
    assert alert_list(actor=world.users["street_b"]).count() == 0
    assert alert_list(actor=world.users["street_a"]).count() == Alert.objects.count()
    with pytest.raises(DomainError) as e:
        alert_acknowledge(alert, actor=world.users["street_b"])
    assert e.value.status == 404
    alert = alert_acknowledge(alert, actor=world.users["dispatcher"], note="已安排核查", now=spike)
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.acknowledged_by == world.users["dispatcher"]
    assert AuditEntry.objects.filter(action="dispatch.alert.acknowledged").count() == 1
    with pytest.raises(DomainError) as e:
        alert_acknowledge(alert, actor=world.users["dispatcher"])
    assert e.value.code == "dispatch.alert.not_open"


def test_an_alert_opens_one_work_order(world, spike):
    hot_scan(now=spike)
    alert = Alert.objects.filter(dedup_key__startswith="hot:subject:").get()
    order = alert_open_order(alert, actor=world.users["dispatcher"], now=spike)
    assert order.channel == "other" and order.subject.code == "Q010101" and order.area_code == alert.area_code[:len(order.area_code)]
    assert list(alert.orders.all()) == [order]
    assert alert_open_order(alert, actor=world.users["dispatcher"], now=spike).pk == order.pk
    sensor, created = alert_raise(kind="sensor", dedup_key="sensor:x:1", title="水位超限", evidence={"count": 1})
    assert created and sensor.area_code == ""
    with pytest.raises(DomainError) as e:
        alert_open_order(sensor, actor=world.users["dispatcher"], subject="Q010101")
    assert e.value.field == "location"
    with pytest.raises(DomainError):
        alert_raise(kind="weather", dedup_key="k", title="t", evidence={})


def test_hot_groups_follow_the_viewer_s_territory(world, spike):
    groups = hot_groups(actor=world.users["dispatcher"], now=spike, days=14)
    assert len(groups) == 1 and groups[0].size == 5
    assert all("井盖" in o.title for o in groups[0].orders)
    assert hot_groups(actor=world.users["street_b"], now=spike, days=14) == []
    assert len(hot_groups(actor=world.users["street_a"], now=spike, days=14)) == 1


def test_command_on_the_database_prints_groups_and_raises_alerts(world, report, capsys):
    from django.utils import timezone

    now = timezone.now()
    for d in (25, 15, 5):
        report(title="路面坑洼", now=now - timedelta(days=d))
    for h in range(4):
        report(title="仓边路井盖缺失，行人容易跌落", now=now - timedelta(hours=h + 1))
    # Two groups: the quiet month's three alike orders, and the burst, which is hotter.
    call_command("hot", "run", "--top", "1")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "orders: 7  groups: 2" and out[1] == f"alerts: {Alert.objects.count()}"
    assert Alert.objects.count() >= 1 and out[2].startswith(" 1. size=4 ") and "井盖" in out[2]
