"""The small 越秀区 the Party and service tests build: the city, the district, streets 北京街 (two
communities) and 六榕街 (one), and square grids side by side from each community's origin (real
geometry, so the real locator places points and addresses)."""

import json

# (code, name, short name, level, kind, parent)
DIVISIONS = [
    ("440100", "广州市", "广州市", "city", "市", None),
    ("440104", "越秀区", "越秀区", "district", "区", "440100"),
    ("440104003", "北京街道", "北京街", "street", "街道", "440104"),
    ("440104003001", "流水井社区居民委员会", "流水井社区", "community", "社区", "440104003"),
    ("440104003002", "龙藏社区居民委员会", "龙藏社区", "community", "社区", "440104003"),
    ("440104004", "六榕街道", "六榕街", "street", "街道", "440104"),
    ("440104004001", "旧南海县社区居民委员会", "旧南海县社区", "community", "社区", "440104004"),
]


def square(lng: float, lat: float, d: float) -> str:
    ring = [[lng, lat], [lng + d, lat], [lng + d, lat + d], [lng, lat + d], [lng, lat]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def divisions_and_grids(origins: dict, *, grids: int, d: float) -> tuple[dict, dict]:
    """Create the divisions, and `grids` grids of side `d` degrees eastwards from each community's
    south-west corner in `origins` (coded community + 00i); returns ({code: Division}, {code: Grid})."""
    from huying.people.services import roles_ensure
    from huying.territory.models import Division, Grid

    roles_ensure()
    div = {}
    for code, name, short, level, kind, parent in DIVISIONS:
        div[code] = Division.objects.create(code=code, name=name, short_name=short, level=level, kind=kind,
                                            parent=div.get(parent))
    grid = {}
    for comm, (lng, lat) in origins.items():
        for i in range(1, grids + 1):
            x = lng + (i - 1) * d
            g = Grid.objects.create(code=f"{comm}00{i}", name=f"{div[comm].short_name}第{i}网格", community=div[comm],
                                    geometry=square(x, lat, d), lng=x + d / 2, lat=lat + d / 2)
            grid[g.code] = g
    return div, grid
