"""A small city for dispatch tests: one district, two streets, their communities and grids, the
territorial offices (块), a department (条), a command centre, and one user per role.

Most tests run on a hand-made square territory with a matching stand-in locator (patched into
`huying.dispatch.services.intake`): it takes milliseconds. Tests that must prove the real thing — a point in
越秀区 located by the real locator on the real divisions and generated grids — ask for it with
`@pytest.mark.parametrize("territory_mode", ["real"])` (about 2 s each).
"""

import importlib.util
import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

TZ = ZoneInfo("Asia/Shanghai")
OUTSIDE = (116.397, 39.909)  # Beijing, Tiananmen: well outside Guangzhou
PASSWORD = "Huying-test-2026"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


def real_territory_available() -> bool:
    return (importlib.util.find_spec("huying.territory.testing") is not None
            and importlib.util.find_spec("huying.territory.locator") is not None)


@pytest.fixture
def territory_mode() -> str:
    """"fake" (default) or "real"; override per test with parametrize."""
    return "fake"


@dataclass
class Place:
    code: str
    name: str


@dataclass
class Location:
    district: Place | None
    street: Place | None
    community: Place | None
    grid: Place | None
    grid_id: int | None
    community_id: int | None


@dataclass
class AddressMatch:
    found: bool
    outside: bool
    location: Location | None = None


@dataclass
class World:
    district: object
    streets: list
    communities: list
    grids: list
    units: dict
    users: dict
    points: dict = field(default_factory=dict)
    real: bool = False

    def point(self, name="a"):
        return self.points[name]


