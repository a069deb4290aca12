"""Alert, HotSnapshot, Open311ApiKey and Open311Submission leave dispatch's state.

They now belong to the hot and open311 apps (their 0001 migrations, which this one follows, made
them there and renamed their content types); sensing's foreign key already points to hot.Alert.
State only: the tables keep their dispatch_* names and every row.

A `migrate` stopped between those migrations and this one leaves dispatch.<model> content types
that its post_migrate signal made while both apps had the models: dropped here when the moved
row exists (never the only row).
"""

from django.db import migrations

MOVED = {"alert": "hot", "hotsnapshot": "hot", "open311apikey": "open311", "open311submission": "open311"}


def drop_stale_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    rows = ContentType.objects.using(schema_editor.connection.alias)
    for model, app_label in MOVED.items():
        if rows.filter(app_label=app_label, model=model).exists():
            for stale in rows.filter(app_label="dispatch", model=model):
                stale.delete()  # with its permissions, made by that post_migrate


class Migration(migrations.Migration):

    dependencies = [
        ("dispatch", "0013_channel_volunteer"),
        ("hot", "0001_initial"),
        ("open311", "0001_initial"),
        ("sensing", "0003_rulestate_alert_hot"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="Open311Submission"),
                migrations.DeleteModel(name="Open311ApiKey"),
                migrations.DeleteModel(name="HotSnapshot"),
                migrations.DeleteModel(name="Alert"),
            ],
        ),
        migrations.RunPython(drop_stale_content_types, migrations.RunPython.noop),
    ]
