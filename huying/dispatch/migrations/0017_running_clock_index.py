"""The running clocks get one partial index by deadline; the single deadline indexes go (D83).

On a Guangzhou year (8.17 M orders) the deadline sweep's `ORDER BY resolve_due, id LIMIT 500` walked
the single resolve_due index of every month, filtering 8 M orders for the ~115,000 running clocks
(9.2 s); a unit's queue took the same path (2.0 s). A partial index of the running clocks (state
dispatched or accepted) by (resolve_due, id) serves the sweep (125 ms) and the overdue list (6 ms)
and holds only those orders; the single response_due, resolve_due and warn_at indexes were used by
no other plan measured (the lists take the composites) and cost every order written.

Database side by hand (DROP INDEX IF EXISTS, the same names on both vendors): on the partitioned
order table, dropping the parent's index drops its partitions'; Django's AlterField would look
for the index by introspection. The new index is Django's AddIndex (CREATE INDEX on the parent
applies to every partition).
"""

from django.db import migrations, models

DROPPED = [("dispatch_workorder_response_due_8e125781", "response_due"),
           ("dispatch_workorder_resolve_due_dcbfbcda", "resolve_due"),
           ("dispatch_workorder_warn_at_0742e6e1", "warn_at")]


def forward(apps, schema_editor):
    for name, _column in DROPPED:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def backward(apps, schema_editor):
    for name, column in DROPPED:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "dispatch_workorder" ("{column}")')


class Migration(migrations.Migration):

    dependencies = [
        ('dispatch', '0016_deferred_index'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name='workorder', name='response_due',
                                      field=models.DateTimeField(blank=True, null=True, verbose_name='签收期限')),
                migrations.AlterField(model_name='workorder', name='resolve_due',
                                      field=models.DateTimeField(blank=True, null=True, verbose_name='办结期限')),
                migrations.AlterField(model_name='workorder', name='warn_at',
                                      field=models.DateTimeField(blank=True, null=True, verbose_name='预警时间')),
            ],
            database_operations=[migrations.RunPython(forward, backward)],
        ),
        migrations.AddIndex(
            model_name='workorder',
            index=models.Index(condition=models.Q(('state__in', ['dispatched', 'accepted'])),
                               fields=['resolve_due', 'id'], name='dispatch_wo_clock_running'),
        ),
    ]
