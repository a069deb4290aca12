"""Open311ApiKey and Open311Submission move from the dispatch app to the open311 app: state only.

The tables keep their names (dispatch_open311apikey, dispatch_open311submission) through
`Meta.db_table`, so no row moves. Here open311's state gains the two models (database_operations=[])
and their content types are renamed dispatch → open311, keeping their ids (permissions hold);
dispatch 0014 then drops them from dispatch's state (create before delete: see hot 0001).
"""

import django.db.models.deletion
from django.db import migrations, models

MODELS = ("open311apikey", "open311submission")


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
    _relabel(apps, schema_editor, "dispatch", "open311")


def content_types_backward(apps, schema_editor):
    _relabel(apps, schema_editor, "open311", "dispatch")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("dispatch", "0013_channel_volunteer"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Open311ApiKey',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100, verbose_name='名称')),
                        ('prefix', models.CharField(help_text='密钥的前几位，便于辨认', max_length=12, verbose_name='前缀')),
                        ('key_hash', models.CharField(max_length=64, unique=True, verbose_name='密钥摘要')),
                        ('active', models.BooleanField(default=True, verbose_name='启用')),
                        ('created_at', models.DateTimeField(verbose_name='创建时间')),
                        ('last_used_at', models.DateTimeField(blank=True, null=True, verbose_name='最近使用')),
                    ],
                    options={
                        'verbose_name': 'Open311 接口密钥',
                        'verbose_name_plural': 'Open311 接口密钥',
                        'db_table': 'dispatch_open311apikey',
                        'ordering': ['name', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='Open311Submission',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('token', models.CharField(max_length=40, unique=True, verbose_name='令牌')),
                        ('email', models.EmailField(blank=True, max_length=254, verbose_name='电子邮件')),
                        ('device_id', models.CharField(blank=True, max_length=100, verbose_name='设备标识')),
                        ('account_id', models.CharField(blank=True, max_length=100, verbose_name='账户标识')),
                        ('media_url', models.URLField(blank=True, max_length=500, verbose_name='媒体链接')),
                        ('attributes', models.JSONField(blank=True, default=dict, verbose_name='属性')),
                        ('created_at', models.DateTimeField(verbose_name='时间')),
                        ('api_key', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='submissions', to='open311.open311apikey', verbose_name='接口密钥')),
                        ('order', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='open311', to='dispatch.workorder', verbose_name='工单')),
                    ],
                    options={
                        'verbose_name': 'Open311 提交',
                        'verbose_name_plural': 'Open311 提交',
                        'db_table': 'dispatch_open311submission',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_forward, content_types_backward),
    ]
