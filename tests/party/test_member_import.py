"""Member import from Excel/CSV: every row checked first, a bad row refuses the whole file."""

import io
import time
from datetime import date

import pytest
from openpyxl import load_workbook

from huying.core.errors import DomainError
from huying.core.models import AuditEntry
from huying.party.models import Member
from huying.party.services import members_import

from .conftest import id_number, xlsx_file

HEADER = ["姓名", "手机号", "身份证号", "所属党组织代码", "入党日期", "居住地址", "在职党员"]


def ident(serial: int) -> str:
    weights, check = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), "10X98765432"
    body = f"440104{1950 + serial % 50}{1 + serial % 12:02d}{1 + serial % 28:02d}{serial % 1000:03d}"
    return body + check[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def rows(n: int, org_code: str = "") -> list[list]:
    out = []
    for i in range(n):
        out.append([f"党员{i:05d}", f"137{i:08d}", ident(i), org_code, date(2000 + i % 20, 7, 1),
                    f"广州市越秀区流水井社区文德路{i}号" if i % 2 else "", "是" if i % 3 else "否"])
    return out


def xlsx(data: list[list], header=HEADER) -> io.BytesIO:
    return xlsx_file(header, data, "members.xlsx")


def test_ten_thousand_rows_two_bad_refused_whole_then_corrected_file_loads(city, capsys):
    org, secretary = city.org["party-440104003001"], city.user.lsj_secretary
    data = rows(10_000)
    good_id, good_phone = data[4999][2], data[8764][1]
    data[4999][2] = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")  # spreadsheet row 5001: bad checksum
    data[8764][1] = "12345"  # spreadsheet row 8766: not a mobile number
    members_before, audits_before = Member.objects.count(), AuditEntry.objects.count()
    with pytest.raises(DomainError) as exc:
        members_import(xlsx(data), organisation=org, actor=secretary)
    err = exc.value
    assert err.code == "party.import.rows_invalid"
    assert err.details["bad_rows"] == [5001, 8766]
    assert [(e["row"], e["field"]) for e in err.details["rows"]] == [(5001, "身份证号"), (8766, "手机号")]
    assert "5001" in err.message and "8766" in err.message
    assert Member.objects.count() == members_before and AuditEntry.objects.count() == audits_before

    data[4999][2], data[8764][1] = good_id, good_phone
    started = time.perf_counter()
    result = members_import(xlsx(data), organisation=org, actor=secretary)
    took = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n10,000-member import took {took:.1f} s")  # a figure, not a limit: bench/ times things
    assert result == {"created": 10_000, "file": "members.xlsx"}
    made = Member.objects.filter(organisation=org)
    assert made.count() == 10_000
    m = made.select_related("user", "home_community", "home_grid").get(user__display_name="党员00001")
    assert (m.user.phone, m.user.id_number, m.joined_on, m.in_service) == ("13700000001", ident(1), date(2001, 7, 1),
                                                                           True)
    assert m.home_community.code == "440104003001"
    assert not m.user.has_usable_password()
    assert m.user.memberships.filter(unit=org.unit, role__code="party_member", active=True).exists()
    assert AuditEntry.objects.filter(action="party.member.registered").count() == 10_000
    [one] = AuditEntry.objects.filter(action="party.member.imported")
    assert one.data["count"] == 10_000 and one.data["file"] == "members.xlsx"
    assert one.data["organisation"] == org.unit.code and one.actor_id == secretary.pk


def test_csv_with_bom_and_organisation_below(city):
    street = city.org["party-440104003"]
    text = ",".join(HEADER) + "\r\n" + "\r\n".join(
        ",".join(str(v) for v in r) for r in rows(3, org_code="party-440104003002")) + "\r\n"
    result = members_import(("\ufeff" + text).encode("utf-8"), organisation=street, actor=city.user.bj_secretary,
                            filename="m.csv")
    assert result["created"] == 3
    assert set(Member.objects.values_list("organisation__unit__code", flat=True)) == {"party-440104003002"}


def test_row_errors_name_field_and_reason(city, members):
    org = city.org["party-440104003001"]
    data = rows(6)
    data[1][0] = ""  # row 3: no name
    data[2][2] = data[0][2]  # row 4: same ID as row 2
    data[3][3] = "party-440104004001"  # row 5: another street's organisation
    data[4][4] = "2099-01-01"  # row 6: in the future
    data[5][2] = id_number(1)  # row 7: someone... not a member (lsj_secretary): reused, fine
    data.append(["王大", "13911112222", members.dave.user.id_number, "", "", "", ""])  # row 8: already a member
    with pytest.raises(DomainError) as exc:
        members_import(xlsx(data), organisation=org, actor=city.user.lsj_secretary)
    got = {(e["row"], e["field"]) for e in exc.value.details["rows"]}
    assert got == {(3, "姓名"), (4, "身份证号"), (5, "所属党组织代码"), (6, "入党日期"), (8, "身份证号")}


def test_missing_column_is_named(city):
    with pytest.raises(DomainError) as exc:
        members_import(xlsx(rows(1), header=["姓名", "手机号"]), organisation=city.org["party-440104003001"],
                       actor=city.user.lsj_secretary)
    assert exc.value.code == "party.import.missing_column" and "身份证号" in exc.value.message


@pytest.mark.parametrize("who", ["lc_secretary", "resident", "metro_secretary"])
def test_only_a_secretary_of_the_organisation_or_above(city, who):
    with pytest.raises(DomainError) as exc:
        members_import(xlsx(rows(2)), organisation=city.org["party-440104003001"], actor=getattr(city.user, who))
    assert exc.value.status == 403
    assert not Member.objects.exists()


def test_a_member_may_not_import(city, members):
    with pytest.raises(DomainError) as exc:
        members_import(xlsx(rows(1)), organisation=city.org["metro"], actor=members.alice.user)
    assert exc.value.status == 403


# -- the page --------------------------------------------------------------------------------------
def test_page_shows_row_errors_then_success(city, client):
    org = city.org["party-440104003001"]
    client.force_login(city.user.lsj_secretary)
    page = client.get(f"/party/org/import/?org={org.pk}")
    assert page.status_code == 200 and "导入党员" in page.content.decode()
    data = rows(4)
    data[2][1] = "123"
    up = xlsx(data)
    r = client.post(f"/party/org/import/?org={org.pk}", {"file": up})
    body = r.content.decode()
    assert r.status_code == 400
    assert 'id="import-errors"' in body and "<td>4</td>" in body and "手机号" in body
    assert not Member.objects.exists()
    data[2][1] = "13912345678"
    r = client.post(f"/party/org/import/?org={org.pk}", {"file": xlsx(data)}, follow=True)
    assert r.status_code == 200 and "已导入 4 名党员" in r.content.decode()
    assert Member.objects.count() == 4


def test_template_download_and_workbench_link(city, client):
    org = city.org["party-440104003001"]
    client.force_login(city.user.lsj_secretary)
    assert f"/party/org/import/?org={org.pk}" in client.get(f"/party/org/?org={org.pk}").content.decode()
    r = client.get("/party/org/import/template.xlsx")
    assert r.status_code == 200 and "spreadsheetml" in r["Content-Type"]
    ws = load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0]
    assert list(next(ws.iter_rows(values_only=True))) == HEADER


def test_page_refused_to_another_secretary(city, client):
    client.force_login(city.user.lc_secretary)
    r = client.post(f"/party/org/import/?org={city.org['party-440104003001'].pk}", {"file": xlsx(rows(1))})
    assert r.status_code in (403, 404)
    assert not Member.objects.exists()
