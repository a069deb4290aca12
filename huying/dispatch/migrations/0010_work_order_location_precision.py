"""How deep intake placed each order (网格 / 社区 / 街道 / 区): address-only reports may stop above a grid."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    # Orders from before were placed in a grid (a point or a building), or at a community by its name.
    WorkOrder = apps.get_model("dispatch", "WorkOrder")
    WorkOrder.objects.filter(grid__isnull=True, community__isnull=False).update(location_precision="community")
    WorkOrder.objects.filter(grid__isnull=True, community__isnull=True).exclude(street_code="").update(
        location_precision="street")
    WorkOrder.objects.filter(grid__isnull=True, community__isnull=True, street_code="").exclude(
        district_code="").update(location_precision="district")


class Migration(migrations.Migration):

    dependencies = [
        ("dispatch", "0009_triage"),
    ]

    operations = [
        migrations.AddField(
            model_name="workorder",
            name="location_precision",
            field=models.CharField(choices=[("grid", "网格"), ("community", "社区"), ("street", "街道"), ("district", "区")],
                                   default="grid", max_length=12, verbose_name="定位精度"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
