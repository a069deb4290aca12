"""Monthly partitions of the work-order table (D15): ids carry their month, every foreign key and the
idempotency keys stay right across partitions, `partitions ensure` keeps months ahead."""

from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from huying.dispatch import partitions
from huying.dispatch.models import IdempotencyKey, Transition, WorkOrder
from huying.dispatch.services import intake

from .conftest import TZ, at

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql",
                                reason="the order table is partitioned on PostgreSQL only; SQLite keeps one table")


def partition_of(order_id: int) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT tableoid::regclass::text FROM dispatch_workorder WHERE id = %s", [order_id])
        return cur.fetchone()[0]


def next_n() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT nextval(%s)", [partitions.SEQUENCE])
        return cur.fetchone()[0]


def order_in(month: int, template: WorkOrder, code: str) -> WorkOrder:
    """A copy of `template` with an id of `month`, as the bulk path writes one (explicit id)."""
    fields = {f.attname: getattr(template, f.attname) for f in WorkOrder._meta.concrete_fields if not f.primary_key}
    fields.update(id=partitions.month_id(month, next_n()), code=code)
    return WorkOrder.objects.create(**fields)


def immediate() -> None:
    """Check the deferred foreign keys now (the test's transaction never commits)."""
    with connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_the_migration_partitions_the_table_by_month(db):
    assert partitions.is_partitioned()
    names = [p.name for p in partitions.partitions_list()]
    assert names[0] == partitions.LEGACY and names[-1] == partitions.DEFAULT
    this = partitions.month_of(datetime.now(TZ))
    for k in range(partitions.AHEAD + 1):
        assert partitions.partition_name(partitions.add_months(this, k)) in names
    with connection.cursor() as cur:
        # Every foreign key to an order still points at the (partitioned) order table.
        cur.execute("""SELECT count(*), bool_and(convalidated) FROM pg_constraint WHERE contype = 'f'
                       AND confrelid = 'dispatch_workorder'::regclass AND conparentid = 0""")
        count, valid = cur.fetchone()
        assert count >= 10 and valid
        cur.execute("""SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conparentid = 0
                       AND conrelid = 'dispatch_workorder'::regclass AND confrelid = 'dispatch_workorder'::regclass""")
        assert cur.fetchone()[0] == 2  # merged_into and parent
    assert partitions.order_month(5) is None
    assert partitions.order_month(partitions.month_id(202611, 7)) == 202611


def test_an_order_taken_in_lands_in_this_months_partition(world, report):
    order = report()
    month = partitions.month_of(datetime.now(TZ))
    assert partitions.order_month(order.pk) == month
    assert partition_of(order.pk) == partitions.partition_name(month)
    assert order.pk < 2**53  # safe as a JSON number
    with connection.cursor() as cur:
        cur.execute("SELECT order_id FROM dispatch_ordercode WHERE code = %s", [order.code])
        assert cur.fetchone() == (order.pk,)
    assert WorkOrder.objects.get(code=order.code) == order


def test_a_retry_months_later_returns_the_order_from_its_old_partition(world, report):
    partitions.ensure(months=[202603])
    with connection.cursor() as cur:  # the order was taken in during March 2026 (rolled back with the test)
        cur.execute(f"ALTER TABLE dispatch_workorder ALTER COLUMN id SET DEFAULT "
                    f"202603 * {partitions.MONTH} + nextval('{partitions.SEQUENCE}')")
    first = report(idempotency_key="same-call")
    immediate()
    with connection.cursor() as cur:
        cur.execute(f"ALTER TABLE dispatch_workorder ALTER COLUMN id SET DEFAULT {partitions.NEXT_ID}()")
    assert partition_of(first.pk) == "dispatch_workorder_p202603"
    other = report(idempotency_key="another-call")
    assert partitions.order_month(other.pk) == partitions.month_of(datetime.now(TZ))
    again = report(idempotency_key="same-call")
    assert again.pk == first.pk and again.code == first.code
    assert WorkOrder.objects.count() == 2
    assert IdempotencyKey.objects.get(key="same-call").order_id == first.pk


def test_a_tracking_code_stays_unique_across_partitions(world, report, monkeypatch):
    order = report()
    partitions.ensure(months=[202603])
    with pytest.raises(IntegrityError), transaction.atomic():
        order_in(202603, order, order.code)
    # Intake draws again when its code is taken (here: by the March order).
    march = order_in(202603, order, "2026030200000000001")
    draws = iter([["2026030200000000001"], ["2026030200000000002"]])
    monkeypatch.setattr(intake, "_draw_codes", lambda now, n: next(draws))
    fresh = report(idempotency_key="after-clash")
    assert fresh.code == "2026030200000000002" and fresh.pk != march.pk
    # A code freed by deleting its order can be used again; a changed code moves with it.
    march.code = "2026030200000000003"
    march.save(update_fields=["code"])
    with connection.cursor() as cur:
        cur.execute("SELECT code FROM dispatch_ordercode WHERE order_id = %s", [march.pk])
        assert cur.fetchall() == [("2026030200000000003",)]
        cur.execute("DELETE FROM dispatch_workorder WHERE id = %s", [march.pk])
        cur.execute("SELECT count(*) FROM dispatch_ordercode WHERE order_id = %s", [march.pk])
        assert cur.fetchone()[0] == 0


