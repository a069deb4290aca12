"""A small territory with square polygons: two districts, three streets, three communities,
four unified grids (plus one grid of another layer that must never be counted), 30 buildings.

    440100 广州市
      440104 越秀区 ─ 440104001 洪桥街道 ─ 440104001001 华侨新村社区 ─ grids …001 (25 buildings), …002 (3)
                    │                   └ 440104001002 流花社区     ─ grid  …001 (1)
                    └ 440104002 北京街道 ─ 440104002001 西湖社区 (generated) ─ grid …001 (1)
      440103 荔湾区 ─ 440103001 沙面街道 (no communities)
"""

import json

import pytest
from django.core.cache import cache

from huying.territory.models import Building, Division, Grid, Level


def square(x0: float, y0: float, x1: float, y1: float) -> str:
    return json.dumps({"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]})


def _division(code, name, level, kind, parent, box, **extra):
    return Division.objects.create(
        code=code, name=name, level=level, kind=kind, parent=parent, geometry=square(*box) if box else "",
        lng=(box[0] + box[2]) / 2 if box else None, lat=(box[1] + box[3]) / 2 if box else None, **extra,
    )


def _grid(code, name, community, box, layer="unified"):
    return Grid.objects.create(code=code, name=name, layer=layer, community=community, geometry=square(*box),
                               lng=(box[0] + box[2]) / 2, lat=(box[1] + box[3]) / 2, area_m2=1000.0)


def build_territory() -> dict:
    city = _division("440100", "广州市", Level.CITY, "市", None, None)
    yuexiu = _division("440104", "越秀区", Level.DISTRICT, "区", city, (113.25, 23.10, 113.30, 23.15))
    liwan = _division("440103", "荔湾区", Level.DISTRICT, "区", city, (113.20, 23.10, 113.25, 23.15))
    hongqiao = _division("440104001", "洪桥街道", Level.STREET, "街道", yuexiu, (113.25, 23.10, 113.275, 23.15))
    beijing = _division("440104002", "北京街道", Level.STREET, "街道", yuexiu, (113.275, 23.10, 113.30, 23.15))
    shamian = _division("440103001", "沙面街道", Level.STREET, "街道", liwan, (113.20, 23.10, 113.25, 23.15))
    huaqiao = _division("440104001001", "华侨新村社区", Level.COMMUNITY, "社区", hongqiao,
                        (113.25, 23.10, 113.275, 23.125), official_code=False)
    liuhua = _division("440104001002", "流花社区", Level.COMMUNITY, "社区", hongqiao,
                       (113.25, 23.125, 113.275, 23.15), official_code=False)
    xihu = _division("440104002001", "西湖社区", Level.COMMUNITY, "社区", beijing,
                     (113.275, 23.10, 113.30, 23.15), official_code=False, generated=True)
    g1 = _grid("440104001001001", "华侨新村第1网格", huaqiao, (113.25, 23.10, 113.2625, 23.125))
    g2 = _grid("440104001001002", "华侨新村第2网格", huaqiao, (113.2625, 23.10, 113.275, 23.125))
    g3 = _grid("440104001002001", "流花第1网格", liuhua, (113.25, 23.125, 113.275, 23.15))
    g4 = _grid("440104002001001", "西湖第1网格", xihu, (113.275, 23.10, 113.30, 23.15))
    # A source-layer grid sharing a unified grid's code: counts and lists must ignore it.
    _grid("440104001001001", "党建网格", huaqiao, (113.25, 23.10, 113.275, 23.125), layer="party")
    buildings = [(g1, 25), (g2, 3), (g3, 1), (g4, 1)]
    rows = []
    for grid, n in buildings:
        for i in range(1, n + 1):
            rows.append(Building(code=f"{grid.code}{grid.layer[0]}{i:04d}", grid=grid, address=f"{grid.name}{i}号楼",
                                 lng=grid.lng, lat=grid.lat, households=i))
    Building.objects.bulk_create(rows)
    return {"city": city, "yuexiu": yuexiu, "liwan": liwan, "hongqiao": hongqiao, "beijing": beijing,
            "shamian": shamian, "huaqiao": huaqiao, "liuhua": liuhua, "xihu": xihu, "grids": [g1, g2, g3, g4]}


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The map's shape cache outlives a test's rolled-back rows; each test starts empty.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def territory(db):
    return build_territory()


@pytest.fixture
def live_territory(transactional_db, live_server):
    """The same territory, committed so the live server's thread sees it."""
    return build_territory()


@pytest.fixture
def user(db, django_user_model):
    return django_user_model.objects.create_user("wangfang", password="grid-pass-2024", display_name="王芳")


@pytest.fixture
def live_user(transactional_db, django_user_model):
    return django_user_model.objects.create_user("wangfang", password="grid-pass-2024", display_name="王芳")
