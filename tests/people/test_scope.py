import pytest

from huying.people.models import RoleCode
from huying.people.scope import Scope, scope_for
from huying.people.services import membership_grant, membership_revoke
from huying.territory.models import Division, Grid

pytestmark = pytest.mark.django_db


def test_city_level_roles_see_the_whole_city(org):
    for name in ("operator", "leader", "root"):
        scope = scope_for(getattr(org.user, name))
        assert scope.whole_city, name
        assert scope.division_codes == ()
    assert scope_for(org.user.root).has_role(RoleCode.ADMIN)


def test_territorial_staff_see_their_division_or_grid(org):
    u = org.user
    assert scope_for(u.bj_dispatcher).division_codes == ("440104003",)
    assert scope_for(u.lr_handler).division_codes == ("440104004",)
    assert scope_for(u.gridworker).division_codes == ("440104003001001",)
    assert scope_for(u.yx_leader).division_codes == ("440104",)
    s = scope_for(u.bj_dispatcher)
    assert not s.whole_city and s.unit_ids == {org.unit.beijing.pk}
    assert s.has_role("dispatcher") and not s.has_role("handler")
    assert s.covers("440104003001001") and not s.covers("440104004001001") and not s.covers(None)


def test_departments_act_for_their_units(org):
    u, unit = org.user, org.unit
    cg = scope_for(u.cg_handler)
    assert cg.unit_ids == {unit.cg.pk, unit.cg_yx.pk}
    assert cg.division_codes == () and not cg.whole_city
    branch = scope_for(u.cgyx_handler)
    assert branch.unit_ids == {unit.cg_yx.pk} and branch.division_codes == ("440104",)
    assert scope_for(u.water_handler).unit_ids == {unit.water.pk}


def test_residents_and_members_see_no_territory(org):
    resident = scope_for(org.user.resident_bj)
    assert resident.is_empty and resident.user_id == org.user.resident_bj.pk
    assert resident.has_role(RoleCode.RESIDENT)
    member = scope_for(org.user.member)
    assert member.division_codes == () and member.unit_ids == {org.unit.party.pk}
    assert scope_for(org.user.secretary).division_codes == ("440104003",)
    assert scope_for(org.user.nobody).is_empty
    assert scope_for(None).is_empty and scope_for(None).user_id is None


def test_nested_codes_collapse_to_the_widest(org):
    user = org.user.gridworker
    membership_grant(user, unit=org.unit.beijing, role_code=RoleCode.HANDLER, actor=None)
    assert scope_for(user).division_codes == ("440104003",)


def test_revoked_membership_no_longer_counts(org):
    user = org.user.bj_dispatcher
    membership = user.memberships.get()
    assert scope_for(user).division_codes == ("440104003",)
    membership_revoke(membership, actor=None, reason="调离")
    assert scope_for(user).is_empty
    assert scope_for(user, fresh=True).is_empty


def test_territory_q_filters_by_prefix(org):
    codes = lambda qs: sorted(qs.values_list("code", flat=True))  # noqa: E731
    bj = scope_for(org.user.bj_dispatcher)
    assert codes(Grid.objects.filter(layer="unified").filter(bj.territory_q("code"))) == [
        "440104003001001", "440104003001002", "440104003002001"]
    assert codes(Division.objects.filter(bj.territory_q("code"))) == ["440104003", "440104003001", "440104003002"]
    grid_only = scope_for(org.user.gridworker)
    assert codes(Grid.objects.filter(grid_only.territory_q("code"))) == ["440104003001001"]
    empty = Scope(user_id=1)
    assert not Grid.objects.filter(empty.territory_q("code")).exists()
    everyone = scope_for(org.user.leader)
    assert Grid.objects.filter(everyone.territory_q("code")).count() == Grid.objects.count()
    assert Grid.objects.filter(Scope(user_id=1, division_codes=("440104003", "440114")).territory_q("code")).count() == 5
