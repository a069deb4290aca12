import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, Permission

from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.core.models import AuditEntry
from huying.people.models import Membership, Role, RoleCode, Unit, UnitKind, User
from huying.people.services import (
    id_number_checksum_ok,
    membership_grant,
    membership_revoke,
    roles_ensure,
    unit_create,
    user_create,
)

from .conftest import _id_number

pytestmark = pytest.mark.django_db


# -- roles ----------------------------------------------------------------------------------------
def test_roles_ensure_creates_every_role_once_with_permissions():
    roles = roles_ensure()
    assert set(roles) == set(RoleCode.values)
    assert Role.objects.count() == len(RoleCode.values) == Group.objects.count()
    entries = AuditEntry.objects.filter(action="people.role.created").count()
    assert entries == len(RoleCode.values)

    again = roles_ensure()
    assert {c: r.pk for c, r in again.items()} == {c: r.pk for c, r in roles.items()}
    assert Role.objects.count() == len(RoleCode.values)
    assert AuditEntry.objects.filter(action="people.role.created").count() == entries

    def perms(code):
        return set(roles[code].group.permissions.values_list("content_type__app_label", "codename"))

    assert len(perms(RoleCode.ADMIN)) == Permission.objects.count()
    assert perms(RoleCode.RESIDENT) == set()
    assert ("territory", "view_grid") in perms(RoleCode.DISPATCHER)
    assert ("territory", "change_grid") not in perms(RoleCode.DISPATCHER)
    assert ("territory", "change_building") in perms(RoleCode.GRID_WORKER)
    leader = perms(RoleCode.LEADER)
    assert leader and all(codename.startswith("view_") for _, codename in leader)
    assert ("people", "view_user") in leader


def test_roles_ensure_keeps_permissions_an_administrator_added():
    roles = roles_ensure()
    extra = Permission.objects.get(content_type__app_label="territory", codename="change_grid")
    roles[RoleCode.HANDLER].group.permissions.add(extra)
    roles_ensure()
    assert roles[RoleCode.HANDLER].group.permissions.filter(pk=extra.pk).exists()


# -- units ----------------------------------------------------------------------------------------
def test_unit_create_is_audited_and_a_grid_implies_its_community(territory, django_user_model):
    actor = django_user_model.objects.create_user("boss", password="x")
    street = unit_create(code="gov-440104003", name="北京街道办事处", kind=UnitKind.TERRITORIAL,
                         division=territory.div["440104003"], actor=actor)
    station = unit_create(code="grid-440104003001001", name="第1网格工作站", kind=UnitKind.TERRITORIAL,
                          parent=street, grid=territory.grid["440104003001001"], actor=actor)
    assert station.division == territory.div["440104003001"]
    assert station.territory_code == "440104003001001"
    entry = audit_trail(station).get()
    assert entry.action == "people.unit.created" and entry.actor == actor
    assert entry.new["grid"] == "440104003001001" and entry.new["parent"] == street.pk


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"code": "", "name": "x", "kind": "territorial"}, "code"),
        ({"code": "a" * 41, "name": "x", "kind": "territorial"}, "code"),
        ({"code": "u1", "name": " ", "kind": "territorial"}, "name"),
        ({"code": "u1", "name": "x", "kind": "bogus"}, "kind"),
        ({"code": "taken", "name": "x", "kind": "territorial"}, "code"),
    ],
)
def test_unit_create_refusals_name_the_field(kwargs, field):
    unit_create(code="taken", name="已有", kind=UnitKind.DEPARTMENT, actor=None)
    with pytest.raises(DomainError) as err:
        unit_create(**kwargs, actor=None)
    assert err.value.field == field
    assert Unit.objects.count() == 1


def test_unit_create_refuses_a_grid_outside_its_division(territory):
    with pytest.raises(DomainError) as err:
        unit_create(code="x", name="x", kind=UnitKind.TERRITORIAL, division=territory.div["440104004"],
                    grid=territory.grid["440104003001001"], actor=None)
    assert err.value.field == "grid"


# -- users ----------------------------------------------------------------------------------------
def test_user_create_validates_and_audits_masked():
    user = user_create(username="wufang", password="a-long-enough-pass", display_name="吴芳", phone="138 0000 1234",
                       id_number=_id_number(7).lower(), actor=None)
    assert user.phone == "13800001234" and user.id_number == _id_number(7)
    assert authenticate(username="wufang", password="a-long-enough-pass") == user
    entry = audit_trail(user).get()
    assert entry.action == "people.user.created"
    assert entry.new["phone"] == "138****1234" and "13800001234" not in str(entry.new)
    assert _id_number(7) not in str(entry.new)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"phone": "23812345678"}, "phone"),
        ({"phone": "1381234567"}, "phone"),
        ({"phone": "138123456789"}, "phone"),
        ({"id_number": "440104199001011235"}, "id_number"),  # wrong check character
        ({"id_number": "44010419900101123"}, "id_number"),  # 17 characters
        ({"id_number": "4401041990010112X4"}, "id_number"),
        ({"username": ""}, "username"),
        ({"username": "has space"}, "username"),
        ({"username": "TAKEN"}, "username"),
        ({"password": ""}, "password"),
        ({"password": "123"}, "password"),  # Django's strength checks
    ],
)
def test_user_create_refusals_name_the_field(kwargs, field):
    user_create(username="taken", password="x", actor=None, check_password=False)
    args = {"username": "new", "password": "a-long-enough-pass", **kwargs}
    with pytest.raises(DomainError) as err:
        user_create(**args, actor=None)
    assert err.value.field == field
    assert not User.objects.filter(username="new").exists()


