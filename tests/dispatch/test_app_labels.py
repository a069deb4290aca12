"""hot and open311 are apps of their own: their models moved out of dispatch without moving a row."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from huying.core.audit import audit_log, audit_trail
from huying.core.models import AuditEntry
from huying.dispatch.hot.models import Alert, HotSnapshot
from huying.dispatch.open311.models import Open311ApiKey, Open311Submission
from huying.sensing.models import RuleState

MOVED = {
    Alert: ("hot", "dispatch_alert"),
    HotSnapshot: ("hot", "dispatch_hotsnapshot"),
    Open311ApiKey: ("open311", "dispatch_open311apikey"),
    Open311Submission: ("open311", "dispatch_open311submission"),
}


def test_the_models_belong_to_their_apps_and_keep_their_tables():
    for model, (label, table) in MOVED.items():
        assert model._meta.app_label == label
        assert model._meta.db_table == table
        assert apps.get_model(label, model.__name__) is model
    assert Alert.orders.through._meta.db_table == "dispatch_alert_orders"
    assert RuleState._meta.get_field("alert").related_model is Alert
    assert {"hot", "open311"} <= {a.label for a in apps.get_app_configs()}


def test_the_tables_are_the_old_ones(db):
    tables = set(connection.introspection.table_names())
    assert {table for _label, table in MOVED.values()} | {"dispatch_alert_orders"} <= tables


def test_content_types_are_under_the_new_labels(db):
    ContentType.objects.clear_cache()
    for model, (label, _table) in MOVED.items():
        ct = ContentType.objects.get(app_label=label, model=model._meta.model_name)
        assert ct.model_class() is model
        assert Permission.objects.filter(content_type=ct, codename=f"view_{model._meta.model_name}").exists()
        assert not ContentType.objects.filter(app_label="dispatch", model=model._meta.model_name).exists()


def _migration(app: str, name: str):
    return importlib.import_module(f"huying.dispatch.{app}.migrations.{name}")


def test_the_rename_keeps_the_row_and_its_grants(db):
    """An existing database: dispatch.alert keeps its id (and the permissions granted on it) as hot.alert."""
    forward = _migration("hot", "0001_initial").content_types_forward
    editor = SimpleNamespace(connection=connection)
    ct = ContentType.objects.get(app_label="hot", model="alert")
    ContentType.objects.filter(pk=ct.pk).update(app_label="dispatch")  # as before the move
    group = Group.objects.create(name="预警查看")
    group.permissions.add(Permission.objects.get(content_type=ct, codename="view_alert"))

    forward(apps, editor)
    ContentType.objects.clear_cache()
    assert ContentType.objects.get(pk=ct.pk).app_label == "hot"
    assert [f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()] == ["hot.view_alert"]

    # Both labels present (a partial migrate's post_migrate made the other): the older row stays.
    newer = ContentType.objects.create(app_label="dispatch", model="alert")
    forward(apps, editor)
    assert not ContentType.objects.filter(pk=newer.pk).exists()
    assert ContentType.objects.get(pk=ct.pk).app_label == "hot"


def test_open311_rename_goes_back_and_forth(db):
    mig = _migration("open311", "0001_initial")
    editor = SimpleNamespace(connection=connection)
    ids = dict(ContentType.objects.filter(app_label="open311").values_list("model", "pk"))
    mig.content_types_backward(apps, editor)
    assert dict(ContentType.objects.filter(app_label="dispatch", model__startswith="open311")
                .values_list("model", "pk")) == ids
    mig.content_types_forward(apps, editor)
    assert dict(ContentType.objects.filter(app_label="open311").values_list("model", "pk")) == ids
    ContentType.objects.clear_cache()


@pytest.mark.django_db
def test_audit_rows_from_before_the_move_stay_in_the_trail():
    now = timezone.now()
    alert = Alert.objects.create(kind="hot", title="井盖缺失", dedup_key="t-1", raised_at=now, updated_at=now)
    AuditEntry.objects.create(action="dispatch.alert.raised", target_type="dispatch.alert",
                              target_id=str(alert.pk), actor_label="system")  # written under the old label
    audit_log(alert, "dispatch.alert.acknowledged")
    trail = list(audit_trail(alert))
    assert [(e.target_type, e.action) for e in trail] == [("dispatch.alert", "dispatch.alert.raised"),
                                                          ("hot.alert", "dispatch.alert.acknowledged")]
    key = Open311ApiKey.objects.create(name="k", prefix="k", key_hash="0" * 64, created_at=now)
    AuditEntry.objects.create(action="dispatch.open311.key_created", target_type="dispatch.open311apikey",
                              target_id=str(key.pk), actor_label="system")
    assert [e.action for e in audit_trail(key)] == ["dispatch.open311.key_created"]
