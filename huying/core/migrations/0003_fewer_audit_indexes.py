"""Fewer indexes on the audit log, which every dispatch step appends to.

action keeps its plain index (renamed to a short name; the admin filters on it by equality) and
loses its varchar_pattern_ops twin (nothing does LIKE 'x%' on it). actor_id (NULL for the system's
rows) gets a partial index WHERE actor_id IS NOT NULL instead of a full one. Done by hand rather
than by AlterField, which would drop and re-add (re-validate) the actor foreign key.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLE = "core_auditentry"
ACTION, ACTION_LIKE = "core_auditentry_action_6ad0fad5", "core_auditentry_action_6ad0fad5_like"
ACTOR = "core_auditentry_actor_id_d8248cee"
NEW_ACTION = "core_audit_action"


def _exists(schema_editor, name):
    with schema_editor.connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cur.fetchone()[0]


def forward(apps, schema_editor):
    pg = schema_editor.connection.vendor == "postgresql"
    if pg and _exists(schema_editor, ACTION):
        schema_editor.execute(f'ALTER INDEX "{ACTION}" RENAME TO "{NEW_ACTION}"')
    else:  # SQLite has no ALTER INDEX … RENAME
        schema_editor.execute(f'DROP INDEX IF EXISTS "{ACTION}"')
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{NEW_ACTION}" ON "{TABLE}" ("action")')
    schema_editor.execute(f'DROP INDEX IF EXISTS "{ACTION_LIKE}"')
    schema_editor.execute(f'DROP INDEX IF EXISTS "{ACTOR}"')


def backward(apps, schema_editor):
    pg = schema_editor.connection.vendor == "postgresql"
    schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{ACTOR}" ON "{TABLE}" ("actor_id")')
    if pg:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{ACTION_LIKE}" ON "{TABLE}" ("action" varchar_pattern_ops)')
    if pg and _exists(schema_editor, NEW_ACTION):
        schema_editor.execute(f'ALTER INDEX "{NEW_ACTION}" RENAME TO "{ACTION}"')
    else:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{NEW_ACTION}"')
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{ACTION}" ON "{TABLE}" ("action")')


ACTOR_NN = migrations.AddIndex(
    model_name='auditentry',
    index=models.Index(condition=models.Q(('actor__isnull', False)), fields=['actor'], name='core_audit_actor_nn'),
)


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='auditentry',
                    name='action',
                    field=models.CharField(max_length=80, verbose_name='动作代码'),
                ),
                migrations.AlterField(
                    model_name='auditentry',
                    name='actor',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='操作人'),
                ),
                migrations.AddIndex(
                    model_name='auditentry',
                    index=models.Index(fields=['action'], name='core_audit_action'),
                ),
                ACTOR_NN,
            ],
            database_operations=[
                migrations.RunPython(forward, backward, elidable=False),
                ACTOR_NN,
            ],
        ),
    ]
