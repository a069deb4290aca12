"""Set-up pages of the co-governance projects: a manager opens a lift project on a building of their
community, registers owners one by one or from an Excel/CSV file (all or nothing, bad rows named),
opens/edits a canteen, enrols diners and records meals, opens a renovation and lists partner units.
Bad input answers 400 with the message and loses nothing; another community's objects answer 404."""

import io
from decimal import Decimal

import pytest

from huying.community import projects as svc
from huying.community.models import (
    Canteen,
    CanteenEnrolment,
    CanteenMeal,
    LiftOwner,
    LiftProject,
    LiftState,
    Renovation,
    RenovationContribution,
)
from huying.core.models import AuditEntry

from .projects_setup import lift_with_owners, pc  # noqa: F401

M = "/community/projects/manage"


@pytest.fixture
def other_building(pc):  # noqa: F811
    from huying.territory.models import Building

    return Building.objects.create(code="B-LC-1", grid=pc.grid["440104003002001"], address="龙藏街8号",
                                   lng=113.282, lat=23.127, households=4)


def _page(r) -> str:
    return r.content.decode()


def _csv(text: str, name="owners.csv"):
    f = io.BytesIO(text.encode("utf-8"))
    f.name = name
    return f


def _xlsx(rows, name="owners.xlsx"):
    from openpyxl import Workbook

    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    f = io.BytesIO()
    wb.save(f)
    f.seek(0)
    f.name = name
    return f


def _new_lift(client, pc, **post):  # noqa: F811
    data = {"building": pc.building.pk, "title": "流水井12号加装电梯", "total_cost": "360000"}
    data.update(post)
    return client.post(f"{M}/lift/new/", data)


# -- lift: create ---------------------------------------------------------------------------------------

def test_manage_page_links_the_set_up_pages(pc, client):  # noqa: F811
    client.force_login(pc.lsj_worker)
    page = _page(client.get(f"{M}/"))
    for href in (f"{M}/lift/new/", f"{M}/canteen/new/", f"{M}/renovation/new/"):
        assert href in page


def test_building_search_is_scoped_and_bounded(pc, client, other_building):  # noqa: F811
    from huying.territory.models import Building

    Building.objects.bulk_create([Building(code=f"B-LSJ-X{i}", grid=pc.grid["440104003001002"],
                                           address=f"流水井横街{i}号", lng=113.27, lat=23.12) for i in range(30)])
    client.force_login(pc.lsj_worker)
    page = _page(client.get(f"{M}/lift/new/", {"q": "流水井"}))
    assert "流水井12号" in page and page.count('name="building"') == 20   # at most 20, never thousands
    page = _page(client.get(f"{M}/lift/new/", {"q": "龙藏"}))
    assert "龙藏街8号" not in page and 'id="no-buildings"' in page       # another community's building
    assert 'name="building"' not in _page(client.get(f"{M}/lift/new/"))  # nothing listed before a search


def test_create_lift_project_from_the_page(pc, client):  # noqa: F811
    client.force_login(pc.lsj_worker)
    r = _new_lift(client, pc)
    project = LiftProject.objects.get()
    assert r.status_code == 302 and r["Location"] == f"{M}/lift/{project.pk}/owners/"
    assert (project.building, project.community.code, project.total_cost) == (
        pc.building, "440104003001", Decimal("360000.00"))
    assert AuditEntry.objects.filter(action="community.lift.created").count() == 1


@pytest.mark.parametrize("post, message", [
    ({"title": "  "}, "请填写项目名称"),
    ({"total_cost": "-5"}, "总造价须为不小于 0 的金额"),
    ({"total_cost": "abc"}, "总造价须为不小于 0 的金额"),
    ({"total_cost": "1.234"}, "总造价须为不小于 0 的金额"),
    ({"total_cost": "1e20"}, "总造价须为不小于 0 的金额"),
    ({"building": ""}, "请先搜索并选择楼栋"),
])
def test_create_lift_bad_input(pc, client, post, message):  # noqa: F811
    client.force_login(pc.lsj_worker)
    r = _new_lift(client, pc, **post)
    assert r.status_code == 400 and message in _page(r)
    assert not LiftProject.objects.exists()
    if "title" not in post:
        assert "流水井12号加装电梯" in _page(r)   # what was typed is kept


def test_create_lift_nul_in_title_refused(pc, client):  # noqa: F811
    client.force_login(pc.lsj_worker)
    r = _new_lift(client, pc, title="电梯\x00")
    assert r.status_code == 400 and "空字符" in _page(r)
    assert not LiftProject.objects.exists()


