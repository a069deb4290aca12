"""The desk cast on top of the services `positions`: three desk staff at the community centre
(流水井), one at the 六榕 station, a signed-in resident, and a 3-working-day item handled at both."""

from types import SimpleNamespace

import pytest


@pytest.fixture
def desk(positions, town):
    from huying.people.models import RoleCode
    from huying.people.services import membership_grant, user_create
    from huying.services.models import HandlingLevel
    from huying.services.services import item_create, item_positions_set

    staff = SimpleNamespace()
    for username, unit in [("deskstaff", town.unit.liushuijing), ("desk_b", town.unit.liushuijing),
                           ("desk_c", town.unit.liushuijing), ("desk_x", town.unit.liurong)]:
        person = user_create(username=username, password="x", display_name=username, actor=None, check_password=False)
        membership_grant(person, unit=unit, role_code=RoleCode.SERVICE_DESK, actor=None)
        setattr(staff, username, person)
    resident = town.user.resident
    resident.phone = "13800001111"
    resident.save(update_fields=["phone"])
    quick = item_create(code="DB3", name="低保申请受理", level=HandlingLevel.COMMUNITY, time_limit_days=3, actor=None)
    item_positions_set(quick, positions=[positions.centre, positions.station], actor=None)
    return SimpleNamespace(centre=positions.centre, station=positions.station, item=positions.item, quick=quick,
                           staff=staff, resident=resident, town=town)
