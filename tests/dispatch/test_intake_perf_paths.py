"""The fast intake paths: per-process caches (and their invalidation), the batched path, the row writer."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from huying.core import rows
from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.core.models import AuditEntry
from huying.dispatch import reference, signals
from huying.dispatch.models import (
    Assignment,
    IdempotencyKey,
    RequestType,
    RoutingRule,
    State,
    Subject,
    SubjectKind,
    Transition,
    WorkOrder,
)
from huying.dispatch.services import intake, work_order_create, work_orders_create_many
from huying.people.models import Unit

from .conftest import at

T0 = at(2026, 3, 2, 10, 0)  # a Monday


class Clock:
    """Stands in for the caches' monotonic clock, so a test moves time instead of sleeping."""

    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t

    def pass_check_interval(self):
        self.t += reference.CHECK_SECONDS + 1


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(reference, "_clock", c)
    return c


@pytest.fixture
def fake_points(world, monkeypatch):
    """The batched path's vectorised locator answers nothing, so every point goes through the
    (stand-in) single locator; the real one is exercised by the `real` test below."""
    if not world.real:
        monkeypatch.setattr(intake, "locate_many", lambda points: [None] * len(points))


def item(world, n, **kw):
    lng, lat = kw.pop("point", world.point("a"))
    return {"channel": "web", "subject": "Q010101", "request_type": "complaint", "title": f"路面坑洼 {n}",
            "description": "人行道地砖松动", "lng": lng, "lat": lat, "reporter_name": "张三",
            "reporter_phone": "13812345678", "idempotency_key": f"b-{n}", "auto_dispatch": True, **kw}


# -- caches and their invalidation ------------------------------------------------------------------

def test_a_routing_rule_saved_in_this_process_applies_to_the_next_order(world, report, clock):
    u = world.units
    assert report(auto_dispatch=True).lead_unit_id == u["community_a"].pk
    rule = RoutingRule.objects.create(priority=1, name="路面归城管", subject=Subject.objects.get(code="Q01"),
                                      target_unit=u["dept"])
    order = report(auto_dispatch=True)
    assert order.lead_unit_id == u["dept"].pk and order.routing["rule_id"] == rule.pk
    assert list(order.cohandlers.values_list("pk", flat=True)) == [u["community_a"].pk]
    rule.active = False
    rule.save()
    assert report(auto_dispatch=True).lead_unit_id == u["community_a"].pk


def test_changes_made_elsewhere_are_seen_after_the_check_interval(world, report, clock):
    """`.update()` sends no signal, like a change made by another process."""
    u = world.units
    report()  # builds the caches
    rule = RoutingRule.objects.create(priority=1, name="路面归城管", target_unit=u["dept"], active=False)
    report()
    RoutingRule.objects.filter(pk=rule.pk).update(active=True)
    assert report(auto_dispatch=True).lead_unit_id == u["community_a"].pk  # not yet: within the interval
    clock.pass_check_interval()
    assert report(auto_dispatch=True).lead_unit_id == u["dept"].pk


def test_a_territorial_unit_deactivated_elsewhere_is_seen_by_its_signature(world, report, clock):
    u = world.units
    assert report(auto_dispatch=True).lead_unit_id == u["community_a"].pk
    Unit.objects.filter(pk=u["community_a"].pk).update(active=False)
    assert report(auto_dispatch=True).lead_unit_id == u["community_a"].pk  # within the interval
    clock.pass_check_interval()
    order = report(auto_dispatch=True)
    assert order.lead_unit_id == u["street_a"].pk and order.handling_level == "street"  # climbs a level


def test_a_unit_saved_in_this_process_is_seen_at_once(world, report, clock):
    u = world.units
    report()
    community = Unit.objects.get(pk=u["community_a"].pk)
    community.active = False
    community.save()
    assert report(auto_dispatch=True).lead_unit_id == u["street_a"].pk


def test_subject_and_request_type_edits_change_limits_and_acceptance(world, report, clock):
    first = report(auto_dispatch=True)
    complaint = RequestType.objects.get(code="complaint")
    complaint.resolve_limit = Decimal("1")
    complaint.save()
    shorter = report(auto_dispatch=True)
    assert shorter.resolve_due < first.resolve_due
    assert shorter.resolve_due == at(2026, 3, 3, 10, 0)  # one working day from Monday 10:00

    subject = Subject.objects.get(code="Q010101")
    subject.active = False
    subject.save()
    with pytest.raises(DomainError) as exc:
        report()
    assert exc.value.code == "dispatch.unknown_subject"

    complaint.active = False
    complaint.save()
    with pytest.raises(DomainError) as exc:
        report(subject="Q010102")
    assert exc.value.code == "dispatch.unknown_request_type"


def test_a_subject_added_without_signals_is_accepted_at_once(world, report, clock):
    report()  # builds the caches
    parent = Subject.objects.get(code="Q0101")
    Subject.objects.bulk_create([Subject(code="Q010199", name="新增分类", parent=parent, depth=3,
                                         kind=SubjectKind.REQUEST)])
    order = report(subject="Q010199")
    assert order.subject.code == "Q010199"
    assert [s.code for s in reference.subject_chain(order.subject)] == ["Q010199", "Q0101", "Q01"]


