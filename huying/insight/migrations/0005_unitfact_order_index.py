"""order_id loses its own index: the unique (order_id, unit_id) leads with it and serves order_id = X / IN."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('insight', '0004_refresh_queue'),
    ]

    operations = [
        migrations.AlterField(
            model_name='orderunitfact',
            name='order_id',
            field=models.BigIntegerField(),
        ),
    ]
