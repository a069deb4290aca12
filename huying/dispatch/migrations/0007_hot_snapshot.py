# Hot-issue group snapshots computed by the worker (热点问题快照).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dispatch', '0006_work_order_parent'),
    ]

    operations = [
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
                'ordering': ['-computed_at', '-id'],
                'indexes': [models.Index(fields=['city_code', 'days', 'computed_at'], name='dispatch_hot_snapshot_latest')],
            },
        ),
    ]
