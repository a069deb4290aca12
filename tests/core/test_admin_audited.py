"""Admin edits of reference data, users, units and divisions go through the apps' services: each
writes one audit row (actor, old → new, reason) in the admin's transaction, and a value the
service refuses is shown on the form and changes nothing (issue 17)."""

from decimal import Decimal

import pytest
from django.forms import MultiWidget
from django.urls import reverse

from huying.core.models import AuditEntry
from huying.dispatch import reference
from huying.dispatch.models import RequestType, RoutingRule, Subject, SubjectKind, TimeUnit
from huying.people import services as people
from huying.people.models import Unit, User
from huying.territory.models import Building, Division
from tests.web.conftest import build_territory

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", password="root-pass-2024")


@pytest.fixture
def admin(client, root):
    client.force_login(root)
    return client


@pytest.fixture
def territory(db):
    return build_territory()


def form_data(client, url: str, **changes) -> dict:
    """The change form's current values as a browser would post them, with `changes` applied."""
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        if isinstance(field.widget, MultiWidget):  # the admin's split date and time
            for i, part in enumerate(field.widget.decompress(value)):
                if part is not None:
                    data[f"{name}_{i}"] = str(part)
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        elif value is not None:
            data[name] = str(value)
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def errors(resp) -> dict:
    assert resp.status_code == 200, resp
    return resp.context["adminform"].form.errors


def only_entry(action: str, obj) -> AuditEntry:
    rows = list(AuditEntry.objects.filter(action=action, target_id=str(obj.pk)))
    assert len(rows) == 1, [r.action for r in AuditEntry.objects.all()]
    return rows[0]


# -- dispatch reference data --------------------------------------------------------------------

@pytest.fixture
def complaint(db):
    return RequestType.objects.create(code="complaint", name="投诉", resolve_limit=Decimal(15),
                                      resolve_unit=TimeUnit.WORK_DAYS, response_limit=Decimal(1))


def test_request_type_deadline_change_is_audited_and_drops_the_cache(admin, root, complaint):
    assert reference.request_type("complaint").resolve_limit == Decimal(15)  # cached now
    url = reverse("admin:dispatch_requesttype_change", args=[complaint.pk])
    resp = admin.post(url, form_data(admin, url, resolve_limit="10", audit_reason="市政府文件缩短时限"))
    assert resp.status_code == 302, errors(resp)
    complaint.refresh_from_db()
    assert complaint.resolve_limit == Decimal(10)
    entry = only_entry("dispatch.request_type.changed", complaint)
    assert entry.actor == root and entry.reason == "市政府文件缩短时限"
    assert entry.old == {"resolve_limit": "15"} and entry.new == {"resolve_limit": "10"}
    assert reference.request_type("complaint").resolve_limit == Decimal(10)


@pytest.mark.parametrize("bad", ["-3", "0", "10000"])
def test_request_type_bad_deadline_is_a_form_error(admin, complaint, bad):
    url = reverse("admin:dispatch_requesttype_change", args=[complaint.pk])
    resp = admin.post(url, form_data(admin, url, resolve_limit=bad))
    assert "时限" in str(errors(resp)["resolve_limit"])
    complaint.refresh_from_db()
    assert complaint.resolve_limit == Decimal(15)
    assert not AuditEntry.objects.filter(action__startswith="dispatch.request_type").exists()


def test_request_type_inline_list_edit_goes_through_the_service(admin, complaint):
    url = reverse("admin:dispatch_requesttype_changelist")
    row = {"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-0-id": str(complaint.pk),
           "form-0-response_limit": "1", "form-0-response_unit": "work_days", "form-0-resolve_unit": "work_days",
           "form-0-active": "on", "_save": "Save"}
    resp = admin.post(url, {**row, "form-0-resolve_limit": "-1"})
    assert resp.status_code == 200 and resp.context["cl"].formset.errors[0]["resolve_limit"]
    assert RequestType.objects.get(pk=complaint.pk).resolve_limit == Decimal(15)
    resp = admin.post(url, {**row, "form-0-resolve_limit": "12"})
    assert resp.status_code == 302
    assert only_entry("dispatch.request_type.changed", complaint).new == {"resolve_limit": "12"}