def test_create_lift_scope(pc, client, other_building):  # noqa: F811
    client.force_login(pc.lsj_worker)
    assert _new_lift(client, pc, building=other_building.pk).status_code == 404   # 龙藏's building
    client.force_login(pc.owner1)   # a resident manages nothing
    assert client.get(f"{M}/lift/new/").status_code == 403
    assert _new_lift(client, pc).status_code == 403
    assert not LiftProject.objects.exists()


# -- lift: owners ---------------------------------------------------------------------------------------

def _owner(client, project, **post):
    data = {"action": "add", "flat": "301", "floor": "3", "area_m2": "80.5", "name": "张三", "phone": "13712345678"}
    data.update(post)
    return client.post(f"{M}/lift/{project.pk}/owners/", data)


def test_add_owner_and_phone_masked(pc, client):  # noqa: F811
    client.force_login(pc.lsj_worker)
    _new_lift(client, pc)
    project = LiftProject.objects.get()
    r = _owner(client, project)
    assert r.status_code == 302
    owner = project.owners.get()
    assert (owner.flat, owner.floor, owner.area_m2, owner.phone, owner.user) == (
        "301", 3, Decimal("80.50"), "13712345678", None)
    page = _page(client.get(f"{M}/lift/{project.pk}/owners/"))
    assert "137****5678" in page and "13712345678" not in page
    # the whole number is on the page where the manager calls owners about the vote
    assert "13712345678" in _page(client.get(f"{M}/lift/{project.pk}/"))
    # residents see the project only masked
    client.force_login(pc.owner1)
    assert "13712345678" not in _page(client.get("/community/projects/"))


@pytest.mark.parametrize("post, message", [
    ({"flat": ""}, "请填写房号"),
    ({"name": " "}, "请填写业主姓名"),
    ({"area_m2": "0"}, "面积须为大于 0"),
    ({"area_m2": "-3"}, "面积须为大于 0"),
    ({"area_m2": "八十"}, "面积须为大于 0"),
    ({"area_m2": "1000000"}, "面积须为大于 0"),
    ({"floor": "0"}, "楼层须为 1–200"),
    ({"floor": "2.5"}, "楼层须为 1–200"),
    ({"phone": "12345"}, "手机号应为"),
    ({"flat": "x" * 31}, "不能超过 30 个字符"),
])
def test_add_owner_bad_input(pc, client, post, message):  # noqa: F811
    client.force_login(pc.lsj_worker)
    project = lift_with_owners(pc, [70])
    r = _owner(client, project, **post)
    assert r.status_code == 400 and message in _page(r)
    assert project.owners.count() == 1
    typed = {"flat": "301", "name": "张三"}
    for key, value in typed.items():
        if key not in post:
            assert f'value="{value}"' in _page(r)   # nothing typed is lost


def test_add_owner_nul_and_duplicate_flat(pc, client):  # noqa: F811
    client.force_login(pc.lsj_worker)
    project = lift_with_owners(pc, [70])
    assert _owner(client, project, name="张\x00三").status_code == 400
    r = _owner(client, project, flat="101")   # lift_with_owners registered 101
    assert r.status_code == 409 and "房号 101 已登记" in _page(r)
    assert list(project.owners.values_list("flat", flat=True)) == ["101"]


def test_owners_closed_once_works_start(pc, client):  # noqa: F811
    project = lift_with_owners(pc, [70])
    LiftProject.objects.filter(pk=project.pk).update(state=LiftState.WORKS)
    client.force_login(pc.lsj_worker)
    r = _owner(client, project)
    assert r.status_code == 409 and "不能再登记业主" in _page(r)


def test_owner_pages_scope(pc, client):  # noqa: F811
    project = lift_with_owners(pc, [70])
    client.force_login(pc.lc_worker)   # 龙藏's worker
    assert client.get(f"{M}/lift/{project.pk}/owners/").status_code == 404
    assert _owner(client, project).status_code == 404
    assert client.post(f"{M}/lift/{project.pk}/owners/", {"action": "import", "file": _csv(
        "单元/房号,楼层,面积(平方米),业主姓名\n301,3,80,张三\n")}).status_code == 404
    assert project.owners.count() == 1


