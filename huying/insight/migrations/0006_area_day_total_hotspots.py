"""AreaDayTotal (AreaDay without its subjects) and the worker's hot-spot lists (D80).

The totals are filled from AreaDay in one INSERT … SELECT, so an installation's dashboard reads the
same figures right after the upgrade; the covering (level, day, code) index moves with the hot spots.
"""

from django.db import migrations, models

# The counters as this migration's tables have them (metrics.COUNTERS may grow later).
COUNTERS = ("created", "rejected", "merged", "dispatches", "accepts", "accepts_on_time", "returns", "resolutions",
            "resolutions_on_time", "reworks", "closes", "callbacks", "cb_solved", "cb_satisfied", "cb_basic",
            "cb_unsatisfied", "open", "overdue", "suspended_overdue", "unsigned_late")


def fill_totals(apps, schema_editor):
    qn = schema_editor.connection.ops.quote_name
    cols = ", ".join(qn(c) for c in COUNTERS)
    sums = ", ".join(f"SUM({qn(c)})" for c in COUNTERS)
    with schema_editor.connection.cursor() as cur:
        cur.execute(f"INSERT INTO insight_areadaytotal (day, code, level, parent, {cols}) "
                    f"SELECT day, code, MIN(level), MIN(parent), {sums} FROM insight_areaday GROUP BY code, day")


class Migration(migrations.Migration):

    dependencies = [
        ('insight', '0005_unitfact_order_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='AreaDayTotal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created', models.IntegerField(default=0)),
                ('rejected', models.IntegerField(default=0)),
                ('merged', models.IntegerField(default=0)),
                ('dispatches', models.IntegerField(default=0)),
                ('accepts', models.IntegerField(default=0)),
                ('accepts_on_time', models.IntegerField(default=0)),
                ('returns', models.IntegerField(default=0)),
                ('resolutions', models.IntegerField(default=0)),
                ('resolutions_on_time', models.IntegerField(default=0)),
                ('reworks', models.IntegerField(default=0)),
                ('closes', models.IntegerField(default=0)),
                ('callbacks', models.IntegerField(default=0)),
                ('cb_solved', models.IntegerField(default=0)),
                ('cb_satisfied', models.IntegerField(default=0)),
                ('cb_basic', models.IntegerField(default=0)),
                ('cb_unsatisfied', models.IntegerField(default=0)),
                ('open', models.IntegerField(default=0)),
                ('overdue', models.IntegerField(default=0)),
                ('suspended_overdue', models.IntegerField(default=0)),
                ('unsigned_late', models.IntegerField(default=0)),
                ('day', models.DateField(verbose_name='日期')),
                ('code', models.CharField(max_length=20, verbose_name='区域代码')),
                ('level', models.PositiveSmallIntegerField(choices=[(0, '市'), (1, '区'), (2, '街道/镇'), (3, '社区/村'), (4, '网格')], verbose_name='层级')),
                ('parent', models.CharField(blank=True, max_length=20, verbose_name='上级代码')),
            ],
            options={
                'verbose_name': '区域日合计',
                'verbose_name_plural': '区域日合计',
            },
        ),
        migrations.CreateModel(
            name='HotspotList',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=20, verbose_name='区域代码')),
                ('days', models.PositiveSmallIntegerField(verbose_name='天数')),
                ('ends_on', models.DateField(verbose_name='截止日期')),
                ('computed_at', models.DateTimeField(verbose_name='计算时间')),
                ('spots', models.JSONField(default=list, verbose_name='热点')),
            ],
            options={
                'verbose_name': '热点网格榜',
                'verbose_name_plural': '热点网格榜',
            },
        ),
        migrations.RemoveIndex(
            model_name='areaday',
            name='insight_areaday_level_day',
        ),
        migrations.AddIndex(
            model_name='areadaytotal',
            index=models.Index(fields=['parent', 'day'], name='insight_areatotal_parent_day'),
        ),
        migrations.AddIndex(
            model_name='areadaytotal',
            index=models.Index(fields=['level', 'day', 'code'], include=('created', 'open'), name='insight_areatotal_level_day'),
        ),
        migrations.AddConstraint(
            model_name='areadaytotal',
            constraint=models.UniqueConstraint(fields=('code', 'day'), name='insight_areadaytotal_key'),
        ),
        migrations.AddConstraint(
            model_name='hotspotlist',
            constraint=models.UniqueConstraint(fields=('code', 'days'), name='insight_hotspotlist_key'),
        ),
        migrations.RunPython(fill_totals, migrations.RunPython.noop, elidable=True),
    ]
