import pytest
from django.contrib.auth import authenticate

from huying.core.models import AuditEntry
from huying.people.demo import demo_org_seed
from huying.people.models import Membership, RoleCode, Unit, UnitKind, User
from huying.people.scope import scope_for

pytestmark = pytest.mark.django_db

PASSWORD = "demo-pass-2026"


def test_seed_builds_the_offices_and_one_login_per_role(territory):
    calls = []
    logins = demo_org_seed(password=PASSWORD, progress=lambda step, done, total: calls.append((step, done, total)))
    assert [done for _, done, _ in calls] == [1, 2, 3, 4, 5, 6] and {t for _, _, t in calls} == {6}

    territorial = Unit.objects.filter(kind=UnitKind.TERRITORIAL)
    # 2 districts + 3 streets/towns + 4 communities/villages + 5 unified grids (the source-layer grid gets none)
    assert territorial.count() == 14
    assert not Unit.objects.filter(code="grid-440104003001901").exists()
    names = set(territorial.values_list("name", flat=True))
    assert {"越秀区人民政府", "北京街道办事处", "花山镇人民政府", "流水井社区居民委员会", "和郁村民委员会",
            "流水井社区第1网格工作站"} <= names
    station = Unit.objects.get(code="grid-440104003001001")
    assert station.parent.code == "gov-440104003001" and station.parent.parent.code == "gov-440104003"
    assert station.parent.parent.parent.code == "gov-440104" and station.division.code == "440104003001"
    # 10 city bureaus + the city's 组织部 + 城管, 住建, 生态环境, 市场监管, 公安 in each of the 2 districts
    assert Unit.objects.filter(kind=UnitKind.DEPARTMENT).count() == 21
    assert Unit.objects.get(code="dept-zzb").name == "中共广州市委组织部"
    cgzf = Unit.objects.get(code="dept-cgzf-440104")
    assert (cgzf.name, cgzf.division.code, cgzf.parent.code) == ("越秀区城市管理和综合执法局", "440104", "dept-cgzf")
    assert Unit.objects.get(code="dept-sthj-440114").name == "广州市生态环境局花都分局"
    assert Unit.objects.get(kind=UnitKind.COMMAND).name == "广州市市民热线指挥调度中心"
    assert Unit.objects.filter(kind=UnitKind.DEPARTMENT, name="广州市城市管理和综合执法局").exists()

    assert {row["role"] for row in logins} == set(RoleCode.values)
    assert all(set(row) >= {"username", "role", "unit", "note"} for row in logins)
    for row in logins:
        user = authenticate(username=row["username"], password=PASSWORD)
        assert user is not None, row["username"]
        assert Membership.objects.filter(user=user, role__code=row["role"], active=True, unit__name=row["unit"]).exists()
    by_role = {row["role"]: User.objects.get(username=row["username"]) for row in logins
               if row["username"] != "depthandler"}  # the second handler login, at a department
    assert by_role["admin"].is_superuser and by_role["admin"].is_staff
    assert not by_role["leader"].is_superuser
    assert scope_for(by_role["leader"]).whole_city
    assert scope_for(by_role["operator"]).whole_city
    assert scope_for(by_role["dispatcher"]).division_codes == ("440104003",)
    assert scope_for(by_role["handler"]).division_codes == ("440104003",)
    assert scope_for(by_role["grid_worker"]).division_codes == ("440104003001001",)
    assert scope_for(by_role["resident"]).is_empty
    assert scope_for(by_role["community_worker"]).division_codes == ("440104003001",)
    by_name = {row["username"]: row for row in logins}
    assert by_name["communityworker"]["unit"] == "流水井社区居民委员会"
    assert by_name["depthandler"]["unit"] == "越秀区城市管理和综合执法局"
    assert by_name["partymember"]["unit"] == "中共流水井社区委员会"
    assert cgzf.pk in scope_for(User.objects.get(username="depthandler")).unit_ids
    assert by_role["resident"].id_number and by_role["resident"].phone


def test_seed_twice_creates_nothing_new(territory):
    first = demo_org_seed(password=PASSWORD)
    counts = (Unit.objects.count(), User.objects.count(), Membership.objects.count(), AuditEntry.objects.count())
    second = demo_org_seed(password=PASSWORD)
    assert second == first
    assert (Unit.objects.count(), User.objects.count(), Membership.objects.count(),
            AuditEntry.objects.count()) == counts


def test_seed_picks_up_territory_loaded_later(territory):
    from huying.territory.models import Grid

    demo_org_seed(password=PASSWORD)
    before = Unit.objects.count()
    g = territory.grid["440104003001001"]
    Grid.objects.create(code="440104003001003", name="流水井社区第3网格", community=g.community,
                        geometry=g.geometry, lng=g.lng, lat=g.lat)
    demo_org_seed(password=PASSWORD)
    assert Unit.objects.count() == before + 1
    assert Unit.objects.get(code="grid-440104003001003").parent.code == "gov-440104003001"
    assert AuditEntry.objects.filter(action="people.unit.seeded").count() == 2


def test_seed_without_the_demo_street_still_gives_every_role_a_unit(db):
    from huying.territory.models import Division

    city = Division.objects.create(code="440100", name="广州市", level="city", kind="市")
    district = Division.objects.create(code="440114", name="花都区", level="district", kind="区", parent=city)
    Division.objects.create(code="440114100", name="花山镇", level="street", kind="镇", parent=district)
    logins = demo_org_seed(password=PASSWORD)
    assert {row["role"] for row in logins} == set(RoleCode.values)
    dispatcher = next(r for r in logins if r["role"] == "dispatcher")
    assert dispatcher["unit"] == "花山镇人民政府"
