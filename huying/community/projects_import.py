"""Lift owners from an Excel (.xlsx) or UTF-8 CSV file (业主名单导入), read with the all-or-nothing import
machinery the Party member import established (`huying.party.services.imports`: the same size limits,
header matching, row numbering as the spreadsheet shows it, and refusal naming each bad row).

This module only reads: `owner_rows` gives each data row's cells as cleaned text, with the rows whose
cells hold characters no store can keep already listed as errors; `projects.lift_owners_import` checks the
values and writes the owners, or none.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.party.services.imports import (
    _cell_text,
    filename_of,
    read_rows,
    refuse_rows,
    table_of,
    template_bytes,
)

__all__ = ["COLUMNS", "filename_of", "owner_rows", "owners_template_bytes", "refuse_rows"]

# column → the header names accepted for it (the first is what the template writes; spaces are ignored)
COLUMNS = {
    "flat": ("单元/房号", "房号", "单元房号", "门牌号"),
    "floor": ("楼层", "所在楼层"),
    "area_m2": ("面积(平方米)", "面积（平方米）", "专有部分面积(平方米)", "专有部分面积（平方米）", "专有面积", "面积"),
    "name": ("业主姓名", "姓名", "业主"),
    "phone": ("联系电话", "手机号", "手机号码", "电话"),
}
REQUIRED = ("flat", "floor", "area_m2", "name")
MAX_ROWS = 2000  # a building's flats, with room to spare


def owner_rows(source, filename: str) -> tuple[list[tuple[int, dict]], list[dict]]:
    """([(row number, {column: text})], errors) of an owners file; a header without a required column, an
    empty file or one that is not a spreadsheet is refused whole (DomainError on the `file` field)."""
    from .projects import owner_label

    rows, _columns = read_rows(table_of(source, filename), COLUMNS, REQUIRED, no_rows=_("文件中没有业主数据。"),
                               too_many=_("一次最多导入 %(n)s 户业主。") % {"n": MAX_ROWS}, max_rows=MAX_ROWS)
    out, errors = [], []
    for row in rows:
        text, bad = {}, False
        for key in COLUMNS:
            try:
                text[key] = clean_text(_cell_text(row.values.get(key)), field=key, max_length=255,
                                       label=owner_label(key))
            except DomainError as exc:
                errors.append({"row": row.number, "field": owner_label(key), "message": exc.message})
                bad = True
        if not bad:
            out.append((row.number, text))
    return out, errors


def owners_template_bytes() -> bytes:
    """The .xlsx template: the header row, phone and flat columns kept as text."""
    header = [names[0] for names in COLUMNS.values()]
    return template_bytes(header, sheet=_("业主"), widths=(12, 8, 14, 12, 16), text_columns="AE")