def test_foreign_keys_to_an_order_in_an_old_partition_are_enforced(world, report):
    partitions.ensure(months=[202603])
    old = order_in(202603, report(), "2026030200000000009")
    Transition.objects.create(order=old, action="created", to_state="submitted", at=at(2026, 3, 2, 10, 0))
    immediate()
    missing = partitions.month_id(202603, next_n())
    with pytest.raises(IntegrityError), transaction.atomic():
        Transition.objects.create(order_id=missing, action="created", to_state="submitted", at=at(2026, 3, 2))
        immediate()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM dispatch_workorder WHERE id = %s", [old.pk])
        immediate()
    # An order's own references (split parent) across partitions hold too.
    child = report()
    WorkOrder.objects.filter(pk=child.pk).update(parent=old)
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkOrder.objects.filter(pk=child.pk).update(parent_id=missing)
        immediate()


def test_ensure_creates_months_ahead_and_moves_rows_waiting_in_the_default_partition(world, report):
    order = report()
    far = 209901
    waiting = order_in(far, order, "2099010100000000001")
    Transition.objects.create(order=waiting, action="created", to_state="submitted", at=at(2026, 3, 2))
    IdempotencyKey.objects.create(scope="test", key="far", request_hash="x", order=waiting, created_at=at(2026, 3, 2))
    immediate()
    assert partition_of(waiting.pk) == partitions.DEFAULT
    done = partitions.ensure(months=[far])
    assert done == {"created": [partitions.partition_name(far)], "moved": 1}
    assert partition_of(waiting.pk) == partitions.partition_name(far)
    assert Transition.objects.get(order=waiting).order_id == waiting.pk
    with connection.cursor() as cur:
        cur.execute("""SELECT count(*) FROM pg_constraint WHERE contype = 'f'
                       AND confrelid = 'dispatch_workorder'::regclass AND NOT convalidated""")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT order_id FROM dispatch_ordercode WHERE code = %s", [waiting.code])
        assert cur.fetchone() == (waiting.pk,)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM dispatch_workorder WHERE id = %s", [waiting.pk])
        immediate()
    # `ensure --ahead` from a given day: that month and the next ones, once.
    done = partitions.ensure(ahead=2, now=at(2098, 11, 15, 12, 0))
    assert done["created"] == ["dispatch_workorder_p209811", "dispatch_workorder_p209812"]
    assert partitions.ensure(ahead=2, now=at(2098, 11, 15, 12, 0))["created"] == []


def test_the_command_lists_and_ensures(db, capsys):
    call_command("partitions", "ensure", "--ahead", "4")
    out = capsys.readouterr().out
    assert out.startswith("created: ") and "moved from default: 0" in out
    assert partitions.partition_name(partitions.add_months(partitions.month_of(datetime.now(TZ)), 4)) in [
        p.name for p in partitions.partitions_list()]
    call_command("partitions", "list")
    out = capsys.readouterr().out
    assert partitions.LEGACY in out and partitions.DEFAULT in out and out.splitlines()[-1].startswith("total")