def test_the_hot_path_reads_nothing_once_the_caches_are_warm(world, report):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    report(auto_dispatch=True)
    with CaptureQueriesContext(connection) as ctx:
        order = report(auto_dispatch=True)
    sqls = [q["sql"] for q in ctx.captured_queries]
    # Nothing from the cached tables and no look-up of the key (receivers of dispatch's signals,
    # e.g. the notification outbox, may read what they need; that is theirs).
    for table in ("dispatch_subject", "dispatch_requesttype", "dispatch_routingrule", "people_unit",
                  "territory_grid", "territory_division", "core_calendarday"):
        assert not [q for q in sqls if f'"{table}"' in q], table
    assert not [q for q in sqls if q.startswith("SELECT") and '"dispatch_idempotencykey"' in q]
    # One INSERT per table: the order, its assignment, both timeline rows, both audit rows, the key.
    inserts = [q.split('"')[1] for q in sqls if q.startswith("INSERT INTO")]
    for table in ("dispatch_workorder", "dispatch_assignment", "dispatch_transition", "core_auditentry",
                  "dispatch_idempotencykey"):
        assert inserts.count(table) == 1, (table, inserts)
    assert order.state == State.DISPATCHED


# -- the batched path ------------------------------------------------------------------------------

def _shape(order):
    order = WorkOrder.objects.get(pk=order.pk)
    steps = [(t.action, t.from_state, t.to_state, t.unit_id, t.actor_label, t.note,
              {k: v for k, v in t.data.items() if k != "assignment_id"})
             for t in Transition.objects.filter(order=order).order_by("id")]
    audits = [(a.action, a.old, a.new, a.reason, a.actor_label)
              for a in AuditEntry.objects.filter(target_type="dispatch.workorder", target_id=str(order.pk))
              .order_by("id")]
    a = Assignment.objects.get(order=order)
    return {
        "fields": {f: getattr(order, f) for f in (
            "state", "version", "lead_unit_id", "proposed_unit_id", "handling_level", "urgency", "area_code",
            "grid_id", "community_id", "dispatched_at", "response_due", "resolve_due", "warn_at",
            "deadline_state", "created_at", "reporter_phone", "routing")},
        "assignment": (a.unit_id, a.level, a.response_due, a.resolve_due, a.warn_at, a.limits),
        "steps": steps,
        "audits": audits,
    }


def test_the_batch_writes_exactly_what_the_single_path_writes(world, fake_points):
    single = work_order_create(**item(world, 1), actor=None, now=T0)
    batch = work_orders_create_many([item(world, 2), item(world, 3, point=world.point("b"))], actor=None, now=T0)
    assert _shape(batch[0]) == _shape(single)
    assert batch[1].lead_unit_id == world.units["community_b"].pk
    assert IdempotencyKey.objects.filter(key__in=["b-2", "b-3"], order__in=batch).count() == 2


def test_the_batch_sends_each_orders_signals_after_commit(world, fake_points, django_capture_on_commit_callbacks):
    got = []

    def rx(signal, **kw):
        got.append((kw.get("action", "order_created"), kw["order_id"]))

    for s in (signals.order_created, signals.order_transitioned):
        s.connect(rx, weak=False, dispatch_uid=f"perf-test-{id(s)}")
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            orders = work_orders_create_many([item(world, n) for n in (1, 2)], actor=None, now=T0)
            assert got == []  # nothing before commit
        for cb in callbacks:
            cb()
    finally:
        for s in (signals.order_created, signals.order_transitioned):
            s.disconnect(dispatch_uid=f"perf-test-{id(s)}")
    a, b = (o.pk for o in orders)
    assert got == [("created", a), ("order_created", a), ("dispatched", a),
                   ("created", b), ("order_created", b), ("dispatched", b)]


def test_one_bad_item_refuses_the_whole_batch_and_names_it(world, fake_points):
    items = [item(world, 1), item(world, 2, point=world.point("outside")), item(world, 3)]
    with pytest.raises(DomainError) as exc:
        work_orders_create_many(items, actor=None, now=T0)
    assert exc.value.code == "dispatch.outside_city" and exc.value.details["index"] == 1
    with pytest.raises(DomainError) as exc:
        work_orders_create_many([item(world, 4), item(world, 5, subject="NOPE")], actor=None, now=T0)
    assert exc.value.code == "dispatch.unknown_subject" and exc.value.details["index"] == 1
    assert WorkOrder.objects.count() == 0 and IdempotencyKey.objects.count() == 0
    assert Transition.objects.count() == 0 and not AuditEntry.objects.filter(action__startswith="dispatch.").exists()
    with pytest.raises(TypeError):
        work_orders_create_many([{**item(world, 6), "actor": None}], actor=None, now=T0)