def test_id_number_checksum_and_birth_date():
    assert id_number_checksum_ok("11010519491231002X")  # the standard's own example
    assert not id_number_checksum_ok("110105194912310021")
    body = "44010419901301001"  # month 13
    from huying.people.services import _ID_CHECK, _ID_WEIGHTS

    bad_date = body + _ID_CHECK[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
    assert id_number_checksum_ok(bad_date)
    with pytest.raises(DomainError) as err:
        user_create(username="a", password="x", id_number=bad_date, actor=None, check_password=False)
    assert err.value.field == "id_number"


# -- memberships ------------------------------------------------------------------------------------
def test_membership_grant_and_revoke(territory):
    roles_ensure()
    unit = unit_create(code="gov-440104003", name="北京街道办事处", kind=UnitKind.TERRITORIAL,
                       division=territory.div["440104003"], actor=None)
    user = user_create(username="wq", password="x", actor=None, check_password=False)
    m = membership_grant(user, unit=unit, role_code=RoleCode.DISPATCHER, actor=None, reason="任命")
    assert user.groups.filter(role__code="dispatcher").exists()
    assert user.has_perm("territory.view_grid")
    granted = audit_trail(m).get()
    assert granted.action == "people.membership.granted" and granted.reason == "任命"
    assert granted.new == {"user": "wq", "unit": "gov-440104003", "role": "dispatcher", "active": True}

    with pytest.raises(DomainError) as err:
        membership_grant(user, unit=unit, role_code=RoleCode.DISPATCHER, actor=None)
    assert err.value.code == "people.membership.exists" and err.value.status == 409
    with pytest.raises(DomainError) as err:
        membership_grant(user, unit=unit, role_code="mayor", actor=None)
    assert err.value.field == "role"

    with pytest.raises(DomainError) as err:
        membership_revoke(m, actor=None, reason=" ")
    assert err.value.field == "reason"
    membership_revoke(m, actor=None, reason="调离")
    m.refresh_from_db()
    assert not m.active
    assert not User.objects.get(pk=user.pk).groups.exists()
    assert [e.action for e in audit_trail(m)] == ["people.membership.granted", "people.membership.revoked"]
    with pytest.raises(DomainError):
        membership_revoke(m, actor=None, reason="再次")

    again = membership_grant(user, unit=unit, role_code=RoleCode.DISPATCHER, actor=None)
    assert again.pk == m.pk and again.active and Membership.objects.count() == 1


def test_revoking_one_of_two_memberships_keeps_the_role_group(territory):
    roles_ensure()
    a = unit_create(code="a", name="甲", kind=UnitKind.DEPARTMENT, actor=None)
    b = unit_create(code="b", name="乙", kind=UnitKind.DEPARTMENT, actor=None)
    user = user_create(username="h", password="x", actor=None, check_password=False)
    first = membership_grant(user, unit=a, role_code=RoleCode.HANDLER, actor=None)
    membership_grant(user, unit=b, role_code=RoleCode.HANDLER, actor=None)
    membership_revoke(first, actor=None, reason="调离")
    assert user.groups.filter(role__code="handler").exists()


def test_admin_membership_opens_the_admin_site(territory):
    unit = unit_create(code="cmd", name="指挥中心", kind=UnitKind.COMMAND, actor=None)
    user = user_create(username="adm", password="x", actor=None, check_password=False)
    assert not user.is_staff
    membership_grant(user, unit=unit, role_code=RoleCode.ADMIN, actor=None)
    assert User.objects.get(pk=user.pk).is_staff


def test_grant_refuses_inactive_unit():
    roles_ensure()
    unit = unit_create(code="old", name="撤销的单位", kind=UnitKind.DEPARTMENT, actor=None)
    Unit.objects.filter(pk=unit.pk).update(active=False)
    unit.refresh_from_db()
    user = user_create(username="h", password="x", actor=None, check_password=False)
    with pytest.raises(DomainError) as err:
        membership_grant(user, unit=unit, role_code=RoleCode.HANDLER, actor=None)
    assert err.value.field == "unit"