def test_a_simulated_year_fills_twelve_monthly_partitions_and_rollups_match(transactional_db):
    from insight.test_rollups import direct_area

    from huying.insight import rollups, selectors
    from huying.insight.simulate import Options, simulate_year
    from huying.people.models import Unit, UnitKind
    from huying.territory.models import Division
    from huying.territory.testing import load_territory

    load_territory(districts=("440104",))
    Unit.objects.bulk_create([Unit(code=f"gov-{d.code}", name=f"{d.name}办", kind=UnitKind.TERRITORIAL, division=d)
                              for d in Division.objects.filter(code__startswith="440104")])
    end = datetime(2026, 6, 30, 20, 0, tzinfo=TZ)
    result = simulate_year(Options(orders=1500, days=365, end=end, seed=3, batch=500))
    assert result["orders"] == 1500
    months = partitions.months_between(end - timedelta(days=364), end)
    assert months[0] == 202507 and months[-1] == 202606 and len(months) == 12
    counts = {p.month: p.rows for p in partitions.partitions_list() if p.rows}
    assert set(counts) == set(months)
    assert sum(counts.values()) == WorkOrder.objects.count() == 1500
    for o in WorkOrder.objects.only("id", "created_at"):
        assert partitions.order_month(o.id) == partitions.month_of(o.created_at)
    # The batches went through the year in time order: the ids' running numbers follow the clock.
    made = [t for _n, t in sorted((o.id % 10**10, o.created_at) for o in WorkOrder.objects.only("id", "created_at"))
            if t < end - timedelta(days=1)]
    assert made == sorted(made) and len(made) > 1400
    for code in (rollups.city_code(), "440104"):
        assert selectors.area_counters(code) == direct_area(code), code
    # The bulk path wrote the code table itself (its triggers were off for the batch) …
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {partitions.CODES} c JOIN dispatch_workorder o "
                    "ON o.id = c.order_id AND o.code = c.code")
        assert cur.fetchone()[0] == 1500
    # … and every foreign key of what it wrote holds, as PostgreSQL would check it.
    with connection.cursor() as cur:
        for child, column, parent in (("dispatch_transition", "order_id", "dispatch_workorder"),
                                      ("dispatch_assignment", "order_id", "dispatch_workorder"),
                                      ("dispatch_assignment", "unit_id", "people_unit"),
                                      ("dispatch_callback", "order_id", "dispatch_workorder"),
                                      ("dispatch_workorder", "grid_id", "territory_grid"),
                                      ("dispatch_workorder", "lead_unit_id", "people_unit")):
            cur.execute(f"SELECT count(*) FROM {child} c WHERE c.{column} IS NOT NULL AND NOT EXISTS "
                        f"(SELECT 1 FROM {parent} p WHERE p.id = c.{column})")
            assert cur.fetchone()[0] == 0, (child, column)
        cur.execute("SELECT count(*) FROM dispatch_transition")
        assert cur.fetchone()[0] > 1500


def test_the_bulk_path_refuses_a_batch_with_a_dangling_foreign_key(db):
    from huying.dispatch.models import Assignment
    from huying.insight.simulate import ForeignKeyViolation, Table, _check_foreign_keys

    t = Table(Assignment, ("id", "order_id", "unit_id", "dispatched_at", "response_due", "resolve_due", "warn_at"),
              with_pk=True)
    now = at(2026, 3, 2, 9, 0)
    t.add(1, 999_999_999, 1, now, now, now, now)
    with pytest.raises(ForeignKeyViolation, match="order_id"):
        _check_foreign_keys([(t, t.take())])
    # A row pointing at a row of the same batch is not looked up; one pointing elsewhere still is.
    from huying.dispatch.models import Callback

    orders = Table(WorkOrder, ("id", "code", "created_at", "updated_at"), with_pk=True)
    orders.add(999_999_999, "X1", now, now)
    t.add(1, 999_999_999, None, now, now, now, now)
    callbacks = Table(Callback, ("id", "order_id", "at"), with_pk=True)
    callbacks.add(1, 999_999_998, now)
    batch = [(orders, orders.take()), (t, t.take()), (callbacks, callbacks.take())]
    with pytest.raises(ForeignKeyViolation, match="dispatch_callback.order_id: no \\[999999998\\]"):
        _check_foreign_keys(batch)


def test_the_bulk_path_looks_up_a_target_once_a_run_and_again_after_a_rollback(world):
    """Values a committed batch pointed at are not looked up again; a batch that did not commit
    leaves nothing known, and a value never seen is still refused."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from huying.dispatch.models import Assignment
    from huying.dispatch.simulate_year import KnownKeys
    from huying.insight.simulate import ForeignKeyViolation, Table, _check_foreign_keys
    from huying.people.models import Unit

    unit = Unit.objects.order_by("id").first()
    now = at(2026, 3, 2, 9, 0)
    orders = Table(WorkOrder, ("id", "code", "created_at", "updated_at"), with_pk=True)
    t = Table(Assignment, ("id", "order_id", "unit_id", "dispatched_at", "response_due", "resolve_due", "warn_at"),
              with_pk=True)

    def batch(oid):
        orders.add(oid, f"K{oid}", now, now)
        t.add(oid, oid, unit.pk, now, now, now, now)
        return [(orders, orders.take()), (t, t.take())]

    known = KnownKeys()
    assert _check_foreign_keys(batch(900_000_001), known) == 1  # the unit, looked up
    known.rollback()  # that batch did not commit: the next one looks the unit up again
    assert _check_foreign_keys(batch(900_000_002), known) == 1
    known.commit()
    with CaptureQueriesContext(connection) as queries:
        assert _check_foreign_keys(batch(900_000_003), known) == 0
    assert not queries.captured_queries
    orders.add(900_000_004, "K900000004", now, now)
    t.add(900_000_004, 900_000_004, 999_999_999, now, now, now, now)  # an unknown unit is still refused
    with pytest.raises(ForeignKeyViolation, match="unit_id: no \\[999999999\\]"):
        _check_foreign_keys([(orders, orders.take()), (t, t.take())], known)