def test_the_batch_keeps_the_idempotency_rules(world, fake_points):
    earlier = work_order_create(**item(world, 1), actor=None, now=T0)
    got = work_orders_create_many([item(world, 1), item(world, 2), item(world, 2)], actor=None, now=T0)
    assert got[0].pk == earlier.pk and got[1].pk == got[2].pk != earlier.pk
    assert WorkOrder.objects.count() == 2
    for bad in ([item(world, 1, description="另一件事")], [item(world, 3), item(world, 3, title="另一个标题")]):
        with pytest.raises(DomainError) as exc:
            work_orders_create_many(bad, actor=None, now=T0)
        assert exc.value.code == "dispatch.idempotency_mismatch" and exc.value.status == 422
    assert WorkOrder.objects.count() == 2


def test_a_department_route_in_a_batch_writes_its_co_handlers(world, fake_points):
    RoutingRule.objects.create(priority=1, name="路面归城管", subject=Subject.objects.get(code="Q01"),
                               target_unit=world.units["dept"])
    order, = work_orders_create_many([item(world, 1)], actor=None, now=T0)
    assert order.lead_unit_id == world.units["dept"].pk
    assert list(order.cohandlers.values_list("pk", flat=True)) == [world.units["community_a"].pk]
    assert Assignment.objects.get(order=order).cohandler_ids == [world.units["community_a"].pk]


@pytest.mark.parametrize("territory_mode", ["real"])
def test_the_vectorised_locator_places_a_batch_as_the_single_path_does(world):
    points = [world.point("a"), world.point("b")]
    located = intake.locate_many(points)
    assert located == [intake.locate(lng=x, lat=y) for x, y in points]
    orders = work_orders_create_many([item(world, n, point=p) for n, p in enumerate(points)], actor=None, now=T0)
    assert [o.grid_id for o in orders] == [g.pk for g in world.grids]
    assert [o.lead_unit_id for o in orders] == [world.units["community_a"].pk, world.units["community_b"].pk]


def test_simulate_with_batches_prints_the_rate_last(world):
    out = StringIO()
    call_command("simulate", "orders", "--count", "7", "--batch", "3", "--district", "440104", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[-1].startswith("orders_per_s: ") and float(lines[-1].split(": ")[1]) > 0
    assert WorkOrder.objects.filter(title__startswith="模拟诉求", state=State.DISPATCHED).count() == 7


# -- the row writer --------------------------------------------------------------------------------

def test_the_row_writer_stores_what_the_orm_stores(world, report):
    order = report()
    by_orm = audit_log(order, "dispatch.order.test", actor=world.users["operator"], old={"a": 1},
                       new={"b": [1, "二"]}, data={"at": T0.isoformat()}, reason="原因")
    from huying.core.audit import audit_row

    pk, = rows.insert_rows(AuditEntry, [audit_row(order, "dispatch.order.test", actor=world.users["operator"],
                                                  old={"a": 1}, new={"b": [1, "二"]},
                                                  data={"at": T0.isoformat()}, reason="原因")])
    fields = ("actor_id", "actor_label", "action", "target_type", "target_id", "target_label", "old", "new",
              "data", "reason")
    mine = AuditEntry.objects.get(pk=pk)
    assert {f: getattr(mine, f) for f in fields} == {f: getattr(by_orm, f) for f in fields}
    assert mine.created_at is not None  # auto_now_add is honoured

    # Defaults fill what a row leaves out; datetimes keep their instant.
    step, = rows.insert_rows(Transition, [{"order_id": order.pk, "action": "noted", "to_state": order.state,
                                           "at": T0}])
    t = Transition.objects.get(pk=step)
    assert (t.from_state, t.note, t.data, t.actor_id, t.at) == ("", "", {}, None, T0)


def test_the_lead_units_name_comes_from_the_unit_rows_and_follows_a_rename(world, report, clock):
    from huying.people.models import Unit

    first = report(auto_dispatch=True, answer=True)
    assert first.lead_unit.name == Unit.objects.get(pk=first.lead_unit_id).name
    unit = Unit.objects.get(pk=first.lead_unit_id)
    unit.name = "改名后的社区居委会"
    unit.save()  # in this process: the rows are dropped at once
    assert report(auto_dispatch=True, answer=True).lead_unit.name == "改名后的社区居委会"
    Unit.objects.filter(pk=unit.pk).update(name="别处改的名")  # as another process would: no signal
    assert report(auto_dispatch=True, answer=True).lead_unit.name == "改名后的社区居委会"  # kept for a minute
    clock.t += reference.NAME_SECONDS + 1
    assert report(auto_dispatch=True, answer=True).lead_unit.name == "别处改的名"


def test_the_query_log_names_every_statement_of_an_intake(world, report):
    """Django's query log (CaptureQueriesContext, debug pages) shows each statement of a pipelined,
    prepared intake; psycopg leaves the driver's own query text unset there (found on PostgreSQL:
    21 of 88 logged statements were None over eight orders)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(8):  # past HUYING_PG_PREPARE: the inserts run prepared
        with CaptureQueriesContext(connection) as ctx:
            report(auto_dispatch=True, answer=True)
        sqls = [q["sql"] for q in ctx.captured_queries]
        assert None not in sqls
        inserts = {q.split('"')[1] for q in sqls if q.startswith("INSERT INTO")}
        assert {"dispatch_workorder", "dispatch_transition", "core_auditentry", "dispatch_idempotencykey"} <= inserts
