"""core.rows: inserts that read nothing back, the pipeline they travel in, and its errors (issue 17)."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from huying.core import rows
from huying.dispatch.models import IdempotencyKey

pytestmark = pytest.mark.django_db


def _key(key):
    return {"scope": "channel:web", "key": key, "request_hash": "h", "order_id": None, "created_at": timezone.now()}


def test_rows_written_without_reading_back_are_written():
    assert rows.insert_rows(IdempotencyKey, [_key("a"), _key("b")], returning=False) is None
    assert rows.insert_rows(IdempotencyKey, [], returning=False) is None
    assert rows.insert_rows(IdempotencyKey, [_key("a"), _key("c")], ignore_conflicts=True, returning=False) is None
    assert sorted(IdempotencyKey.objects.values_list("key", flat=True)) == ["a", "b", "c"]
    ids = rows.insert_rows(IdempotencyKey, [_key("d")])
    assert IdempotencyKey.objects.get(pk=ids[0]).key == "d"


def test_the_pipeline_keeps_every_row_and_the_statements_are_logged():
    with CaptureQueriesContext(connection) as ctx, transaction.atomic(), rows.pipelined():
        first = rows.insert_rows(IdempotencyKey, [_key("p1")])  # read back inside: waits for its answer
        rows.insert_rows(IdempotencyKey, [_key("p2"), _key("p3")], returning=False)
    assert len(first) == 1
    assert IdempotencyKey.objects.count() == 3
    assert sum(q["sql"].startswith("INSERT INTO") for q in ctx.captured_queries) == 2


def test_a_failed_statement_in_the_pipeline_raises_djangos_error_and_rolls_back():
    rows.insert_rows(IdempotencyKey, [_key("taken")])
    with pytest.raises(IntegrityError), transaction.atomic(), rows.pipelined():
        rows.insert_rows(IdempotencyKey, [_key("new-1")], returning=False)
        rows.insert_rows(IdempotencyKey, [_key("taken")], returning=False)  # breaks the unique key
        rows.insert_rows(IdempotencyKey, [_key("new-2")], returning=False)
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["taken"]
    # The connection is usable afterwards.
    rows.insert_rows(IdempotencyKey, [_key("after")], returning=False)
    assert IdempotencyKey.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pipeline mode and prepared statements are PostgreSQL's")
def test_postgresql_pipelines_and_prepares_the_inserts(settings):
    import psycopg

    with transaction.atomic(), rows.pipelined():
        assert connection.connection.pgconn.pipeline_status != psycopg.pq.PipelineStatus.OFF
    assert connection.connection.pgconn.pipeline_status == psycopg.pq.PipelineStatus.OFF
    assert connection.connection.prepare_threshold == settings.HUYING_PG_PREPARE
    with rows.bound_cursor(connection) as cursor:
        assert not isinstance(cursor.cursor, psycopg.ClientCursor)  # values apart from the statement
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("force_generic_plan",)  # for the commit's foreign-key checks

