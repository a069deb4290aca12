"""Partition the work-order table by month on PostgreSQL (D15); nothing changes on SQLite.

Django's model state is untouched: the table keeps its primary key (id) and every foreign key to
it; only its storage and the id's default change. See huying/dispatch/partitions.py.
"""

from django.db import migrations


def forward(apps, schema_editor):
    from huying.dispatch import partitions

    partitions.install(schema_editor)


def backward(apps, schema_editor):
    from huying.dispatch import partitions

    partitions.uninstall(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("dispatch", "0007_hot_snapshot"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
