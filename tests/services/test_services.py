"""Service positions, hours and catalogue: state, audit rows and refusals."""

import pytest

from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.services.models import HandlingLevel, PositionKind
from huying.services.services import item_update, position_create, position_hours_set, position_update


def test_created_with_audit(positions):
    centre = positions.centre
    actions = [e.action for e in audit_trail(centre)]
    assert actions == ["services.position.created", "services.position.hours_set"]
    assert centre.hours.count() == 12
    assert [e.action for e in audit_trail(positions.item)] == ["services.item.created", "services.item.positions_set"]
    assert list(positions.item.positions.order_by("pk")) == [positions.centre, positions.station]


def test_update_audits_the_difference(positions, town):
    position_update(positions.centre, actor=town.user.bj_staff, phone="020-83000002", reason="换号")
    entry = list(audit_trail(positions.centre))[-1]
    assert entry.action == "services.position.updated"
    assert entry.old == {"phone": "020-83000001"} and entry.new == {"phone": "020-83000002"}
    assert entry.actor == town.user.bj_staff


def test_street_centre_must_sit_in_a_street(town):
    with pytest.raises(DomainError) as exc:
        position_create(kind=PositionKind.STREET_CENTRE, name="x", unit=town.unit.beijing,
                        division=town.div["440104003001"], lng=113.27, lat=23.12, address="x", actor=None)
    assert exc.value.code == "services.position.bad_division"


def test_overlapping_hours_refused_and_nothing_changed(positions):
    with pytest.raises(DomainError) as exc:
        position_hours_set(positions.centre, periods=[(0, "09:00", "12:00"), (0, "11:00", "13:00")], actor=None)
    assert exc.value.code == "services.hours.overlap"
    assert positions.centre.hours.count() == 12
    with pytest.raises(DomainError):
        position_hours_set(positions.centre, periods=[(0, "12:00", "09:00")], actor=None)


def test_item_update(positions):
    item = item_update(positions.item, actor=None, time_limit_days=5, level=HandlingLevel.COMMUNITY)
    assert (item.time_limit_days, item.level) == (5, "community")
    entry = list(audit_trail(item))[-1]
    assert entry.old == {"time_limit_days": 10, "level": "street"}
    with pytest.raises(DomainError):
        item_update(item, actor=None, time_limit_days=-1)
