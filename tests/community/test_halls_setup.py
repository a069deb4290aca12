"""Setting up a hall through its pages: opening a hall (scope, one per community), the vote rules in
percent, the roll from a file, a matter handed to dispatch as a work order, and the community's
hot-issue groups brought to the hall as matters. Another community's hall answers 404."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from huying.community import halls
from huying.community.models import Hall, HallVoter, Matter, MatterStatus, RaiserKind
from huying.core.models import AuditEntry

from . import halls_setup

hc = halls_setup.hc  # the shared fixture

pytestmark = pytest.mark.django_db

POINT = {"lng": 113.271, "lat": 23.126}  # 流水井's first grid
RULES = {"quorum_share": "60", "pass_share": "66.7", "secret": "1", "per_household": "0"}


def _rules(hall):
    hall.refresh_from_db()
    return (hall.quorum_share, hall.pass_share, hall.secret, hall.per_household)


# ---- rules ------------------------------------------------------------------------------------------

def test_rules_form_in_percent(client, hc):
    client.force_login(hc.user.convener)
    page = client.get(f"/community/halls/manage/{hc.hall.pk}/").content.decode()
    assert 'id="rules-form"' in page and 'value="50"' in page
    r = client.post(f"/community/halls/setup/{hc.hall.pk}/rules/", RULES)
    assert r.status_code == 302 and r.url == f"/community/halls/manage/{hc.hall.pk}/"
    assert _rules(hc.hall) == (Decimal("0.600"), Decimal("0.667"), True, False)
    assert AuditEntry.objects.filter(action="community.hall.rules_set").count() == 1
    page = client.get(f"/community/halls/manage/{hc.hall.pk}/").content.decode()
    assert 'value="66.7"' in page and "法定人数比例 60%" in page and "每人一票" in page and "无记名" in page
    # a vote opened now copies the new rules
    m = halls.matter_raise(hc.hall, title="加装电梯", actor=hc.user.amy)
    v = halls.vote_open(m, question="是否同意", actor=hc.user.convener)
    assert (v.quorum_share, v.pass_share, v.secret, v.per_household) == (Decimal("0.600"), Decimal("0.667"), True, False)


@pytest.mark.parametrize("field,value,message", [
    ("quorum_share", "0", "比例应大于 0%，不超过 100%。"),
    ("pass_share", "101", "比例应大于 0%，不超过 100%。"),
    ("quorum_share", "一半", "请填写数字（百分比）。"),
    ("pass_share", "NaN", "比例应大于 0%，不超过 100%。"),
    ("pass_share", "", "请填写通过比例。"),
    ("quorum_share", "5\x000", "无法保存的字符"),  # refused before the page, by the middleware
    ("secret", "2", "请选择投票方式。"),
])
def test_bad_rules_change_nothing(client, hc, field, value, message):
    client.force_login(hc.user.convener)
    before = _rules(hc.hall)
    r = client.post(f"/community/halls/setup/{hc.hall.pk}/rules/", {**RULES, field: value})
    assert r.status_code == 400
    page = r.content.decode()
    assert message in page and ('class="field-error"' in page or "\x00" in value)
    assert _rules(hc.hall) == before
    assert not AuditEntry.objects.filter(action="community.hall.rules_set").exists()


def test_rules_scope(client, hc):
    before = _rules(hc.hall)
    for user in (hc.user.lc_convener, hc.user.amy):  # another community's convener; a resident on the roll
        client.force_login(user)
        assert client.post(f"/community/halls/setup/{hc.hall.pk}/rules/", RULES).status_code == 404
        assert client.get(f"/community/halls/setup/{hc.hall.pk}/rules/").status_code == 404
    assert _rules(hc.hall) == before


# ---- opening a hall -----------------------------------------------------------------------------------

def _staff(hc, username, division_code, role):
    from huying.people.models import UnitKind
    from huying.people.services import membership_grant, unit_create, user_create

    unit = unit_create(code=f"gov-{division_code}-{username}", name=f"{username}单位", kind=UnitKind.TERRITORIAL,
                       division=hc.div[division_code], actor=None)
    user = user_create(username=username, password="x", actor=None, check_password=False)
    membership_grant(user, unit=unit, role_code=role, actor=None)
    return user, unit


def test_street_staff_open_a_hall_in_their_scope_once(client, hc):
    from huying.people.models import RoleCode, UnitKind
    from huying.people.services import unit_create

    street, _unit = _staff(hc, "street_leader", "440104004", RoleCode.UNIT_LEADER)  # 六榕街
    committee = unit_create(code="gov-440104004001", name="旧南海县社区居民委员会", kind=UnitKind.TERRITORIAL,
                            division=hc.div["440104004001"], actor=None)
    client.force_login(street)
    page = client.get("/community/halls/setup/").content.decode()
    assert "旧南海县社区居民委员会" in page and "流水井" not in page, page  # 北京街's communities are not theirs
    assert client.get("/community/halls/setup/new/440104003002/").status_code == 404  # 龙藏 (another street; has one)
    # a unit of another community is not offered and is refused
    r = client.post("/community/halls/setup/new/440104004001/",
                    {"convener_unit": hc.unit.lsj.pk, "quorum_share": "50", "pass_share": "50", "secret": "0",
                     "per_household": "1"})
    assert r.status_code == 400 and "请选择本社区的单位。" in r.content.decode()
    r = client.post("/community/halls/setup/new/440104004001/",
                    {"convener_unit": committee.pk, "name": "", "quorum_share": "40", "pass_share": "50",
                     "secret": "0", "per_household": "1"})
    assert r.status_code == 302
    hall = Hall.objects.get(division__code="440104004001")
    assert hall.convener_unit == committee and hall.quorum_share == Decimal("0.400")
    assert hall.name == "旧南海县社区居民委员会议事厅"
    assert AuditEntry.objects.filter(action="community.hall.created", target_id=str(hall.pk)).exists()
    # a second hall for the same community: the page is gone (404) and nothing is created
    r = client.post("/community/halls/setup/new/440104004001/",
                    {"convener_unit": committee.pk, "quorum_share": "50", "pass_share": "50", "secret": "0",
                     "per_household": "1"})
    assert r.status_code == 404 and Hall.objects.filter(division__code="440104004001").count() == 1


def test_hall_creation_refused_for_residents_and_bad_rules(client, hc):
    from huying.people.models import RoleCode

    client.force_login(hc.user.amy)
    assert "旧南海县" not in client.get("/community/halls/setup/").content.decode()
    assert client.get("/community/halls/setup/new/440104004001/").status_code == 404
    street, unit = _staff(hc, "lr_worker", "440104004001", RoleCode.COMMUNITY_WORKER)
    client.force_login(street)
    r = client.post("/community/halls/setup/new/440104004001/",
                    {"convener_unit": unit.pk, "quorum_share": "0", "pass_share": "50", "secret": "0",
                     "per_household": "1"})
    assert r.status_code == 400 and "比例应大于 0%" in r.content.decode()
    assert not Hall.objects.filter(division__code="440104004001").exists()
    # the community's worker manages the hall they opened for their committee: on to its page
    r = client.post("/community/halls/setup/new/440104004001/",
                    {"convener_unit": unit.pk, "quorum_share": "50", "pass_share": "50", "secret": "1",
                     "per_household": "1"})
    hall = Hall.objects.get(division__code="440104004001")
    assert r.url == f"/community/halls/manage/{hall.pk}/" and hall.secret


def test_setup_is_linked_from_the_manage_index(client, hc):
    from huying.people.models import RoleCode

    user, _unit = _staff(hc, "lr_convener", "440104004001", RoleCode.CONVENER)
    client.force_login(user)
    page = client.get("/community/halls/manage/").content.decode()
    assert 'href="/community/halls/setup/"' in page


# ---- the roll from a file --------------------------------------------------------------------------------

def _csv(text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("roll.csv", text.encode("utf-8"), content_type="text/csv")


def test_roll_import_all_or_nothing(client, hc):
    from huying.people.models import RoleCode
    from huying.people.services import membership_grant, user_create

    eve = user_create(username="eve", password="x", phone="13900009999", actor=None, check_password=False)
    membership_grant(eve, unit=hc.unit.lsj, role_code=RoleCode.RESIDENT, actor=None)
    client.force_login(hc.user.convener)
    url = f"/community/halls/setup/{hc.hall.pk}/roll/"
    assert "账号、手机号、户" in client.get(url).content.decode()
    before = HallVoter.objects.filter(hall=hc.hall).count()
    bad = "账号,手机号,户\n,13900009999,文德路1号\nnobody,,文德路2号\noutsider,,仓边路8号\ncat,,\n"
    r = client.post(url, {"file": _csv(bad)})
    page = r.content.decode()
    assert r.status_code == 400 and "第 3、4、5 行有错误" in page and "找不到该账号" in page
    assert "该人员不是本社区的居民或党员" in page and "必填" in page
    assert HallVoter.objects.filter(hall=hc.hall).count() == before and not HallVoter.objects.filter(user=eve).exists()
    r = client.post(url, {"file": _csv("账号,手机号,户\n,13900009999,文德路1号\ncat,,文德路12号303\n")})
    assert r.status_code == 302
    assert HallVoter.objects.get(hall=hc.hall, user=eve).household == "文德路1号"
    assert HallVoter.objects.get(hall=hc.hall, user=hc.user.cat).household == "文德路12号303"
    assert AuditEntry.objects.filter(action="community.hall.roll_imported").count() == 1
    r = client.post(url, {"file": _csv("姓名\n张三\n")})
    assert r.status_code == 400 and "缺少列" in r.content.decode()
    r = client.post(url, {"file": _csv("账号,户\nc\x00at,文德路\n")})
    assert r.status_code == 400 and "第 2 行" in r.content.decode()
    client.force_login(hc.user.lc_convener)
    assert client.post(url, {"file": _csv("账号,户\ncat,x\n")}).status_code == 404
    assert client.get(f"/community/halls/setup/{hc.hall.pk}/roll/template.csv").status_code == 404


# ---- a matter becomes a work order ------------------------------------------------------------------------

def test_matter_to_work_order_through_the_page(client, hc):
    from huying.dispatch.models import WorkOrder
    from huying.dispatch.seed import dispatch_seed

    dispatch_seed()
    m = halls.matter_raise(hc.hall, title="文德路路灯不亮", body="文德路12号门口路灯坏了", actor=hc.user.amy)
    client.force_login(hc.user.convener)
    page = client.get(f"/community/halls/manage/{hc.hall.pk}/").content.decode()
    url = f"/community/halls/setup/{hc.hall.pk}/matter/{m.pk}/order/"
    assert f'href="{url}"' in page
    form = client.get(url).content.decode()
    assert 'name="subject_root"' in form and "/orders/report/subjects/" in form
    for subject, message in (("NOPE", None), ("", "请选择事项分类。")):
        r = client.post(url, {"subject_root": "", "subject": subject, "address": ""})
        assert r.status_code == 400 and 'class="field-error"' in r.content.decode()
        if message:
            assert message in r.content.decode()
    assert not WorkOrder.objects.exists()
    m.refresh_from_db()
    assert m.status == MatterStatus.OPEN and not m.work_order_code
    r = client.post(url, {"subject_root": "E01", "subject": "E0102", "address": ""})
    import re
    assert r.status_code == 302, re.findall(r'field-error[^>]*>([^<]*)|form-errors[^>]*><p>([^<]*)', r.content.decode())
    order = WorkOrder.objects.get()
    m.refresh_from_db()
    assert order.subject.code == "E0102" and order.channel == "other" and order.area_code.startswith("440104003001")
    assert (m.status, m.work_order_id, m.work_order_code) == (MatterStatus.WORK_ORDER, order.pk, order.code)
    page = client.get(f"/community/halls/manage/{hc.hall.pk}/").content.decode()
    assert order.code in page and f'href="{url}"' not in page
    assert f"/orders/track/?code={order.code}" in page or f"/orders/{order.pk}/" in page
    r = client.post(url, {"subject": "E0102"})  # again: the matter is closed, no second order
    assert r.status_code == 409 and WorkOrder.objects.count() == 1


def test_to_order_scope(client, hc):
    from huying.dispatch.models import WorkOrder

    m = halls.matter_raise(hc.hall, title="路灯", actor=hc.user.amy)
    lc_m = halls.matter_raise(hc.lc_hall, title="龙藏的议题", actor=hc.user.outsider)
    client.force_login(hc.user.lc_convener)
    assert client.post(f"/community/halls/setup/{hc.hall.pk}/matter/{m.pk}/order/",
                       {"subject": "E0102"}).status_code == 404
    client.force_login(hc.user.convener)  # another hall's matter under my hall's address
    assert client.get(f"/community/halls/setup/{hc.hall.pk}/matter/{lc_m.pk}/order/").status_code == 404
    assert client.get(f"/community/halls/setup/{hc.lc_hall.pk}/matter/{lc_m.pk}/order/").status_code == 404
    assert not WorkOrder.objects.exists()


# ---- hot-issue groups become matters -----------------------------------------------------------------------

def _hot_orders(hc, *, n=3, point=POINT, title="文德路井盖缺失"):
    """Alike calls within hours at one place, the way tests/dispatch/test_hot.py makes a hot issue."""
    from huying.dispatch.services import work_order_create

    now = timezone.now()
    titles = [title, title + "，很危险", title + "多日"]
    return [work_order_create(channel="web", subject="Q010101", request_type="complaint", title=titles[i % 3],
                              description=title + "，行人容易跌落", reporter_name="张三",
                              reporter_phone="13812345678", actor=None, idempotency_key=f"hot-{title}-{i}",
                              now=now - timedelta(hours=i + 1), **point)
            for i in range(n)]


def test_hot_group_becomes_a_matter_through_the_page(client, hc):
    from huying.dispatch.seed import dispatch_seed

    dispatch_seed()
    orders = _hot_orders(hc)
    lc_orders = _hot_orders(hc, point={"lng": 113.281, "lat": 23.126}, title="仓边路垃圾堆放")  # 龙藏's hot issue
    client.force_login(hc.user.convener)
    page = client.get(f"/community/halls/manage/{hc.hall.pk}/").content.decode()
    assert "本社区热点诉求" in page and "文德路井盖缺失" in page and "仓边路垃圾" not in page
    assert "13812345678" not in page
    key = f"hot-{min(o.pk for o in orders)}"
    assert f'value="{key}"' in page
    r = client.post(f"/community/halls/setup/{hc.hall.pk}/hot/", {"group": key})
    assert r.status_code == 302
    m = Matter.objects.get(hall=hc.hall, source_key=key)
    assert m.raiser_kind == RaiserKind.HOT_ISSUE and "文德路井盖缺失" in m.title
    assert all(o.code in m.body for o in orders)
    page = client.get(f"/community/halls/manage/{hc.hall.pk}/").content.decode()
    assert "已立为议题" in page and f'value="{key}"' not in page
    client.post(f"/community/halls/setup/{hc.hall.pk}/hot/", {"group": key})  # again: the same matter
    assert Matter.objects.filter(hall=hc.hall, raiser_kind=RaiserKind.HOT_ISSUE).count() == 1
    # another community's group cannot be brought here, nor a made-up key
    lc_key = f"hot-{min(o.pk for o in lc_orders)}"
    for bad in (lc_key, "hot-999999", ""):
        r = client.post(f"/community/halls/setup/{hc.hall.pk}/hot/", {"group": bad}, follow=True)
        assert "已不在本社区的当前热点中" in r.content.decode()
    assert Matter.objects.filter(hall=hc.hall, raiser_kind=RaiserKind.HOT_ISSUE).count() == 1
    # 龙藏's convener sees their own hot issue, not ours, and cannot post to our hall
    client.force_login(hc.user.lc_convener)
    page = client.get(f"/community/halls/manage/{hc.lc_hall.pk}/").content.decode()
    assert "仓边路垃圾" in page and "文德路井盖" not in page
    assert client.post(f"/community/halls/setup/{hc.hall.pk}/hot/", {"group": key}).status_code == 404


def test_other_community_hall_pages_are_404(client, hc):
    client.force_login(hc.user.convener)
    for url in (f"/community/halls/setup/{hc.lc_hall.pk}/rules/", f"/community/halls/setup/{hc.lc_hall.pk}/roll/",
                f"/community/halls/setup/{hc.lc_hall.pk}/roll/template.csv",
                f"/community/halls/manage/{hc.lc_hall.pk}/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/community/halls/setup/{hc.lc_hall.pk}/hot/", {"group": "hot-1"}).status_code == 404