def test_request_type_add_and_delete_are_audited(admin, root):
    resp = admin.post(reverse("admin:dispatch_requesttype_add"), {
        "code": "praise", "name": "表扬", "sort": "9", "response_limit": "1", "response_unit": "work_days",
        "resolve_limit": "5", "resolve_unit": "work_days", "active": "on"})
    assert resp.status_code == 302, errors(resp)
    praise = RequestType.objects.get(code="praise")
    created = only_entry("dispatch.request_type.created", praise)
    assert created.new["resolve_limit"] == "5" and created.old is None
    resp = admin.post(reverse("admin:dispatch_requesttype_delete", args=[praise.pk]), {"post": "yes"})
    assert resp.status_code == 302
    assert not RequestType.objects.filter(code="praise").exists()
    deleted = AuditEntry.objects.get(action="dispatch.request_type.deleted", target_id=str(praise.pk))
    assert deleted.actor == root and deleted.old["code"] == "praise"


@pytest.fixture
def subjects(db):
    root_ = Subject.objects.create(code="Q01", name="城市管理", kind=SubjectKind.REQUEST)
    leaf = Subject.objects.create(code="Q0101", name="占道经营", kind=SubjectKind.REQUEST, parent=root_, depth=2)
    return root_, leaf


def test_subject_change_is_audited(admin, root, subjects):
    _root, leaf = subjects
    url = reverse("admin:dispatch_subject_change", args=[leaf.pk])
    resp = admin.post(url, form_data(admin, url, name="占道经营（流动摊贩）", duplicate_radius_m="100"))
    assert resp.status_code == 302, errors(resp)
    entry = only_entry("dispatch.subject.changed", leaf)
    assert entry.actor == root
    assert entry.old == {"name": "占道经营", "duplicate_radius_m": None}
    assert entry.new == {"name": "占道经营（流动摊贩）", "duplicate_radius_m": 100}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("code", "Q0201", "上级分类代码"),  # not under its parent's code
    ("resolve_limit", "-2", "时限"),
    ("kind", "event", "类别须与上级分类相同"),
])
def test_subject_bad_value_is_a_form_error(admin, subjects, field, value, message):
    _root, leaf = subjects
    url = reverse("admin:dispatch_subject_change", args=[leaf.pk])
    resp = admin.post(url, form_data(admin, url, **{field: value}))
    assert message in str(errors(resp)[field])
    fresh = Subject.objects.get(pk=leaf.pk)
    assert (fresh.code, fresh.resolve_limit, fresh.kind) == ("Q0101", None, SubjectKind.REQUEST)
    assert not AuditEntry.objects.filter(action__startswith="dispatch.subject").exists()


def test_subject_with_children_keeps_its_code(admin, subjects):
    parent, _leaf = subjects
    url = reverse("admin:dispatch_subject_change", args=[parent.pk])
    resp = admin.post(url, form_data(admin, url, code="Q09"))
    assert "下级分类" in str(errors(resp)["code"])
    assert Subject.objects.get(pk=parent.pk).code == "Q01"


def test_routing_rule_change_is_audited_and_refusals_shown(admin, root, territory, subjects):
    dept = people.unit_create(code="cg", name="城管局", kind="department", actor=root)
    rule = RoutingRule.objects.create(name="占道给城管", subject=subjects[1], target_unit=dept, priority=10)
    url = reverse("admin:dispatch_routingrule_change", args=[rule.pk])
    for field, value, message in [("area_prefix", "999999", "没有代码以"), ("weekdays", "128", "星期"),
                                  ("area_prefix", "44x", "数字")]:
        resp = admin.post(url, form_data(admin, url, **{field: value}))
        assert message in str(errors(resp)[field]), field
    resp = admin.post(url, form_data(admin, url, target_unit=None, target_level=""))
    assert "处置层级" in str(errors(resp)["target_level"])
    assert not AuditEntry.objects.filter(action__startswith="dispatch.routing_rule").exists()
    resp = admin.post(url, form_data(admin, url, area_prefix="440104", weekdays="54321"))
    assert resp.status_code == 302, errors(resp)
    entry = only_entry("dispatch.routing_rule.changed", rule)
    assert entry.old == {"area_prefix": "", "weekdays": ""}
    assert entry.new == {"area_prefix": "440104", "weekdays": "12345"}
    assert [r.area_prefix for r in reference.routing_rules()] == ["440104"]


