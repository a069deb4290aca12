"""A BRIN index on readings' time, on PostgreSQL only (SQLite has no BRIN; its b-tree on (sensor, ts) serves).

Readings arrive in time order, so a block-range index on ts is a few pages for millions of rows and
answers city-wide time ranges (dashboards, retention deletes) without the size of a b-tree.
"""

from django.db import migrations

INDEX = "sensing_reading_ts_brin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON sensing_reading USING brin (ts)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("sensing", "0001_sensecore")]

    operations = [migrations.RunPython(create, drop)]
