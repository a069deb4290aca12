"""The community-worker cast on top of the services `town`: the shipped pay scale loaded, 龙藏's
committee, the district's organisation department and a roster helper."""

from datetime import date
from types import SimpleNamespace

import pytest


@pytest.fixture
def cw(town):
    from huying.people.models import RoleCode, UnitKind
    from huying.people.services import membership_grant, unit_create, user_create
    from huying.services.workers import pay_scale_load

    div, unit, user = town.div, town.unit, town.user
    unit.longcang = unit_create(code="gov-440104003002", name="龙藏社区居民委员会", kind=UnitKind.TERRITORIAL,
                                parent=unit.beijing, division=div["440104003002"], actor=None)
    unit.jiunanhai = unit_create(code="gov-440104004001", name="旧南海县社区居民委员会", kind=UnitKind.TERRITORIAL,
                                 parent=unit.liurong, division=div["440104004001"], actor=None)
    for username, u, role in [("lc_worker", unit.longcang, RoleCode.COMMUNITY_WORKER),
                              ("yx_leader", unit.district, RoleCode.LEADER)]:
        person = user_create(username=username, password="x", display_name=username, actor=None, check_password=False)
        membership_grant(person, unit=u, role_code=role, actor=None)
        setattr(user, username, person)
    scale = pay_scale_load()
    return SimpleNamespace(town=town, div=div, unit=unit, user=user, scale=scale)


def person(name: str, phone: str):
    from huying.people.services import user_create

    return user_create(username=name, password="", display_name=name, phone=phone, actor=None, can_log_in=False)


def worker(cw, name, phone, *, unit=None, post="staff", started=date(2019, 3, 1), **kw):
    from huying.services.workers import worker_register

    return worker_register(user=person(name, phone), unit=unit or cw.unit.liushuijing, post=post, started_on=started,
                           education="bachelor", actor=cw.user.bj_staff, **kw)
