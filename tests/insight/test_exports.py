"""Exports follow exactly the visibility of the list or page they come from: the ledger's order rows
are the person's order list (a person who sees no orders exports none), the monthly report's Excel
and PDF answer whoever its page answers, and nobody exports another street."""

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from huying.insight import ledger, selectors
from huying.people.models import RoleCode, UnitKind
from huying.people.services import membership_grant, unit_create, user_create

from .conftest import PASSWORD
from .test_rankings import MARCH, handled  # noqa: F401  the fixture is used by name

pytestmark = pytest.mark.usefixtures("handled")


def person(world, name: str, unit, role):
    user = user_create(username=f"x-{name}", password=PASSWORD, display_name=name, actor=None, check_password=False)
    membership_grant(user, unit=unit, role_code=role, actor=None)
    return user


@pytest.fixture
def secretary(world):
    """The Party secretary of street A's Party working committee: street A's territory, no orders."""
    party = unit_create(code="t-party-a", name="街道党工委", kind=UnitKind.PARTY, division=world.streets[0], actor=None)
    return person(world, "secretary", party, RoleCode.PARTY_SECRETARY)


def signed_in(client, user):
    c = client.__class__()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def test_a_party_secretary_who_sees_no_orders_cannot_export_a_ledger(client, world, secretary):
    c = signed_in(client, secretary)
    for unit in ("community_a", "street_a"):
        r = c.get("/insight/ledger.xlsx", {"unit": world.units[unit].pk, "period": "2026-03"})
        assert r.status_code == 403 and r.json()["code"] == "insight.forbidden", unit
    # …and the ranking page (rollups the intake above filled) offers them no ledger link.
    html = c.get("/insight/rankings/", {"level": "community", "period": "2026-03"}).content.decode()
    assert f'data-unit="{world.units["community_a"].pk}"' in html and "ledger.xlsx" not in html


def test_ledger_rows_are_the_persons_order_list(world, secretary, handled):  # noqa: F811
    unit = world.units["community_a"].pk
    codes = [o.code for o in handled]

    def rows(user):
        return [r["code"] for r in ledger.ledger_rows(unit, actor=user, period=MARCH)]

    assert rows(world.users["street_a"]) == codes == rows(world.users["dispatcher"])
    assert rows(secretary) == [] and rows(world.users["resident2"]) == [] and rows(world.users["street_b"]) == []
    assert rows(world.users["resident"]) == codes  # their own reports, as in their own list


def test_a_street_user_cannot_export_another_street(client, world):
    c = signed_in(client, world.users["street_a"])
    for unit in ("street_b", "community_b", "district"):
        assert c.get("/insight/ledger.xlsx", {"unit": world.units[unit].pk, "period": "2026-03"}).status_code == 403
    other = world.streets[1].code
    for path in ("/insight/report.xlsx", "/insight/report.pdf", "/insight/report/"):
        assert c.get(path, {"code": other, "month": "2026-03"}).status_code == 403, path
    own = c.get("/insight/ledger.xlsx", {"unit": world.units["street_a"].pk, "period": "2026-03"})
    assert own.status_code == 200
    load_workbook(io.BytesIO(own.content))


def test_the_monthly_report_exports_answer_whoever_the_page_answers(client, world, secretary, monkeypatch):
    monkeypatch.setattr(selectors, "today_local", lambda now=None: date(2026, 3, 31))
    mine = world.streets[0].code
    for user, expected in ((world.users["resident2"], 403), (secretary, 200), (world.users["street_a"], 200)):
        c = signed_in(client, user)
        got = {p: c.get(p, {"code": mine, "month": "2026-03"}).status_code
               for p in ("/insight/report/", "/insight/report.xlsx", "/insight/report.pdf")}
        assert set(got.values()) == {expected}, (user.display_name, got)
    assert client.__class__().get("/insight/report.xlsx").status_code == 302  # login first