def test_import_csv_and_xlsx(pc, client):  # noqa: F811
    client.force_login(pc.lsj_worker)
    _new_lift(client, pc)
    project = LiftProject.objects.get()
    r = client.post(f"{M}/lift/{project.pk}/owners/", {"action": "import", "file": _csv(
        "单元/房号,楼层,面积(平方米),业主姓名,联系电话\n101,1,70,甲,\n201,2,75.5,乙,13900000004\n")})
    assert r.status_code == 302
    r = client.post(f"{M}/lift/{project.pk}/owners/", {"action": "import", "file": _xlsx([
        ["房号", "楼层", "面积（平方米）", "姓名", "手机号"], ["301", 3, 80.25, "丙", 13712340000], [None] * 5])})
    assert r.status_code == 302
    owners = {o.flat: o for o in project.owners.all()}
    assert set(owners) == {"101", "201", "301"}
    assert owners["301"].area_m2 == Decimal("80.25") and owners["301"].phone == "13712340000"
    assert owners["201"].user == pc.owner2   # the phone of 流水井's resident owner2: linked, may vote
    assert AuditEntry.objects.filter(action="community.lift.owners_imported").count() == 2


def test_import_bad_rows_all_or_nothing(pc, client):  # noqa: F811
    client.force_login(pc.lsj_worker)
    project = lift_with_owners(pc, [70])   # flat 101 registered
    r = client.post(f"{M}/lift/{project.pk}/owners/", {"action": "import", "file": _csv(
        "单元/房号,楼层,面积(平方米),业主姓名,联系电话\n"
        "201,2,75,乙,\n"          # row 2 good
        "301,3,-80,丙,\n"         # row 3: negative area
        "101,1,70,丁,\n"          # row 4: flat already registered
        "401,4,80,戊\x00,\n"      # row 5: NUL in a cell
        "201,2,75,己,\n"          # row 6: duplicate of row 2
        "501,x,80,庚,1234\n")})   # row 7: floor and phone
    page = _page(r)
    assert r.status_code == 400 and "未登记任何业主" in page
    table = page.split('id="import-error-table"')[1]
    for row, text in (("3", "面积须为大于 0"), ("4", "房号 101 已登记"), ("5", "空字符"),
                      ("6", "与第 2 行的房号重复"), ("7", "楼层须为")):
        assert f"<tr><td>{row}</td>" in table and text in table
    assert "<tr><td>2</td>" not in table
    assert list(project.owners.values_list("flat", flat=True)) == ["101"]   # nothing imported


@pytest.mark.parametrize("file, message", [
    (_csv("房号,业主姓名\n101,甲\n"), "缺少列"),
    (_csv("单元/房号,楼层,面积(平方米),业主姓名\n"), "没有业主数据"),
    (_csv("x", name="owners.txt"), "请上传 .xlsx 或 .csv 文件"),
    (_csv("not a workbook", name="owners.xlsx"), "无法读取该 Excel 文件"),
])
def test_import_bad_files(pc, client, file, message):  # noqa: F811
    client.force_login(pc.lsj_worker)
    project = lift_with_owners(pc, [70])
    r = client.post(f"{M}/lift/{project.pk}/owners/", {"action": "import", "file": file})
    assert r.status_code == 400 and message in _page(r)
    assert project.owners.count() == 1


