"""Shared reads of the territory."""

from django.db.models import Count

from .models import UNIFIED_LAYER, Building, Division, Grid, Level


def territory_stats() -> dict[str, int]:
    """Number of units at each level: districts, streets/towns, communities/villages, unified grids, buildings."""
    counts = dict.fromkeys((Level.DISTRICT, Level.STREET, Level.COMMUNITY), 0)
    for row in Division.objects.exclude(level=Level.CITY).values("level").annotate(n=Count("id")).order_by():
        counts[row["level"]] = row["n"]
    return {
        "district": counts[Level.DISTRICT],
        "street": counts[Level.STREET],
        "community": counts[Level.COMMUNITY],
        "grid": Grid.objects.filter(layer=UNIFIED_LAYER).count(),
        "building": Building.objects.count(),
    }
