"""The demo seed: a centre per street and community, stations, hours and the catalogue."""

from huying.services.demo import catalogue, services_demo_seed
from huying.services.models import PositionKind, ServiceItem, ServicePosition
from huying.services.selectors import position_open_at

from .conftest import at


def test_catalogue_has_130_items_and_real_names():
    items = catalogue()
    assert len(items) >= 130
    names = {i["name"] for i in items}
    assert {"居住证办理", "高龄津贴申领", "残疾人证申请"} <= names
    assert len(names) == len(items)


def test_seed(town):
    counts = services_demo_seed()
    assert counts["items"] == len(catalogue())
    kinds = dict.fromkeys(PositionKind.values, 0)
    for k in ServicePosition.objects.values_list("kind", flat=True):
        kinds[k] += 1
    # 2 streets and 3 communities with territorial units: 北京街, 六榕街; 流水井 only among communities
    assert kinds == {"street_centre": 2, "community_centre": 1, "station": 2}
    street = ServicePosition.objects.filter(kind=PositionKind.STREET_CENTRE).first()
    assert street.items.count() == len(catalogue())
    assert position_open_at(ServicePosition.objects.prefetch_related("hours").get(pk=street.pk),
                            at(2026, 3, 14, 10, 0))  # Saturday 错时
    assert ServiceItem.objects.get(name="居住证办理").positions.exists()
    assert services_demo_seed() == {"positions": 0, "items": 0}
