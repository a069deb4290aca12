"""The admin's writes: creations go through people.services (refusals shown on the form), edits and
deletions are audited, memberships are granted and revoked, never edited."""

import pytest

from huying.core.models import AuditEntry
from huying.people import services
from huying.people.models import Membership, Unit, User
from huying.territory.models import Division


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("root", password="root-pass-2024")


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def roles(db):
    return services.roles_ensure()


@pytest.mark.parametrize("model", ["territory/division", "territory/grid", "territory/building",
                                   "territory/gridcrosswalk", "people/unit", "people/user", "people/role",
                                   "people/membership"])
def test_lists_search_and_add_forms(admin, territory, roles, model):
    base = f"/admin/{model}/"
    assert admin.get(base).status_code == 200
    assert admin.get(base, {"q": "4401"}).status_code == 200
    assert admin.get(base, {"q": "华侨"}).status_code == 200
    assert admin.get(base + "add/").status_code == 200


def test_code_search_is_a_prefix(admin, territory):
    resp = admin.get("/admin/territory/division/", {"q": "440104001"})
    assert [d.code for d in resp.context["cl"].result_list] == ["440104001", "440104001001", "440104001002"]


def test_division_edit_is_audited(admin, admin_user, territory):
    d = territory["liuhua"]
    resp = admin.post(f"/admin/territory/division/{d.pk}/change/", {
        "code": d.code, "name": "流花社区（新）", "short_name": "", "level": d.level, "kind": d.kind,
        "parent": d.parent_id, "official_code": "", "lng": d.lng, "lat": d.lat, "geometry": d.geometry,
    })
    assert resp.status_code == 302, resp.context["adminform"].form.errors if resp.context else resp
    assert Division.objects.get(pk=d.pk).name == "流花社区（新）"
    entry = AuditEntry.objects.get(action="territory.division.changed", target_id=str(d.pk))
    assert entry.actor == admin_user
    assert entry.old == {"name": "流花社区"} and entry.new == {"name": "流花社区（新）"}


def test_unit_add_goes_through_the_service(admin, territory):
    form = {"code": "yx-hq", "name": "洪桥街道办事处", "kind": "territorial", "division": territory["hongqiao"].pk,
            "grid": territory["grids"][3].pk, "active": "on"}
    resp = admin.post("/admin/people/unit/add/", form)
    # The grid lies in 北京街道, not 洪桥街道: the service's refusal is shown next to the grid field.
    assert resp.status_code == 200
    assert "所选网格不在所选区划内" in str(resp.context["adminform"].form.errors["grid"])
    assert not Unit.objects.exists()
    form["grid"] = territory["grids"][0].pk
    assert admin.post("/admin/people/unit/add/", form).status_code == 302
    unit = Unit.objects.get(code="yx-hq")
    assert AuditEntry.objects.filter(action="people.unit.created", target_id=str(unit.pk)).count() == 1
    resp = admin.post("/admin/people/unit/add/", form)
    assert "yx-hq" in str(resp.context["adminform"].form.errors["code"])


def test_user_add_goes_through_the_service_and_masks(admin, territory):
    form = {"username": "liming", "display_name": "李明", "phone": "12345", "id_number": "",
            "password1": "a-Long-pass-2024", "password2": "a-Long-pass-2024", "usable_password": "true"}
    resp = admin.post("/admin/people/user/add/", form)
    assert resp.status_code == 200 and "phone" in resp.context["adminform"].form.errors
    form["phone"] = "13800138000"
    resp = admin.post("/admin/people/user/add/", form)
    assert resp.status_code == 302, resp.context["adminform"].form.errors
    user = User.objects.get(username="liming")
    assert user.check_password("a-Long-pass-2024") and user.display_name == "李明"
    entry = AuditEntry.objects.get(action="people.user.created", target_id=str(user.pk))
    assert "13800138000" not in str(entry.new)


def test_membership_grant_and_revoke(admin, admin_user, territory, roles):
    unit = services.unit_create(code="yx-hq", name="洪桥街道办事处", kind="territorial",
                                division=territory["hongqiao"], actor=admin_user)
    worker = services.user_create(username="wang", password="x", actor=admin_user, check_password=False)
    role = roles["grid_worker"]
    form = {"user": worker.pk, "unit": unit.pk, "role": role.pk, "reason": "新任网格员"}
    assert admin.post("/admin/people/membership/add/", form).status_code == 302
    membership = Membership.objects.get(user=worker)
    assert worker.groups.filter(pk=role.group_id).exists()  # the service gave the role's permissions
    resp = admin.post("/admin/people/membership/add/", form)
    assert resp.status_code == 200 and resp.context["adminform"].form.errors
    assert Membership.objects.count() == 1
    resp = admin.post("/admin/people/membership/", {"action": "revoke", "_selected_action": [membership.pk]})
    assert resp.status_code == 302
    membership.refresh_from_db()
    assert not membership.active
    assert not worker.groups.filter(pk=role.group_id).exists()
    assert AuditEntry.objects.filter(action="people.membership.revoked").count() == 1
    assert admin.post(f"/admin/people/membership/{membership.pk}/delete/").status_code == 403


def test_user_edits_are_logged_masked():
    from django.contrib import admin as django_admin

    from huying.people.admin import UserAdmin
    from huying.people.masking import mask_phone

    class Form:
        changed_data = ["phone", "password", "display_name"]
        initial = {"phone": "13800138000", "password": "pbkdf2$…", "display_name": "王芳"}

    values = UserAdmin(User, django_admin.site)._audit_values(Form, Form.initial)
    assert values == {"phone": mask_phone("13800138000"), "password": "***", "display_name": "王芳"}
    assert "13800138000" not in str(values)
