"""The throttle cache's real table, where 0001 made one named "throttle" instead.

0001 passed "throttle" to `createcachetable`, which takes table names, so databases migrated before
this fix got a table "throttle" and no `huying_throttle_cache`: every counted request (API writes,
the report form, Open311) failed on a fresh production database (the test databases and `huying demo`
were spared: Django's test set-up and the demo run `createcachetable` themselves).
"""

from django.core.management import call_command
from django.db import migrations


def create(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)  # skips existing
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name('throttle')}")


class Migration(migrations.Migration):
    dependencies = [("web", "0001_throttle_cache")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
