"""D84: AreaDay keeps the city, districts and streets only (models.SUBJECT_LEVELS); a community's or
grid's subjects are summed from its orders' facts, read by (leaf, day). The community and grid rows
already there are no longer kept current, so they go."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('insight', '0006_area_day_total_hotspots'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='orderfact',
            index=models.Index(fields=['leaf', 'day'], name='insight_fact_leaf_day'),
        ),
        migrations.RunSQL("DELETE FROM insight_areaday WHERE level > 2", migrations.RunSQL.noop),
    ]
