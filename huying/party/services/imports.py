"""Member import (党员批量导入) from an Excel or CSV file: every row is checked first, all or nothing.

A file with any bad row is refused whole, naming each bad row as the spreadsheet numbers it (the
header is row 1), so the secretary corrects the file and loads it again; nothing half-loaded to
untangle. A good file is written in one transaction with bulk inserts (10,000 rows in seconds) and
the same audit rows `member_register` would write, plus one row for the import itself.
"""

from __future__ import annotations

import csv
import io
import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core.audit import audit_log, audit_row
from huying.core.errors import DomainError
from huying.core.models import AuditEntry
from huying.core.text import clean_text
from huying.people.masking import mask_id_number, mask_phone
from huying.people.models import Membership, RoleCode, Unit, User
from huying.people.scope import forget_scope
from huying.people.services import _role, id_number_checksum_ok
from huying.territory import locator
from huying.territory.models import Division, Grid

from ..models import Member, PartyOrganisation
from .common import require_org_manager
from .members import _member_dict

# column → the header names accepted for it (the first is what the template writes)
COLUMNS = {
    "name": ("姓名",),
    "phone": ("手机号", "手机号码", "联系电话"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码"),
    "org_code": ("所属党组织代码", "党组织代码"),
    "joined_on": ("入党日期", "入党时间"),
    "home_address": ("居住地址", "居住地址/社区", "居住社区", "家庭住址"),
    "in_service": ("在职党员", "是否在职"),
}
REQUIRED = ("name", "phone", "id_number")
TEMPLATE_HEADER = [names[0] for names in COLUMNS.values()]
MAX_ROWS = 50_000
MAX_BYTES = 20 * 1024 * 1024
# The Party was founded on 1 July 1921: no one joined before.
EARLIEST_JOIN = date(1921, 7, 1)
_PHONE = re.compile(r"^1\d{10}$")
_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_YES = {"是", "在职", "y", "yes", "1", "true"}
_NO = {"否", "不在职", "退休", "n", "no", "0", "false"}
_BATCH = 1000


def _label(key: str) -> str:
    return COLUMNS[key][0]


@dataclass
class _Row:
    number: int
    values: dict = field(default_factory=dict)


@dataclass
class _Checked:
    number: int
    name: str
    phone: str
    id_number: str
    org_code: str
    joined_on: date | None
    home_address: str
    in_service: bool


# -- reading ------------------------------------------------------------------------------------
def _cell_text(value) -> str:
    """A cell as text: whole numbers without ".0" (Excel stores a phone number as a float)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _read_table(source, filename: str) -> list[tuple]:
    """The rows of an .xlsx or .csv file (header first), as tuples of raw cell values."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    elif isinstance(source, bytes):
        data = source
    else:
        data = source.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise DomainError("party.import.too_large", _("文件过大（上限 20 MB）。"), field="file")
    if not data:
        raise DomainError("party.import.empty", _("文件是空的。"), field="file")
    lower = filename.lower()
    if data[:2] == b"PK" or lower.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a file that is not a workbook
            raise DomainError("party.import.bad_file", _("无法读取该 Excel 文件，请使用 .xlsx 格式。"),
                              field="file") from None
        try:
            ws = wb.worksheets[0]
            return [tuple(r) for r in ws.iter_rows(values_only=True)]
        finally:
            wb.close()
    if lower.endswith(".xls"):
        raise DomainError("party.import.bad_file", _("不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV。"), field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError("party.import.bad_encoding", _("CSV 文件须以 UTF-8 编码保存。"), field="file") from None
    return [tuple(r) for r in csv.reader(io.StringIO(text, newline=""))]


def _rows_of(table: list[tuple]) -> tuple[list[_Row], dict[str, int]]:
    return read_rows(table, COLUMNS, REQUIRED, no_rows=_("文件中没有党员数据。"),
                     too_many=_("一次最多导入 %(n)s 名党员。") % {"n": MAX_ROWS}, max_rows=MAX_ROWS)


def read_rows(table: list[tuple], columns_spec: dict, required, *, no_rows: str, too_many: str,
              max_rows: int) -> tuple[list[_Row], dict[str, int]]:
    """Map the header to columns; the data rows keyed by column, numbered as the spreadsheet shows them.

    Shared by every import of the app (members, organisations): `columns_spec` maps a column key to
    the header names accepted for it, the first being the template's.
    """
    if not table:
        raise DomainError("party.import.empty", _("文件是空的。"), field="file")
    header = [clean_text(_cell_text(h), field="file").replace(" ", "") for h in table[0]]
    columns: dict[str, int] = {}
    for key, names in columns_spec.items():
        for i, h in enumerate(header):
            if h in names and key not in columns:
                columns[key] = i
    missing = [columns_spec[k][0] for k in required if k not in columns]
    if missing:
        raise DomainError("party.import.missing_column", _("第 1 行（表头）缺少列：%(cols)s。") % {
            "cols": "、".join(missing)}, field="file", rows=[
            {"row": 1, "field": m, "message": _("缺少该列")} for m in missing])
    rows = []
    for n, raw in enumerate(table[1:], start=2):
        if all(v is None or str(v).strip() == "" for v in raw):
            continue  # blank lines (and Excel's formatted-but-empty rows) are not data
        rows.append(_Row(n, {k: (raw[i] if i < len(raw) else None) for k, i in columns.items()}))
    if not rows:
        raise DomainError("party.import.no_rows", no_rows, field="file")
    if len(rows) > max_rows:
        raise DomainError("party.import.too_many", too_many, field="file")
    return rows, columns


def table_of(source, filename: str) -> list[tuple]:
    """The rows of `source` (a list of rows, a path, bytes or an upload), header first."""
    if isinstance(source, list):
        return [tuple(r) for r in source]
    return _read_table(source, filename)


def filename_of(source, filename: str = "") -> str:
    filename = filename or getattr(source, "name", "") or (str(source) if isinstance(source, (str, os.PathLike)) else "")
    return str(filename).rsplit("/", 1)[-1][:200]


def refuse_rows(errors: list[dict], message: str) -> None:
    """Refuse a whole file: `message` (with %(rows)s and %(n)s) names the bad rows; `rows` lists each error."""
    numbers = sorted({e["row"] for e in errors})
    shown = "、".join(str(n) for n in numbers[:10]) + ("…" if len(numbers) > 10 else "")
    raise DomainError("party.import.rows_invalid", message % {"rows": shown, "n": len(numbers)}, field="file",
                      rows=sorted(errors, key=lambda e: e["row"]), bad_rows=numbers)


# -- checking ---------------------------------------------------------------------------------------
def _parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _cell_text(value).strip()
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    m = _DATE_RE.match(text)
    if not m:
        raise ValueError(text)
    return date(int(m[1]), int(m[2]), int(m[3]))


def _descendant_unit_ids(unit: Unit) -> set[int]:
    found, frontier = {unit.pk}, {unit.pk}
    while frontier:
        frontier = set(Unit.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - found
        found |= frontier
    return found


def _check_rows(rows: list[_Row], organisation: PartyOrganisation):
    """Every row checked against the rules and against the database; (good rows, errors, lookups)."""
    errors: list[dict] = []
    good: list[_Checked] = []
    today = timezone.localdate()

    def bad(n, key, message):
        errors.append({"row": n, "field": _label(key), "message": str(message)})

    seen_id: dict[str, int] = {}
    seen_phone: dict[str, int] = {}
    for row in rows:
        n, v, before = row.number, row.values, len(errors)
        text = {}
        for key in COLUMNS:
            try:
                text[key] = clean_text(_cell_text(v.get(key)), field=key, max_length=255)
            except DomainError as exc:
                bad(n, key, exc.message)
                text[key] = ""
        name = text["name"]
        if not name:
            bad(n, "name", _("必填"))
        elif len(name) > User._meta.get_field("display_name").max_length:
            bad(n, "name", _("姓名过长"))
        phone = text["phone"].replace(" ", "").replace("-", "")
        if not phone:
            bad(n, "phone", _("必填"))
        elif not _PHONE.match(phone):
            bad(n, "phone", _("手机号应为以 1 开头的 11 位数字"))
        elif phone in seen_phone:
            bad(n, "phone", _("与第 %(row)s 行的手机号重复") % {"row": seen_phone[phone]})
        else:
            seen_phone[phone] = n
        idn = text["id_number"].replace(" ", "").upper()
        if not idn:
            bad(n, "id_number", _("必填"))
        elif not id_number_checksum_ok(idn):
            bad(n, "id_number", _("身份证号应为 18 位，且末位校验码正确"))
        else:
            try:
                date(int(idn[6:10]), int(idn[10:12]), int(idn[12:14]))
            except ValueError:
                bad(n, "id_number", _("身份证号中的出生日期无效"))
            else:
                if idn in seen_id:
                    bad(n, "id_number", _("与第 %(row)s 行的身份证号重复") % {"row": seen_id[idn]})
                else:
                    seen_id[idn] = n
        joined_on = None
        if text["joined_on"]:
            try:
                joined_on = _parse_date(v.get("joined_on"))
            except ValueError:
                bad(n, "joined_on", _("日期格式应为 2001-07-01"))
            else:
                if joined_on > today:
                    bad(n, "joined_on", _("入党日期不能晚于今天"))
                elif joined_on < EARLIEST_JOIN:
                    bad(n, "joined_on", _("入党日期不能早于 1921-07-01"))
        in_service = True
        flag = text["in_service"].lower()
        if flag:
            if flag in _YES:
                in_service = True
            elif flag in _NO:
                in_service = False
            else:
                bad(n, "in_service", _("请填写“是”或“否”"))
        if len(errors) == before:
            good.append(_Checked(n, name, phone, idn, text["org_code"], joined_on, text["home_address"], in_service))

    # organisations: the chosen one or one below it
    allowed = _descendant_unit_ids(organisation.unit)
    codes = {c.org_code for c in good if c.org_code}
    orgs = {o.unit.code: o for o in PartyOrganisation.objects.select_related("unit")
            .filter(unit__code__in=codes, unit__active=True)}
    orgs[""] = organisation
    checked: list[_Checked] = []
    for c in good:
        org = orgs.get(c.org_code)
        if org is None:
            bad(c.number, "org_code", _("找不到党组织 %(code)s") % {"code": c.org_code})
        elif org.unit_id not in allowed:
            bad(c.number, "org_code", _("党组织 %(code)s 不在%(org)s之下") % {"code": c.org_code, "org": organisation})
        else:
            checked.append(c)

    # against the registry: a person already registered is refused; a known person without a record is reused
    existing: dict[str, User] = {}
    ids = [c.id_number for c in checked]
    for i in range(0, len(ids), _BATCH):
        for u in User.objects.filter(id_number__in=ids[i:i + _BATCH]):
            existing[u.id_number] = u
    registered = set(Member.objects.filter(user_id__in=[u.pk for u in existing.values()])
                     .values_list("user_id", flat=True)) if existing else set()
    placed: dict[str, tuple[int | None, int | None, str | None]] = {}
    final: list[_Checked] = []
    for c in checked:
        user = existing.get(c.id_number)
        if user is not None and user.pk in registered:
            bad(c.number, "id_number", _("该身份证号的人员已登记为党员"))
            continue
        if c.home_address:
            if c.home_address not in placed:
                placed[c.home_address] = _place(c.home_address)
            if placed[c.home_address] is None:
                bad(c.number, "home_address", _("居住地址不在本市范围内"))
                continue
        final.append(c)
    errors.sort(key=lambda e: e["row"])
    return final, errors, orgs, existing, placed


def _place(address: str):
    """(community code, grid id) of an address; None when outside the city; (None, None) when unknown."""
    match = locator.locate_address(address)
    if match.outside:
        return None
    loc = match.location if match.found else None
    if loc is None:
        return (None, None)
    return (loc.community.code if loc.community else None, loc.grid_id)


# -- the service -----------------------------------------------------------------------------------
@transaction.atomic
def members_import(source, *, organisation: PartyOrganisation, actor, filename: str = "") -> dict:
    """Register every member listed in an .xlsx/.csv file (or a list of rows), or none.

    `source` is a path, bytes, a file object (an upload) or a list of rows (the first one the
    header). Refuses the whole file with `party.import.rows_invalid` whose `rows` detail lists
    each bad row ({row, field, message}, header = row 1). Returns {"created": n, "file": name}.
    """
    require_org_manager(actor, organisation)
    filename = filename_of(source, filename)
    rows, _columns = _rows_of(table_of(source, filename))
    checked, errors, orgs, existing, placed = _check_rows(rows, organisation)
    if errors:
        refuse_rows(errors, _("导入被拒绝，未登记任何党员：第 %(rows)s 行有错误（共 %(n)s 行），请改正后重新导入。"))
    return _create(checked, organisation=organisation, actor=actor, filename=filename, orgs=orgs,
                   existing=existing, placed=placed)


def _create(checked, *, organisation, actor, filename, orgs, existing, placed) -> dict:
    role = _role(RoleCode.PARTY_MEMBER)
    community_codes = {p[0] for p in placed.values() if p and p[0]}
    communities = {d.code: d for d in Division.objects.filter(code__in=community_codes)}
    grids = Grid.objects.in_bulk({p[1] for p in placed.values() if p and p[1]})
    # One unusable password shared by the batch: these people do not sign in until given a login.
    unusable = make_password(None)
    new_users = [User(username=f"pm-{uuid.uuid4().hex[:16]}", password=unusable, display_name=c.name,
                      phone=c.phone, id_number=c.id_number) for c in checked if c.id_number not in existing]
    made = iter(_bulk(User, new_users))
    users = [existing.get(c.id_number) or next(made) for c in checked]
    audits = [audit_row(u, "people.user.created", actor=actor, new={
        "username": u.username, "display_name": u.display_name, "phone": mask_phone(u.phone),
        "id_number": mask_id_number(u.id_number), "is_staff": False, "is_superuser": False})
        for u in users if u.id_number not in existing]

    def org_of(c):
        return orgs[c.org_code]

    have = set(Membership.objects.filter(user_id__in=[u.pk for u in existing.values()], role=role, active=True)
               .values_list("user_id", "unit_id")) if existing else set()
    grants = [Membership(user=u, unit=org_of(c).unit, role=role) for c, u in zip(checked, users, strict=True)
              if (u.pk, org_of(c).unit_id) not in have]
    for m in _bulk(Membership, grants):
        audits.append(audit_row(m, "people.membership.granted", actor=actor, reason=_("党员导入"), new={
            "user": m.user.username, "unit": m.unit.code, "role": role.code, "active": True}))
    in_group = set(User.groups.through.objects.filter(user_id__in=[u.pk for u in existing.values()],
                                                      group_id=role.group_id).values_list("user_id", flat=True))
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=u.pk, group_id=role.group_id) for u in users if u.pk not in in_group],
        batch_size=_BATCH)
    members = []
    for c, u in zip(checked, users, strict=True):
        community_code, grid_id = placed.get(c.home_address) or (None, None)
        members.append(Member(user=u, organisation=org_of(c), joined_on=c.joined_on, in_service=c.in_service,
                              home_address=c.home_address, home_community=communities.get(community_code),
                              home_grid=grids.get(grid_id)))
    for m in _bulk(Member, members):
        audits.append(audit_row(m, "party.member.registered", actor=actor, new=_member_dict(m)))
    actor_pk = actor.pk if getattr(actor, "pk", None) else None
    AuditEntry.objects.bulk_create([AuditEntry(**{**a, "actor_id": actor_pk}) for a in audits], batch_size=_BATCH)
    for u in existing.values():
        forget_scope(u)
    by_org: dict[str, int] = {}
    for c in checked:
        by_org[org_of(c).unit.code] = by_org.get(org_of(c).unit.code, 0) + 1
    audit_log(organisation, "party.member.imported", actor=actor,
              data={"count": len(members), "file": filename, "organisation": organisation.unit.code,
                    "by_organisation": by_org, "new_users": len(new_users)})
    return {"created": len(members), "file": filename}


def _bulk(model, rows: list) -> list:
    out = []
    for i in range(0, len(rows), _BATCH):
        out.extend(model.objects.bulk_create(rows[i:i + _BATCH]))
    return out


def import_template_bytes() -> bytes:
    """The .xlsx template: the header row and one example row."""
    return template_bytes(TEMPLATE_HEADER, sheet="党员", widths=(10, 14, 22, 16, 12, 36, 10), text_columns="BC")


def template_bytes(header: list[str], *, sheet: str, widths, text_columns: str = "") -> bytes:
    """An .xlsx with just the header row; `text_columns` (letters) are formatted as text so Excel keeps
    every digit of a phone, an ID number or a code."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for col in text_columns:
        for row in range(1, 2001):
            ws[f"{col}{row}"].number_format = "@"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
