"""The admission-list cast on top of the services `town`: two district departments with a handler
each, the district government's leader (the reviewer), a second committee with its own worker, and
the shipped lists loaded."""

from types import SimpleNamespace

import pytest

from .conftest import at


@pytest.fixture
def adm(town):
    from huying.people.models import RoleCode, UnitKind
    from huying.people.services import membership_grant, unit_create, user_create
    from huying.services.admission import admission_demo_seed

    div, unit, user = town.div, town.unit, town.user
    unit.urban = unit_create(code="dept-cg", name="越秀区城市管理和综合执法局", kind=UnitKind.DEPARTMENT,
                             division=div["440104"], actor=None)
    unit.longcang = unit_create(code="gov-440104003002", name="龙藏社区居民委员会", kind=UnitKind.TERRITORIAL,
                                parent=unit.beijing, division=div["440104003002"], actor=None)
    for username, u, role in [("mz_handler", unit.civil, RoleCode.HANDLER),
                              ("cg_handler", unit.urban, RoleCode.HANDLER),
                              ("yx_leader", unit.district, RoleCode.UNIT_LEADER),
                              ("lc_worker", unit.longcang, RoleCode.COMMUNITY_WORKER),
                              ("admin", unit.district, RoleCode.ADMIN)]:
        person = user_create(username=username, password="x", display_name=username, actor=None, check_password=False)
        membership_grant(person, unit=u, role_code=role, actor=None)
        setattr(user, username, person)
    seeded = admission_demo_seed()
    return SimpleNamespace(town=town, unit=unit, user=user, seeded=seeded)


# Thursday 24 September 2026, 01:00 Beijing: the next day (Mid-Autumn) and 1–7 October are holidays,
# Saturday 10 October is a working day. Counting the 24th, the 15th working day is Wednesday 21 October.
SUBMITTED = at(2026, 9, 24, 1, 0)
DUE = at(2026, 10, 21, 17, 0)