# -- territory ------------------------------------------------------------------------------------

def _clear_grids(division):
    Building.objects.filter(grid__community=division).delete()
    division.grids.all().delete()


def test_division_name_change_goes_through_the_service(admin, root, territory):
    d = territory["liuhua"]
    url = reverse("admin:territory_division_change", args=[d.pk])
    resp = admin.post(url, form_data(admin, url, name="流花社区（新）", audit_reason="更名公告"))
    assert resp.status_code == 302, errors(resp)
    entry = only_entry("territory.division.changed", d)
    assert entry.actor == root and entry.reason == "更名公告"
    assert entry.old == {"name": "流花社区"} and entry.new == {"name": "流花社区（新）"}


@pytest.mark.parametrize(("code", "message"), [
    ("440104002009", "上级代码 440104001"),  # a community code under 北京街道, not its parent 洪桥街道
    ("44010400100", "12 位数字"),
    ("44010400100a", "12 位数字"),
    ("440104001001", "已被使用"),  # 华侨新村社区's
])
def test_division_code_must_fit_level_parent_and_be_unique(admin, territory, code, message):
    d = territory["liuhua"]
    _clear_grids(d)  # a code with grids under it cannot change at all (next test)
    url = reverse("admin:territory_division_change", args=[d.pk])
    resp = admin.post(url, form_data(admin, url, code=code))
    assert message in str(errors(resp)["code"])
    assert Division.objects.get(pk=d.pk).code == "440104001002"
    assert not AuditEntry.objects.filter(action__startswith="territory.division").exists()


def test_division_code_change_is_audited_and_refused_with_grids_below(admin, territory):
    d = territory["liuhua"]
    url = reverse("admin:territory_division_change", args=[d.pk])
    resp = admin.post(url, form_data(admin, url, code="440104001003"))
    assert "网格" in str(errors(resp)["code"])
    _clear_grids(d)
    resp = admin.post(url, form_data(admin, url, code="440104001003"))
    assert resp.status_code == 302, errors(resp)
    entry = only_entry("territory.division.changed", d)
    assert entry.old == {"code": "440104001002"} and entry.new == {"code": "440104001003"}


def test_division_add_checks_the_parent(admin, territory):
    form = {"code": "440104001003", "name": "新社区", "short_name": "", "level": "community", "kind": "社区",
            "parent": territory["beijing"].pk, "official_code": "on"}
    resp = admin.post(reverse("admin:territory_division_add"), form)
    assert "440104002" in str(errors(resp)["code"])
    resp = admin.post(reverse("admin:territory_division_add"), {**form, "parent": territory["hongqiao"].pk})
    assert resp.status_code == 302, errors(resp)
    new = Division.objects.get(code="440104001003")
    assert only_entry("territory.division.created", new).new["parent"] == territory["hongqiao"].pk


# -- people ---------------------------------------------------------------------------------------