def test_import_template_downloads(pc, client):  # noqa: F811
    from openpyxl import load_workbook

    client.force_login(pc.lsj_worker)
    r = client.get(f"{M}/lift/owners-template.xlsx")
    header = next(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert r.status_code == 200 and header == ("单元/房号", "楼层", "面积(平方米)", "业主姓名", "联系电话")


# -- art. 278 on a project set up from the pages ----------------------------------------------------------

def _project_from_pages(client, pc, areas):  # noqa: F811
    client.force_login(pc.lsj_worker)
    _new_lift(client, pc)
    project = LiftProject.objects.get()
    rows = "".join(f"{i}01,{i},{a},业主{i},{getattr(pc, f'owner{i}').phone}\n" for i, a in enumerate(areas, start=1))
    assert client.post(f"{M}/lift/{project.pk}/owners/", {"action": "import", "file": _csv(
        "单元/房号,楼层,面积(平方米),业主姓名,联系电话\n" + rows)}).status_code == 302
    return project


def _vote(client, pc, project, i, vote):  # noqa: F811
    owner = project.owners.get(flat=f"{i}01")
    client.force_login(getattr(pc, f"owner{i}"))
    assert client.post(f"/community/projects/lift/{project.pk}/", {"owner": owner.pk, "vote": vote}).status_code == 302


def test_art_278_passes_on_a_project_set_up_from_pages(pc, client):  # noqa: F811
    project = _project_from_pages(client, pc, [70, 70, 80, 80, 90, 110])
    for i in (1, 2, 3, 4):
        _vote(client, pc, project, i, "agree")
    _vote(client, pc, project, 5, "abstain")
    # 5 of 6 and 390 of 500 m² take part; 4 of 5 and 300 of 390 m² agree
    tally = svc.project_tally(project)
    assert tally.passed
    client.force_login(pc.lsj_worker)
    assert client.post(f"{M}/lift/{project.pk}/advance/").status_code == 302   # design → approval
    r = client.post(f"{M}/lift/{project.pk}/advance/", follow=True)           # approval → works
    assert "项目已进入下一阶段" in _page(r)
    project.refresh_from_db()
    assert project.state == LiftState.WORKS


def test_art_278_fails_by_area_on_a_project_set_up_from_pages(pc, client):  # noqa: F811
    project = _project_from_pages(client, pc, [60, 60, 60, 60, 60, 200])
    for i in (1, 2, 3, 4, 5):
        _vote(client, pc, project, i, "agree")
    _vote(client, pc, project, 6, "disagree")
    tally = svc.project_tally(project)
    assert tally.consent_number_met and not tally.consent_area_met and not tally.passed
    client.force_login(pc.lsj_worker)
    client.post(f"{M}/lift/{project.pk}/advance/")
    r = client.post(f"{M}/lift/{project.pk}/advance/", follow=True)
    assert "第二百七十八条" in _page(r)
    project.refresh_from_db()
    assert project.state == LiftState.APPROVAL and project.owners.count() == 6   # nothing lost


# -- the existing manage pages with bad input ------------------------------------------------------------

def test_existing_lift_manage_bad_input(pc, client):  # noqa: F811
    project = lift_with_owners(pc, [70, 80])
    client.force_login(pc.lsj_worker)
    assert client.get(f"{M}/lift/999999/").status_code == 404
    assert client.get(f"{M}/lift/{project.pk}/advance/").status_code == 405   # a GET changes nothing
    assert client.post(f"{M}/lift/{project.pk}/", {"title": "x"}).status_code == 405
    assert client.post(f"{M}/lift/{project.pk}/advance/", {"x": "\x00"}).status_code == 400
    project.refresh_from_db()
    assert project.state == LiftState.DESIGN and project.owners.count() == 2
    client.force_login(pc.lc_worker)
    assert client.post(f"{M}/lift/{project.pk}/advance/").status_code == 404
    project.refresh_from_db()
    assert project.state == LiftState.DESIGN


def test_existing_canteen_and_renovation_manage_bad_input(pc, client):  # noqa: F811
    canteen = svc.canteen_create(pc.div["440104003001"], name="流水井长者饭堂", actor=pc.lsj_worker)
    svc.canteen_enrol(canteen, name="老王", age=82, actor=pc.lsj_worker)
    renovation = svc.renovation_create(pc.div["440104003001"], title="口袋公园", actor=pc.lsj_worker)
    client.force_login(pc.lsj_worker)
    assert client.post(f"{M}/canteen/{canteen.pk}/", {"name": "x"}).status_code == 405
    assert client.get(f"{M}/canteen/{canteen.pk}/", {"q": "\x00"}).status_code == 400
    for progress in ("abc", "150", ""):
        r = client.post(f"{M}/renovation/{renovation.pk}/", {"stage": "design", "progress": progress}, follow=True)
        assert "进度须为 0–100" in _page(r)
    r = client.post(f"{M}/renovation/{renovation.pk}/", {"stage": "nonsense", "progress": "10"}, follow=True)
    assert "请选择阶段" in _page(r)
    renovation.refresh_from_db()
    canteen.refresh_from_db()
    assert (renovation.progress, canteen.name, canteen.enrolments.count()) == (0, "流水井长者饭堂", 1)
    client.force_login(pc.lc_worker)
    assert client.get(f"{M}/canteen/{canteen.pk}/").status_code == 404
    assert client.post(f"{M}/renovation/{renovation.pk}/", {"stage": "works", "progress": "50"}).status_code == 404


# -- canteens ---------------------------------------------------------------------------------------------

def test_canteen_create_edit_enrol_serve(pc, client):  # noqa: F811
    client.force_login(pc.lsj_worker)
    r = client.post(f"{M}/canteen/new/", {"name": "流水井长者饭堂", "address": "流水井3号", "meal_price": "12.5",
                                         "operator": pc.agency.pk})
    canteen = Canteen.objects.get()
    assert r.status_code == 302 and r["Location"] == f"{M}/canteen/{canteen.pk}/diners/"
    assert (canteen.community.code, canteen.operator, canteen.meal_price) == ("440104003001", pc.agency, Decimal("12.50"))
    r = client.post(f"{M}/canteen/{canteen.pk}/edit/", {"name": "流水井长者食堂", "address": "流水井5号",
                                                       "meal_price": "15", "operator": ""})
    canteen.refresh_from_db()
    assert r.status_code == 302 and (canteen.name, canteen.operator, canteen.meal_price) == (
        "流水井长者食堂", None, Decimal("15.00"))
    assert AuditEntry.objects.filter(action="community.canteen.updated").count() == 1
    for name, age, kind in (("老王", "82", "ordinary"), ("李婆婆", "70", "destitute")):
        r = client.post(f"{M}/canteen/{canteen.pk}/diners/", {"action": "enrol", "name": name, "age": age,
                                                              "household_type": kind, "phone": "13812345678"})
        assert r.status_code == 302
    page = _page(client.get(f"{M}/canteen/{canteen.pk}/diners/"))
    assert "138****5678" in page and "13812345678" not in page and "李婆婆" in page
    ids = list(canteen.enrolments.values_list("pk", flat=True))
    r = client.post(f"{M}/canteen/{canteen.pk}/diners/", {"action": "serve", "served_on": "2026-01-05",
                                                          "diners": ids})
    assert r.status_code == 302
    r = client.post(f"{M}/canteen/{canteen.pk}/diners/", {"action": "serve", "served_on": "2026-01-05",
                                                          "diners": ids[:1]}, follow=True)
    assert "1 人当天已记录" in _page(r)
    meals = CanteenMeal.objects.filter(canteen=canteen)
    assert meals.count() == 2
    assert sorted(m.subsidy for m in meals) == [Decimal("5.00"), Decimal("15.00")]   # by the data rules


@pytest.mark.parametrize("post, message", [
    ({"name": ""}, "请填写名称"),
    ({"meal_price": "-1"}, "每餐价格须为不小于 0"),
    ({"meal_price": "cheap"}, "每餐价格须为不小于 0"),
    ({"operator": "enterprise-of-another-kind"}, None),
])
def test_canteen_create_bad_input(pc, client, post, message):  # noqa: F811
    from huying.people.models import Unit

    client.force_login(pc.lsj_worker)
    data = {"name": "流水井长者饭堂", "address": "流水井3号", "meal_price": "12"}
    if post.get("operator"):
        post = {"operator": Unit.objects.get(code="gov-440104003002").pk}   # a committee is no operator
        message = "须为企事业单位或社会服务机构"
    data.update(post)
    r = client.post(f"{M}/canteen/new/", data)
    assert r.status_code == 400 and message in _page(r)
    assert not Canteen.objects.exists()
    assert 'value="流水井3号"' in _page(r)


@pytest.mark.parametrize("post, message", [
    ({"name": ""}, "请填写姓名"),
    ({"age": "abc"}, "请填写正确的年龄"),
    ({"age": "200"}, "请填写正确的年龄"),
    ({"household_type": "rich"}, "选择一个有效的选项"),
    ({"phone": "999"}, "手机号应为"),
])
def test_enrol_bad_input(pc, client, post, message):  # noqa: F811
    canteen = svc.canteen_create(pc.div["440104003001"], name="饭堂", actor=pc.lsj_worker)
    client.force_login(pc.lsj_worker)
    data = {"action": "enrol", "name": "老王", "age": "80", "household_type": "ordinary", "phone": ""}
    data.update(post)
    r = client.post(f"{M}/canteen/{canteen.pk}/diners/", data)
    assert r.status_code == 400 and message in _page(r)
    assert not CanteenEnrolment.objects.exists()


def test_serve_bad_input_and_scope(pc, client):  # noqa: F811
    from datetime import timedelta

    from django.utils import timezone

    canteen = svc.canteen_create(pc.div["440104003001"], name="饭堂", actor=pc.lsj_worker)
    other = svc.canteen_create(pc.div["440104003002"], name="龙藏饭堂", actor=pc.lc_worker)
    mine = svc.canteen_enrol(canteen, name="老王", age=80, actor=pc.lsj_worker)
    theirs = svc.canteen_enrol(other, name="老李", age=80, actor=pc.lc_worker)
    client.force_login(pc.lsj_worker)
    url = f"{M}/canteen/{canteen.pk}/diners/"
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    for data, message in (({"served_on": tomorrow, "diners": [mine.pk]}, "不能晚于今天"),
                          ({"served_on": "2026-13-40", "diners": [mine.pk]}, "请填写就餐日期"),
                          ({"served_on": "2026-01-05"}, "请勾选就餐的长者"),
                          ({"served_on": "2026-01-05", "diners": [mine.pk, theirs.pk]}, "找不到该就餐人")):
        r = client.post(url, {"action": "serve", **data})
        assert r.status_code == 400 and message in _page(r)
    assert not CanteenMeal.objects.exists()
    for path in (f"{M}/canteen/{other.pk}/diners/", f"{M}/canteen/{other.pk}/edit/"):
        assert client.get(path).status_code == 404
    assert client.post(f"{M}/canteen/{other.pk}/edit/", {"name": "改名", "meal_price": "1"}).status_code == 404
    other.refresh_from_db()
    assert other.name == "龙藏饭堂"


# -- micro-renovation ---------------------------------------------------------------------------------------

def test_renovation_create_and_partners(pc, client):  # noqa: F811
    client.force_login(pc.lsj_worker)
    r = client.post(f"{M}/renovation/new/", {"title": "流水井口袋公园"})
    renovation = Renovation.objects.get()
    assert r.status_code == 302 and renovation.community.code == "440104003001"
    page = _page(client.get(f"{M}/renovation/{renovation.pk}/partners/", {"q": "物业"}))
    assert "广州某物业服务有限公司" in page and "社会工作服务中心" not in page
    r = client.post(f"{M}/renovation/{renovation.pk}/partners/", {"unit": pc.enterprise.pk, "what": "捐赠座椅 20 张",
                                                                  "amount": "8000"})
    assert r.status_code == 302
    c = RenovationContribution.objects.get()
    assert (c.unit, c.what, c.amount) == (pc.enterprise, "捐赠座椅 20 张", Decimal("8000.00"))
    assert "捐赠座椅 20 张" in _page(client.get(f"{M}/renovation/{renovation.pk}/"))


@pytest.mark.parametrize("post, message", [
    ({"what": ""}, "请填写贡献内容"),
    ({"amount": "-100"}, "折合金额须为不小于 0"),
    ({"unit": ""}, "请选择共建单位"),
    ({"unit": "committee"}, "须为企事业单位或社会服务机构"),
])
def test_contribution_bad_input(pc, client, post, message):  # noqa: F811
    renovation = svc.renovation_create(pc.div["440104003001"], title="口袋公园", actor=pc.lsj_worker)
    client.force_login(pc.lsj_worker)
    data = {"unit": pc.enterprise.pk, "what": "捐赠座椅", "amount": "100"}
    data.update(post)
    if data["unit"] == "committee":
        data["unit"] = pc.lc.pk
    r = client.post(f"{M}/renovation/{renovation.pk}/partners/", data)
    assert r.status_code == 400 and message in _page(r)
    assert not RenovationContribution.objects.exists()


def test_renovation_bad_input_and_scope(pc, client):  # noqa: F811
    client.force_login(pc.lsj_worker)
    r = client.post(f"{M}/renovation/new/", {"title": ""})
    assert r.status_code == 400 and "请填写项目名称" in _page(r)
    assert client.post(f"{M}/renovation/new/", {"title": "公园\x00"}).status_code == 400
    assert not Renovation.objects.exists()
    theirs = svc.renovation_create(pc.div["440104003002"], title="龙藏口袋公园", actor=pc.lc_worker)
    assert client.get(f"{M}/renovation/{theirs.pk}/partners/").status_code == 404
    assert client.post(f"{M}/renovation/{theirs.pk}/partners/", {"unit": pc.enterprise.pk, "what": "x",
                                                                 "amount": "1"}).status_code == 404
    assert not RenovationContribution.objects.exists()


def test_owner_ids_only_from_managed_projects(pc, client):  # noqa: F811
    """LiftOwner rows are never touched through another project's page."""
    project = lift_with_owners(pc, [70])
    client.force_login(pc.lsj_worker)
    assert client.post(f"{M}/lift/{project.pk}/owners/", {"action": "bogus"}).status_code == 400
    assert LiftOwner.objects.count() == 1
