"""Sensors from an Excel (.xlsx) or UTF-8 CSV file (感知设备导入), read with the all-or-nothing import
machinery of the Party member import (`huying.party.services.imports`: size limits, header matching,
rows numbered as the spreadsheet shows them, refusal naming each bad row).

This module only reads; `services.sensors_import` checks the values and writes every sensor, or none.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.party.services.imports import _cell_text, read_rows, table_of, template_bytes

# column → the header names accepted for it (the first is what the template writes; spaces are ignored)
COLUMNS = {
    "code": ("设备编码", "编码", "设备编号"),
    "name": ("名称", "设备名称"),
    "kind": ("类别", "设备类别", "类型"),
    "lng": ("经度",),
    "lat": ("纬度",),
    "measure_unit": ("计量单位", "单位"),
    "owner_unit": ("权属单位编码", "单位编码"),
    "address": ("地址", "安装地址"),
    "place": ("场所", "场所名称"),
    "building": ("楼栋编码",),
}
REQUIRED = ("code", "name", "kind", "lng", "lat")
LABELS = {key: names[0] for key, names in COLUMNS.items()}
MAX_ROWS = 5000
LENGTHS = {"code": 40, "name": 120, "kind": 20, "lng": 30, "lat": 30, "measure_unit": 16, "owner_unit": 40,
           "address": 255, "place": 60, "building": 24}
TITLE = _l("感知设备")


def sensor_rows(source, filename: str) -> tuple[list[tuple[int, dict]], list[dict]]:
    """([(row number, {column: text})], errors) of a sensors file; an empty file, a header without a required
    column or a file that is not a spreadsheet is refused whole (DomainError on the `file` field)."""
    rows, _columns = read_rows(table_of(source, filename), COLUMNS, REQUIRED, no_rows=_("文件中没有设备数据。"),
                               too_many=_("一次最多导入 %(n)s 台设备。") % {"n": MAX_ROWS}, max_rows=MAX_ROWS)
    out, errors = [], []
    for row in rows:
        text, bad = {}, False
        for key in COLUMNS:
            try:
                text[key] = clean_text(_cell_text(row.values.get(key)), field=key, max_length=LENGTHS[key],
                                       label=LABELS[key])
            except DomainError as exc:
                errors.append({"row": row.number, "field": LABELS[key], "message": exc.message})
                bad = True
        if not bad:
            out.append((row.number, text))
    return out, errors


def template() -> bytes:
    """The .xlsx template: the header row; code and unit-code columns kept as text."""
    header = [names[0] for names in COLUMNS.values()]
    return template_bytes(header, sheet=str(TITLE), widths=(16, 24, 10, 12, 12, 10, 16, 30, 20, 16),
                          text_columns="AGJ")