def _square(lng, lat, d=0.002):
    ring = [[lng, lat], [lng + d, lat], [lng + d, lat + d], [lng, lat + d], [lng, lat]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def _fake_territory():
    from huying.territory.models import Division, Grid, Level

    city = Division.objects.create(code="440100", name="广州市", level=Level.CITY, kind="市")
    district = Division.objects.create(code="440104", name="越秀区", level=Level.DISTRICT, kind="区", parent=city)
    streets, communities, grids = [], [], []
    for i, (sname, cname, lng, lat) in enumerate([("北京街道", "仓边社区", 113.270, 23.125),
                                                   ("人民街道", "大新社区", 113.260, 23.120)], start=1):
        street = Division.objects.create(code=f"440104{i:03d}", name=sname, level=Level.STREET, kind="街道",
                                         parent=district)
        comm = Division.objects.create(code=f"{street.code}001", name=cname, level=Level.COMMUNITY, kind="社区",
                                       parent=street, lng=lng + 0.001, lat=lat + 0.001)
        grid = Grid.objects.create(code=f"{comm.code}001", name=f"{cname}第1网格", community=comm,
                                   geometry=_square(lng, lat), lng=lng + 0.001, lat=lat + 0.001)
        streets.append(street)
        communities.append(comm)
        grids.append(grid)
    return district, streets, communities, grids


def _fake_locator(grids):
    from huying.territory.models import Division

    boxes = []
    for g in grids:
        comm = g.community
        street = Division.objects.get(pk=comm.parent_id)
        district = Division.objects.get(pk=street.parent_id)
        loc = Location(Place(district.code, district.name), Place(street.code, street.name),
                       Place(comm.code, comm.name), Place(g.code, g.name), g.pk, comm.pk)
        boxes.append((g.lng - 0.001, g.lat - 0.001, g.lng + 0.001, g.lat + 0.001, loc))

    def locate_point(lng, lat):
        for x0, y0, x1, y1, loc in boxes:
            if x0 <= lng <= x1 and y0 <= lat <= y1:
                return loc
        return None

    def locate_address(text):
        if "北京市" in text:
            return AddressMatch(False, True, None)
        for *_box, loc in boxes:
            if loc.community.name in text:
                return AddressMatch(True, False, loc)
        return AddressMatch(False, False, None)

    return locate_point, locate_address


def _real_territory():
    from shapely import from_geojson

    from huying.territory import locator
    from huying.territory.models import Division, Grid, Level
    from huying.territory.testing import load_territory

    load_territory(districts=("440104",))
    locator.invalidate()  # ids differ from the previous test's rolled-back territory
    district = Division.objects.get(code="440104")
    streets, communities, grids = [], [], []
    for street in Division.objects.filter(level=Level.STREET, code__startswith="440104").order_by("code"):
        grid = (Grid.objects.filter(layer="unified", community__parent=street).select_related("community")
                .order_by("code").first())
        if grid is None:
            continue
        streets.append(street)
        communities.append(grid.community)
        grids.append(grid)
        if len(streets) == 2:
            break
    points = {}
    for name, g in zip("ab", grids, strict=True):
        p = from_geojson(g.geometry).representative_point()
        points[name] = (round(p.x, 7), round(p.y, 7))
    return district, streets, communities, grids, points


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Real hashing costs half a second per user; these tests sign nobody in through a form.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return tmp_path


@pytest.fixture(autouse=True)
def fresh_calendar():
    """The working calendar is cached per process; a test's holidays must not leak into the next."""
    from huying.core.worktime import reset_calendar_cache

    reset_calendar_cache()
    yield
    reset_calendar_cache()


@pytest.fixture
def world(db, monkeypatch, media, territory_mode, request) -> World:
    from huying.dispatch.seed import dispatch_seed
    from huying.dispatch.services import intake
    from huying.people.models import RoleCode, UnitKind
    from huying.people.services import membership_grant, roles_ensure, unit_create, user_create
    from huying.territory.models import Division, Level

    dispatch_seed()
    roles_ensure()
    real = territory_mode == "real"
    if real:
        if not real_territory_available():
            pytest.fail("huying.territory.testing / locator are missing")
        district, streets, communities, grids, points = _real_territory()
    else:
        district, streets, communities, grids = _fake_territory()
        points = {"a": (grids[0].lng, grids[0].lat), "b": (grids[1].lng, grids[1].lat)}
        lp, la = _fake_locator(grids)
        monkeypatch.setattr(intake, "locate_point", lp)
        monkeypatch.setattr(intake, "locate_address", la)
    points["outside"] = OUTSIDE
    # The batch intake path (`intake.locate_many`) asks the real locator even with the fake one in
    # place: it must not answer from an index built on an earlier test's rolled-back territory
    # (its change check runs only every few seconds), which gave grid and community ids that no
    # longer exist.
    from huying.territory import locator

    locator.invalidate()
    request.addfinalizer(locator.invalidate)
    city = Division.objects.get(level=Level.CITY)

    def unit(code, name, kind, **kw):
        return unit_create(code=code, name=name, kind=kind, actor=None, **kw)

    units = {
        "command": unit("t-cmd", "市民热线指挥调度中心", UnitKind.COMMAND, division=city),
        "district": unit("t-dist", "越秀区人民政府", UnitKind.TERRITORIAL, division=district),
        "street_a": unit("t-street-a", streets[0].name, UnitKind.TERRITORIAL, division=streets[0]),
        "street_b": unit("t-street-b", streets[1].name, UnitKind.TERRITORIAL, division=streets[1]),
        "community_a": unit("t-comm-a", communities[0].name, UnitKind.TERRITORIAL, division=communities[0]),
        "community_b": unit("t-comm-b", communities[1].name, UnitKind.TERRITORIAL, division=communities[1]),
        "grid_a": unit("t-grid-a", grids[0].name, UnitKind.TERRITORIAL, grid=grids[0]),
        "dept": unit("t-cgj", "城市管理和综合执法局", UnitKind.DEPARTMENT),
    }
    counter = itertools.count(1)
    users = {}
    for name, unit_key, role in [
        ("operator", "command", RoleCode.OPERATOR),
        ("dispatcher", "command", RoleCode.DISPATCHER),
        ("comm_a", "community_a", RoleCode.HANDLER),
        ("comm_b", "community_b", RoleCode.HANDLER),
        ("street_a", "street_a", RoleCode.HANDLER),
        ("street_b", "street_b", RoleCode.HANDLER),
        ("district", "district", RoleCode.HANDLER),
        ("grid_a", "grid_a", RoleCode.GRID_WORKER),
        ("dept", "dept", RoleCode.HANDLER),
        ("resident", None, None),
        ("resident2", None, None),
    ]:
        user = user_create(username=f"u{next(counter)}-{name}", password=PASSWORD, display_name=name, actor=None,
                           check_password=False)
        if unit_key:
            membership_grant(user, unit=units[unit_key], role_code=role, actor=None)
        users[name] = user
    return World(district, streets, communities, grids, units, users, points, real)


@pytest.fixture
def report(world):
    """report(**overrides) files a resident's web report at point a, through the real intake service."""
    from huying.dispatch.services import work_order_create

    keys = itertools.count(1)

    def _report(**kw):
        lng, lat = kw.pop("point", world.point("a"))
        args = dict(channel="web", subject="Q010101", request_type="complaint", title="路面坑洼",
                    description="人行道地砖松动", lng=lng, lat=lat, reporter_name="张三",
                    reporter_phone="13812345678", actor=world.users["resident"],
                    idempotency_key=f"k-{next(keys)}", now=at(2026, 3, 2, 10, 0))
        args.update(kw)
        return work_order_create(**args)

    return _report


# -- the bulk year's tests (committed data: its writer thread and processes connect on their own) --

def yuexiu_with_offices() -> None:
    """越秀区's real divisions and grids, and a territorial office (块) for each division."""
    from huying.people.models import Unit, UnitKind
    from huying.territory.models import Division
    from huying.territory.testing import load_territory

    load_territory(districts=("440104",))
    Unit.objects.bulk_create([Unit(code=f"gov-{d.code}", name=f"{d.name}办", kind=UnitKind.TERRITORIAL, division=d)
                              for d in Division.objects.filter(code__startswith="440104")])


def wipe_history() -> None:
    """Empty the tables a simulated year writes (PostgreSQL)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("TRUNCATE dispatch_workorder, dispatch_transition, dispatch_assignment, dispatch_callback, "
                    "dispatch_workorder_cohandlers, core_auditentry CASCADE")


def break_batch(monkeypatch, broken: int, message: str) -> None:
    """Make the simulator's batch `broken` raise ValueError(message), whichever process takes it."""
    from huying.dispatch import simulate_year as sy

    real = sy.Simulator.batch

    def batch(self, n, w, *, k):
        if k == broken:
            raise ValueError(message)
        return real(self, n, w, k=k)

    monkeypatch.setattr(sy.Simulator, "batch", batch)
