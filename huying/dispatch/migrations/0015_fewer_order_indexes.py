"""Fewer indexes on the tables every dispatch step writes (each index costs every COPY'd row).

Dropped: the varchar_pattern_ops twins Django adds for db_index CharFields where nothing does
LIKE 'x%' (channel, state, deadline_state, district_code, street_code); the single-column indexes
a composite leads with (state; lead_unit_id; assignment.unit_id); indexes no query takes
(deadline_state, district_code, street_code). Kept under a short name: channel (renamed) and
area_code's pattern_ops index (renamed; it also serves `=` and IN, so the plain twin goes).
Mostly-NULL foreign keys get a partial index WHERE col IS NOT NULL instead of a full one.

Database side by hand, not by AlterField: Django's AlterField on a ForeignKey drops and re-adds
the foreign-key constraint (a full validation scan of a year of orders), and on the partitioned
`dispatch_workorder` it would also try to drop the per-partition clones of the self-referencing
keys, which PostgreSQL refuses. DROP INDEX on the partitioned parent drops its partitions'
indexes; CREATE INDEX / ALTER INDEX … RENAME on the parent apply to every partition. The same
steps run on SQLite (no pattern_ops twins there; IF EXISTS covers them).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (table, index, column, opclass): dropped forward, re-created backward.
DROPPED = [
    ("dispatch_workorder", "dispatch_workorder_channel_63fac3a8_like", "channel", "varchar_pattern_ops"),
    ("dispatch_workorder", "dispatch_workorder_state_ebeea5d0", "state", None),
    ("dispatch_workorder", "dispatch_workorder_state_ebeea5d0_like", "state", "varchar_pattern_ops"),
    ("dispatch_workorder", "dispatch_workorder_deadline_state_28c78c32", "deadline_state", None),
    ("dispatch_workorder", "dispatch_workorder_deadline_state_28c78c32_like", "deadline_state", "varchar_pattern_ops"),
    ("dispatch_workorder", "dispatch_workorder_district_code_cf7569b8", "district_code", None),
    ("dispatch_workorder", "dispatch_workorder_district_code_cf7569b8_like", "district_code", "varchar_pattern_ops"),
    ("dispatch_workorder", "dispatch_workorder_street_code_cb14c659", "street_code", None),
    ("dispatch_workorder", "dispatch_workorder_street_code_cb14c659_like", "street_code", "varchar_pattern_ops"),
    ("dispatch_workorder", "dispatch_workorder_area_code_8edaafdd", "area_code", None),
    ("dispatch_workorder", "dispatch_workorder_lead_unit_id_d5185a51", "lead_unit_id", None),
    ("dispatch_workorder", "dispatch_workorder_reporter_id_15ac9dd3", "reporter_id", None),
    ("dispatch_workorder", "dispatch_workorder_created_by_id_11b5049d", "created_by_id", None),
    ("dispatch_workorder", "dispatch_workorder_merged_into_id_c42c0660", "merged_into_id", None),
    ("dispatch_workorder", "dispatch_workorder_parent_id_985e6d61", "parent_id", None),
    ("dispatch_assignment", "dispatch_assignment_unit_id_107b4179", "unit_id", None),
    ("dispatch_assignment", "dispatch_assignment_dispatched_by_id_3624202f", "dispatched_by_id", None),
    ("dispatch_transition", "dispatch_transition_actor_id_ab8fe242", "actor_id", None),
    ("dispatch_callback", "dispatch_callback_actor_id_ff87df4e", "actor_id", None),
]

# (table, old name, new name, column, opclass): the index is kept, only its name changes.
RENAMED = [
    ("dispatch_workorder", "dispatch_workorder_channel_63fac3a8", "dispatch_wo_channel", "channel", None),
    ("dispatch_workorder", "dispatch_workorder_area_code_8edaafdd_like", "dispatch_wo_area_code", "area_code",
     "varchar_pattern_ops"),
]


def _q(name):
    return '"' + name.replace('"', '""') + '"'


def _create(schema_editor, table, name, column, opclass):
    pg = schema_editor.connection.vendor == "postgresql"
    if opclass and not pg:
        return  # a pattern_ops twin exists only on PostgreSQL
    col = _q(column) + (f" {opclass}" if opclass else "")
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {_q(name)} ON {_q(table)} ({col})")


def _exists(schema_editor, name):
    with schema_editor.connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cur.fetchone()[0]


def _rename(schema_editor, table, old, new, column, opclass):
    if schema_editor.connection.vendor == "postgresql" and _exists(schema_editor, old):
        schema_editor.execute(f"ALTER INDEX {_q(old)} RENAME TO {_q(new)}")
    else:  # SQLite has no ALTER INDEX … RENAME; its demo table is small
        schema_editor.execute(f"DROP INDEX IF EXISTS {_q(old)}")
        pg = schema_editor.connection.vendor == "postgresql"
        _create(schema_editor, table, new, column, opclass if pg else None)


def forward(apps, schema_editor):
    for table, old, new, column, opclass in RENAMED:
        _rename(schema_editor, table, old, new, column, opclass)
    for _table, name, _column, _opclass in DROPPED:
        schema_editor.execute(f"DROP INDEX IF EXISTS {_q(name)}")


def backward(apps, schema_editor):
    for table, name, column, opclass in DROPPED:
        _create(schema_editor, table, name, column, opclass)
    for table, old, new, column, opclass in RENAMED:
        if schema_editor.connection.vendor == "postgresql" and _exists(schema_editor, new):
            schema_editor.execute(f"ALTER INDEX {_q(new)} RENAME TO {_q(old)}")
        else:
            schema_editor.execute(f"DROP INDEX IF EXISTS {_q(new)}")
            _create(schema_editor, table, old, column, opclass)


# Partial indexes on the mostly-NULL foreign keys: created by Django (the same SQL on both vendors).
NEW_INDEXES = [
    migrations.AddIndex(
        model_name='assignment',
        index=models.Index(condition=models.Q(('dispatched_by__isnull', False)), fields=['dispatched_by'], name='dispatch_as_dispatched_by_nn'),
    ),
    migrations.AddIndex(
        model_name='callback',
        index=models.Index(condition=models.Q(('actor__isnull', False)), fields=['actor'], name='dispatch_cb_actor_nn'),
    ),
    migrations.AddIndex(
        model_name='transition',
        index=models.Index(condition=models.Q(('actor__isnull', False)), fields=['actor'], name='dispatch_tr_actor_nn'),
    ),
    migrations.AddIndex(
        model_name='workorder',
        index=models.Index(condition=models.Q(('reporter__isnull', False)), fields=['reporter'], name='dispatch_wo_reporter_nn'),
    ),
    migrations.AddIndex(
        model_name='workorder',
        index=models.Index(condition=models.Q(('created_by__isnull', False)), fields=['created_by'], name='dispatch_wo_created_by_nn'),
    ),
    migrations.AddIndex(
        model_name='workorder',
        index=models.Index(condition=models.Q(('merged_into__isnull', False)), fields=['merged_into'], name='dispatch_wo_merged_into_nn'),
    ),
    migrations.AddIndex(
        model_name='workorder',
        index=models.Index(condition=models.Q(('parent__isnull', False)), fields=['parent'], name='dispatch_wo_parent_nn'),
    ),
]


class Migration(migrations.Migration):

    dependencies = [
        ('dispatch', '0014_hot_open311_apps'),
        ('people', '0004_accessgeneration'),
        ('territory', '0002_division_geometry_generated'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='assignment',
                    name='dispatched_by',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='派单人'),
                ),
                migrations.AlterField(
                    model_name='assignment',
                    name='unit',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='assignments', to='people.unit', verbose_name='承办单位'),
                ),
                migrations.AlterField(
                    model_name='callback',
                    name='actor',
                    field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='回访人'),
                ),
                migrations.AlterField(
                    model_name='transition',
                    name='actor',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='操作人'),
                ),
                migrations.AlterField(
                    model_name='workorder',
                    name='area_code',
                    field=models.CharField(blank=True, max_length=20, verbose_name='区域代码'),
                ),
                migrations.AlterField(
                    model_name='workorder',
                    name='channel',
                    field=models.CharField(choices=[('web', '居民网页'), ('hotline', '热线电话'), ('patrol', '网格巡查'), ('api', '接口'), ('sensor', '感知设备'), ('volunteer', '志愿者巡查'), ('other', '其他系统')], max_length=12, verbose_name='来源渠道'),
                ),
                migrations.AlterField(
                    model_name='workorder',
                    name='created_by',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='录入人'),
                ),
                migrations.AlterField(
                    model_name='workorder',
                    name='deadline_state',
                    field=models.CharField(choices=[('none', '未计时'), ('ok', '正常'), ('warning', '临期'), ('overdue', '超期')], default='none', max_length=10, verbose_name='时限状态'),
                ),
                migrations.AlterField(
                    model_name='workorder',
                    name='district_code',
                    field=models.CharField(blank=True, max_length=12, verbose_name='区代码'),
                ),
                migrations.AlterField(
                    model_name='workorder',
                    name='lead_unit',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='lead_orders', to='people.unit', verbose_name='主办单位'),
                ),
                migrations.AlterField(
                    model_name='workorder',
                    name='merged_into',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='merged_orders', to='dispatch.workorder', verbose_name='合并至'),
                ),
                migrations.AlterField(
                    model_name='workorder',
                    name='parent',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='children', to='dispatch.workorder', verbose_name='拆分自'),
                ),
                migrations.AlterField(
                    model_name='workorder',
                    name='reporter',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='reported_orders', to=settings.AUTH_USER_MODEL, verbose_name='提交人账号'),
                ),
                migrations.AlterField(
                    model_name='workorder',
                    name='state',
                    field=models.CharField(choices=[('submitted', '已受理'), ('dispatched', '已派单'), ('accepted', '已签收'), ('resolved', '已办结'), ('reviewing', '待审核'), ('checking', '待核查'), ('closed', '已结案'), ('returned', '已退单'), ('suspended', '已挂账'), ('rejected', '不予受理'), ('merged', '已合并')], default='submitted', max_length=12, verbose_name='状态'),
                ),
                migrations.AlterField(
                    model_name='workorder',
                    name='street_code',
                    field=models.CharField(blank=True, max_length=12, verbose_name='街道代码'),
                ),
                migrations.AddIndex(
                    model_name='workorder',
                    index=models.Index(fields=['channel'], name='dispatch_wo_channel'),
                ),
                migrations.AddIndex(
                    model_name='workorder',
                    index=models.Index(fields=['area_code'], name='dispatch_wo_area_code', opclasses=['varchar_pattern_ops']),
                ),
                *NEW_INDEXES,
            ],
            database_operations=[
                migrations.RunPython(forward, backward, elidable=False),
                *NEW_INDEXES,
            ],
        ),
    ]