def test_user_change_is_audited_masked_and_bad_phone_refused(admin, root):
    wang = people.user_create(username="wang", password="x", display_name="王芳", actor=root, check_password=False)
    url = reverse("admin:people_user_change", args=[wang.pk])
    resp = admin.post(url, form_data(admin, url, phone="12345"))
    assert "手机号" in str(errors(resp)["phone"])
    assert User.objects.get(pk=wang.pk).phone == ""
    resp = admin.post(url, form_data(admin, url, phone="13800138000", display_name="王芳芳", is_staff="on"))
    assert resp.status_code == 302, errors(resp)
    wang.refresh_from_db()
    assert (wang.phone, wang.display_name, wang.is_staff) == ("13800138000", "王芳芳", True)
    entry = only_entry("people.user.changed", wang)
    assert entry.actor == root
    assert set(entry.new) == {"phone", "display_name", "is_staff"}
    assert entry.old["display_name"] == "王芳" and entry.new["is_staff"] is True
    assert "13800138000" not in str(entry.new) and entry.new["phone"]


def test_user_cannot_take_away_own_superuser(admin, root):
    url = reverse("admin:people_user_change", args=[root.pk])
    resp = admin.post(url, form_data(admin, url, is_superuser=None))
    assert errors(resp)["is_superuser"]
    assert User.objects.get(pk=root.pk).is_superuser


def test_user_password_change_is_audited(admin, root):
    wang = people.user_create(username="wang", password="old-pass-2024", actor=root, check_password=False)
    resp = admin.post(reverse("admin:auth_user_password_change", args=[wang.pk]), {"password1": "New-pass-2026x", "password2": "New-pass-2026x", "usable_password": "true"})
    assert resp.status_code == 302
    wang.refresh_from_db()
    assert wang.check_password("New-pass-2026x")
    entry = only_entry("people.user.password_changed", wang)
    assert entry.actor == root and "New-pass" not in str(entry.new)


def test_unit_change_is_audited_and_bad_grid_refused(admin, root, territory):
    unit = people.unit_create(code="yx-hq", name="洪桥街道办事处", kind="territorial",
                              division=territory["hongqiao"], actor=root)
    url = reverse("admin:people_unit_change", args=[unit.pk])
    resp = admin.post(url, form_data(admin, url, grid=str(territory["grids"][3].pk)))
    assert "所选网格不在所选区划内" in str(errors(resp)["grid"])
    resp = admin.post(url, form_data(admin, url, name="洪桥街道办", review_results="on"))
    assert resp.status_code == 302, errors(resp)
    entry = only_entry("people.unit.changed", unit)
    assert entry.old == {"name": "洪桥街道办事处", "review_results": False}
    assert entry.new == {"name": "洪桥街道办", "review_results": True}
    assert Unit.objects.get(pk=unit.pk).name == "洪桥街道办"


@pytest.mark.parametrize("model", ["dispatch/requesttype", "dispatch/subject", "dispatch/routingrule",
                                   "territory/division", "people/unit", "people/user"])
def test_forms_render_with_a_reason_field(admin, model):
    page = admin.get(f"/admin/{model}/add/")
    assert page.status_code == 200
    assert 'name="audit_reason"' in page.content.decode()


def test_user_groups_change_is_audited(admin, root):
    from django.contrib.auth.models import Group

    wang = people.user_create(username="wang", password="x", actor=root, check_password=False)
    group = Group.objects.create(name="派单员")
    url = reverse("admin:people_user_change", args=[wang.pk])
    resp = admin.post(url, form_data(admin, url, groups=[str(group.pk)]))
    assert resp.status_code == 302, errors(resp)
    assert list(wang.groups.all()) == [group]
    entry = only_entry("people.user.changed", wang)
    assert entry.old == {"groups": []} and entry.new == {"groups": ["派单员"]}


def test_routing_rules_bulk_delete_is_audited(admin, root, subjects):
    rules = [RoutingRule.objects.create(name=f"规则{i}", subject=subjects[1], target_level="community")
             for i in range(2)]
    resp = admin.post(reverse("admin:dispatch_routingrule_changelist"),
                      {"action": "delete_selected", "_selected_action": [r.pk for r in rules], "post": "yes"})
    assert resp.status_code == 302
    assert not RoutingRule.objects.exists()
    rows = AuditEntry.objects.filter(action="dispatch.routing_rule.deleted")
    assert sorted(r.old["name"] for r in rows) == ["规则0", "规则1"] and {r.actor for r in rows} == {root}
