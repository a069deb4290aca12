"""The access generation (people.models.AccessGeneration) and the triggers that bump it."""

from django.db import migrations, models

# (table, the columns whose change can change a scope; None: any write)
WATCHED = [
    ("people_membership", None),
    ("people_role", None),
    ("people_unit", ("parent_id", "division_id", "grid_id", "kind", "active")),
    ("people_user", ("is_active", "is_superuser")),
    ("territory_division", ("code", "level")),
    ("territory_grid", ("code",)),
]
# An upsert: the row comes back after a flush (tests, `manage.py flush`), from a random number so that a
# process's scopes kept from before cannot match it by chance.
BUMP = ("INSERT INTO people_accessgeneration (id, value) VALUES (1, {start}) "
        "ON CONFLICT (id) DO UPDATE SET value = people_accessgeneration.value + 1")
START = {"postgresql": "(random() * 1e15)::bigint", "sqlite": "abs(random() % 1000000000000000)"}


def _triggers(apps, schema_editor):
    AccessGeneration = apps.get_model("people", "AccessGeneration")
    AccessGeneration.objects.using(schema_editor.connection.alias).get_or_create(pk=1, defaults={"value": 0})
    vendor = schema_editor.connection.vendor
    bump = BUMP.format(start=START.get(vendor, "1"))
    if vendor == "postgresql":
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION people_access_bump() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {bump}; RETURN NULL; END $$")
        for table, columns in WATCHED:
            update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
            schema_editor.execute(
                f"CREATE TRIGGER {table}_access AFTER INSERT OR {update} OR DELETE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION people_access_bump()")
            schema_editor.execute(
                f"CREATE TRIGGER {table}_access_truncate AFTER TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION people_access_bump()")
    elif vendor == "sqlite":
        for table, columns in WATCHED:
            update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
            for event, name in (("INSERT", "i"), (update, "u"), ("DELETE", "d")):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_access_{name} AFTER {event} ON {table} BEGIN {bump}; END")
    else:  # pragma: no cover - PostgreSQL and SQLite are the supported databases
        raise NotImplementedError(f"access generation triggers for {vendor}")


def _drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table, _columns in WATCHED:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_access ON {table}")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_access_truncate ON {table}")
        else:
            for name in "iud":
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_access_{name}")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS people_access_bump()")


class Migration(migrations.Migration):

    dependencies = [
        ("people", "0003_unit_review_results"),
        ("territory", "0002_division_geometry_generated"),
    ]

    operations = [
        migrations.CreateModel(
            name="AccessGeneration",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("value", models.BigIntegerField(default=0, verbose_name="版本")),
            ],
            options={"verbose_name": "权限范围版本", "verbose_name_plural": "权限范围版本"},
        ),
        migrations.RunPython(_triggers, _drop),
    ]
