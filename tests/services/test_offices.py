"""The street's 6+1 offices: created as sub-units with their duty lists, duty_for() routing a
matter to the responsible office, and the page listing them."""

import pytest

from huying.core.errors import DomainError
from huying.people.models import Unit
from huying.services import offices as svc
from huying.services.models import DutyKind, OfficeDuty, StreetOffice

from . import workers_setup

cw = workers_setup.cw  # the shared fixture

pytestmark = pytest.mark.django_db


def test_six_plus_one_created_once_as_sub_units(cw):
    made = svc.street_offices_create(cw.unit.beijing, actor=None)
    names = [o.name for o in made]
    assert len(made) == 7 and names[0] == "党政综合办公室" and names[-1] == "综合行政执法队"
    assert "社会事务办公室" in names
    units = Unit.objects.filter(parent=cw.unit.beijing, street_office__isnull=False)
    assert units.count() == 7 and all(u.division_id is None for u in units)
    assert OfficeDuty.objects.filter(office__street=cw.unit.beijing, kind=DutyKind.POWER).exists()
    assert svc.street_offices_create(cw.unit.beijing, actor=None) == []
    with pytest.raises(DomainError):
        svc.street_offices_create(cw.unit.liushuijing, actor=None)


def test_duty_for_picks_the_office_by_its_list(cw):
    from huying.dispatch.models import Subject

    svc.street_offices_create(cw.unit.beijing, actor=None)
    assert svc.duty_for(cw.unit.beijing, "社会救助").name == "社会事务办公室"
    assert svc.duty_for("440104003", "安全隐患").name == "平安建设办公室"
    # 违法搭建 is on two lists: the enforcement team's power (查处) wins over the report duty.
    match = svc.duty_match(cw.div["440104003"], "违法搭建")
    assert match.office.name == "综合行政执法队" and match.duty.kind == DutyKind.POWER
    # A subject not named is looked up by its ancestors.
    parent = Subject.objects.create(code="T01", name="市容环境", kind="event")
    leaf = Subject.objects.create(code="T0199", name="不在清单的小类", kind="event", parent=parent, depth=2)
    assert svc.duty_for(cw.unit.beijing, leaf).name == "城市管理办公室"
    assert svc.duty_for(cw.unit.beijing, "完全无关") is None
    assert svc.duty_for(cw.unit.liurong, "社会救助") is None  # 六榕 has no offices set up


def test_offices_page(cw, client):
    svc.street_offices_create(cw.unit.beijing, actor=None)
    client.force_login(cw.user.lsj_worker)
    html = client.get("/services/offices/440104003/").content.decode()
    assert html.count('id="office-') == 7 and "《中华人民共和国行政处罚法》第二十四条" in html
    client.force_login(cw.user.resident)
    assert client.get("/services/offices/440104003/").status_code == 403
    assert StreetOffice.objects.count() == 7
