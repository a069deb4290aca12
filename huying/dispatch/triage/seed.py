"""The default mapping of the classifier's seven families to the shipped subject tree (taxonomy.csv).

Each family maps to the top-level 诉求 class of the same name (城乡建设 → Q01 …), with no department:
routing rules decide the unit. Re-running adds missing families and leaves edited rows alone.
"""

from ..models import Subject
from .models import Label, LabelRoute


def label_routes_seed(label_route=None, subject=None) -> int:
    """Create the missing mappings; returns how many. Takes the models so a migration can pass its own."""
    label_route = LabelRoute if label_route is None else label_route
    subject = Subject if subject is None else subject
    have = set(label_route.objects.values_list("label", flat=True))
    tops = {s.name: s for s in subject.objects.filter(parent__isnull=True, kind="request", name__in=Label.values)}
    new = [label_route(label=label, subject=tops[label], active=True)
           for label in Label.values if label not in have and label in tops]
    label_route.objects.bulk_create(new)
    return len(new)
