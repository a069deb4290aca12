"""Scopes are built once per process and rebuilt when what they are made of changes (issue 17).

The access generation (people.models.AccessGeneration) is bumped by database triggers, so a change
made by any path — a service, a bulk load, a queryset update, raw SQL — is seen by the next call.
These tests commit (transactional_db): a scope read inside a transaction is never kept.
"""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from huying.people.auth import api_token_user
from huying.people.models import AccessGeneration, Membership, Role, RoleCode, Unit, User
from huying.people.scope import access_generation, scope_for
from huying.people.services import api_token_create, roles_ensure
from huying.territory.models import Division, Level

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    roles_ensure()
    city = Division.objects.create(code="440100", name="市", level=Level.CITY)
    d1 = Division.objects.create(code="440104", name="越秀区", level=Level.DISTRICT, parent=city)
    d2 = Division.objects.create(code="440105", name="海珠区", level=Level.DISTRICT, parent=city)
    u1 = Unit.objects.create(code="U1", name="越秀区政府", kind="territorial", division=d1)
    u2 = Unit.objects.create(code="U2", name="海珠区政府", kind="territorial", division=d2)
    user = User.objects.create_user("s1", password="x-Long-pass-2026")
    role = Role.objects.get(code=RoleCode.DISPATCHER)
    m = Membership.objects.create(user=user, unit=u1, role=role)
    return {"user": user, "u1": u1, "u2": u2, "role": role, "m": m, "d1": d1}


def _fresh_user(pk):
    return User.objects.get(pk=pk)  # a new object, as the next request loads


def test_an_unchanged_scope_is_reused_without_its_query(world):
    first = scope_for(_fresh_user(world["user"].pk))
    assert first.division_codes == ("440104",)
    user = _fresh_user(world["user"].pk)
    with CaptureQueriesContext(connection) as ctx:
        again = scope_for(user)
    assert again == first
    assert len(ctx.captured_queries) == 1  # the generation only, not the memberships
    assert "membership" not in ctx.captured_queries[0]["sql"].lower()


def test_every_write_path_moves_the_generation(world):
    scope_for(_fresh_user(world["user"].pk))
    g0 = access_generation()
    Membership.objects.filter(pk=world["m"].pk).update(unit=world["u2"])  # a queryset update, no signals
    g1 = access_generation()
    assert g1 > g0
    assert scope_for(_fresh_user(world["user"].pk)).division_codes == ("440105",)
    Membership.objects.bulk_create([Membership(user=world["user"], unit=world["u1"], role=world["role"])])
    assert access_generation() > g1
    assert scope_for(_fresh_user(world["user"].pk)).division_codes == ("440104", "440105")
    with connection.cursor() as cursor:  # raw SQL too
        cursor.execute("UPDATE people_unit SET active = %s WHERE code = %s", [False, "U2"])
    assert scope_for(_fresh_user(world["user"].pk)).division_codes == ("440104",)
    # A change that cannot change a scope leaves the generation alone.
    g2 = access_generation()
    User.objects.filter(pk=world["user"].pk).update(last_login=None)
    Unit.objects.filter(pk=world["u1"].pk).update(name="越秀区人民政府")
    assert access_generation() == g2
    # A division's code moves every unit under it.
    Division.objects.filter(pk=world["d1"].pk).update(code="440199")
    assert scope_for(_fresh_user(world["user"].pk)).division_codes == ("440199",)


def test_a_deactivated_user_and_a_new_superuser(world):
    pk = world["user"].pk
    assert not scope_for(_fresh_user(pk)).whole_city
    User.objects.filter(pk=pk).update(is_superuser=True)
    assert scope_for(_fresh_user(pk)).whole_city
    User.objects.filter(pk=pk).update(is_active=False)
    assert scope_for(_fresh_user(pk)).user_id is None


def test_a_change_rolled_back_is_never_kept(world):
    pk = world["user"].pk
    before = scope_for(_fresh_user(pk))
    with pytest.raises(RuntimeError), transaction.atomic():
        Membership.objects.filter(pk=world["m"].pk).update(unit=world["u2"])
        inside = scope_for(_fresh_user(pk))
        assert inside.division_codes == ("440105",)  # the transaction sees its own change
        raise RuntimeError("roll back")
    # Another change commits and moves the generation to where the rolled-back one had it.
    AccessGeneration.objects.filter(pk=1).update(value=access_generation() + 1)
    assert scope_for(_fresh_user(pk)) == before


def test_token_sign_in_brings_the_generation(world):
    _row, token = api_token_create(world["user"], name="t", actor=None)
    scope_for(api_token_user(token))
    user = api_token_user(token)
    with CaptureQueriesContext(connection) as ctx:
        scope = scope_for(user)
    assert scope.division_codes == ("440104",)
    assert ctx.captured_queries == []
