"""RuleState.alert follows Alert to the hot app (state only: the column and its constraint stay on dispatch_alert)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("hot", "0001_initial"),
        ("sensing", "0002_reading_brin"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='rulestate',
                    name='alert',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='hot.alert', verbose_name='预警'),
                ),
            ],
        ),
    ]
