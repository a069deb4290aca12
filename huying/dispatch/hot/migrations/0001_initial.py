"""Alert and HotSnapshot move from the dispatch app to the hot app: state only, the tables stay.

The tables keep their names (dispatch_alert, dispatch_alert_orders, dispatch_hotsnapshot) through
`Meta.db_table`, so no row moves. The order of the move:
  1. here: hot's state gains the two models (database_operations=[]), and their content types are
     renamed dispatch → hot, keeping their ids, so permissions granted on them still hold;
  2. sensing 0003: RuleState.alert points to hot.Alert (state only);
  3. dispatch 0014: dispatch's state drops them (it depends on 1 and 2).
Creating before deleting leaves no reference to a model that is gone at any step (sensing's foreign
key), whatever `migrate <app> <name>` stops at; the two copies of a model that coexist between
1 and 3 are state only.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = ("alert", "hotsnapshot")  # content types (the auto-created M2M model has none)


def _relabel(apps, schema_editor, old: str, new: str) -> None:
    """Rename the content types old.<model> → new.<model>, keeping their ids (permissions, admin log).

    Both rows exist only after a partial `migrate` whose post_migrate signal made the other label's
    row; then the older row (the one granted and referred to) is kept and the newer one dropped.
    """
    ContentType = apps.get_model("contenttypes", "ContentType")
    rows = ContentType.objects.using(schema_editor.connection.alias)
    for model in MODELS:
        src = rows.filter(app_label=old, model=model).first()
        if src is None:
            continue  # a fresh database: post_migrate makes the new rows at the end
        dst = rows.filter(app_label=new, model=model).first()
        if dst is not None:
            if dst.pk < src.pk:
                src.delete()  # with its permissions
                continue
            dst.delete()
        rows.filter(pk=src.pk).update(app_label=new)


def content_types_forward(apps, schema_editor):
    _relabel(apps, schema_editor, "dispatch", "hot")


def content_types_backward(apps, schema_editor):
    _relabel(apps, schema_editor, "hot", "dispatch")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("dispatch", "0013_channel_volunteer"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Alert',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('hot', '热点问题'), ('sensor', '感知设备')], db_index=True, max_length=10, verbose_name='类别')),
                        ('title', models.CharField(max_length=200, verbose_name='标题')),
                        ('dedup_key', models.CharField(max_length=160, unique=True, verbose_name='去重键')),
                        ('status', models.CharField(choices=[('open', '待处理'), ('acknowledged', '已确认'), ('closed', '已关闭')], db_index=True, default='open', max_length=14, verbose_name='状态')),
                        ('area_code', models.CharField(blank=True, db_index=True, max_length=20, verbose_name='区域代码')),
                        ('district_code', models.CharField(blank=True, max_length=12, verbose_name='区代码')),
                        ('street_code', models.CharField(blank=True, max_length=12, verbose_name='街道代码')),
                        ('area_label', models.CharField(blank=True, max_length=200, verbose_name='所在区域')),
                        ('lng', models.FloatField(blank=True, null=True, verbose_name='经度(WGS-84)')),
                        ('lat', models.FloatField(blank=True, null=True, verbose_name='纬度(WGS-84)')),
                        ('evidence', models.JSONField(blank=True, default=dict, verbose_name='依据')),
                        ('raised_at', models.DateTimeField(db_index=True, verbose_name='预警时间')),
                        ('updated_at', models.DateTimeField(verbose_name='更新时间')),
                        ('acknowledged_at', models.DateTimeField(blank=True, null=True, verbose_name='确认时间')),
                        ('note', models.TextField(blank=True, verbose_name='处理说明')),
                        ('closed_at', models.DateTimeField(blank=True, null=True, verbose_name='关闭时间')),
                        ('acknowledged_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='确认人')),
                        ('orders', models.ManyToManyField(blank=True, related_name='opened_by_alerts', to='dispatch.workorder', verbose_name='由此生成的工单')),
                        ('subject', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='dispatch.subject', verbose_name='事项分类')),
                    ],
                    options={
                        'verbose_name': '预警',
                        'verbose_name_plural': '预警',
                        'db_table': 'dispatch_alert',
                        'ordering': ['-raised_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='HotSnapshot',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('city_code', models.CharField(blank=True, db_index=True, max_length=12, verbose_name='城市代码')),
                        ('days', models.PositiveSmallIntegerField(verbose_name='最近天数')),
                        ('threshold', models.FloatField(verbose_name='相似度阈值')),
                        ('computed_at', models.DateTimeField(db_index=True, verbose_name='计算时间')),
                        ('order_count', models.PositiveIntegerField(default=0, verbose_name='参与工单数')),
                        ('elapsed_ms', models.PositiveIntegerField(default=0, verbose_name='计算耗时(毫秒)')),
                        ('groups', models.JSONField(blank=True, default=list, verbose_name='分组')),
                    ],
                    options={
                        'verbose_name': '热点问题快照',
                        'verbose_name_plural': '热点问题快照',
                        'db_table': 'dispatch_hotsnapshot',
                        'ordering': ['-computed_at', '-id'],
                        'indexes': [models.Index(fields=['city_code', 'days', 'computed_at'], name='dispatch_hot_snapshot_latest')],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_forward, content_types_backward),
    ]
