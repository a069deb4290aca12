"""The "throttle" cache's table (Django's database cache), so `huying migrate` makes it."""

from django.conf import settings
from django.core.management import call_command
from django.db import migrations


def create(apps, schema_editor):
    # No table names: a name given here is taken as the table's own name, not a cache's alias.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop(apps, schema_editor):
    table = settings.CACHES["throttle"]["LOCATION"]
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(table)}")


class Migration(migrations.Migration):
    dependencies = []
    operations = [migrations.RunPython(create, drop)]
