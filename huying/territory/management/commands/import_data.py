"""`huying import divisions|grids|buildings FILE …`: load territory data from JSON/GeoJSON files.

A bad file (unreadable, not JSON, wrong shape, a bad feature) prints what is wrong — naming the
feature — on stderr and exits with status 2, having loaded nothing.
"""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _
from tqdm import tqdm

from huying.core.errors import DomainError
from huying.territory.services.imports import buildings_import, grids_import

EXIT_BAD_INPUT = 2


def progress(iterable, **kwargs):
    """tqdm on an interactive terminal, silent otherwise (logs, tests, pipes)."""
    return tqdm(iterable, disable=None, leave=False, **kwargs)


def read_json(path: str):
    """The parsed content of a JSON file (`-` reads stdin), or a DomainError saying why not."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DomainError("territory.import.file", _("%(path)s 不是 UTF-8 编码的文本文件") % {"path": path},
                          field="file") from exc
    except OSError as exc:
        raise DomainError("territory.import.file", _("无法读取文件 %(path)s：%(why)s")
                          % {"path": path, "why": exc.strerror or exc}, field="file") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DomainError("territory.import.file",
                          _("%(path)s 不是有效的 JSON：第 %(line)d 行第 %(col)d 列，%(why)s")
                          % {"path": path, "line": exc.lineno, "col": exc.colno, "why": exc.msg},
                          field="file") from exc


class Command(BaseCommand):
    help = _("导入区划、网格图层或楼栋：huying import divisions|grids|buildings FILE …")

    def create_parser(self, prog_name, subcommand, **kwargs):
        # Usage lines should show the name people type (`huying import`), not the module's.
        return super().create_parser(prog_name, "import" if subcommand == "import_data" else subcommand, **kwargs)

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True, metavar="divisions|grids|buildings")
        p = sub.add_parser("divisions", help=_("区划名单（data/divisions.json 的格式），可附边界 GeoJSON"))
        p.add_argument("file")
        p.add_argument("--boundaries", metavar="FILE.geojson", help=_("区划边界 GeoJSON，按 properties.code 对应"))
        p.add_argument("--replace", action="store_true", help=_("覆盖内容不同的区划，并删除文件中没有的区划"))
        p.add_argument("--json", action="store_true", help=_("以 JSON 输出结果"))
        p = sub.add_parser("grids", help=_("一个网格图层的 GeoJSON（属性 code、name、community）"))
        p.add_argument("file")
        p.add_argument("--layer", required=True, help=_("图层名，例如 party、zongzhi、chengguan"))
        p.add_argument("--source", default="", help=_("数据来源说明，记入审计"))
        p.add_argument("--allow-unified", action="store_true",
                       help=_("允许直接导入已合并的官方统一网格（图层 unified）"))
        p.add_argument("--json", action="store_true", help=_("以 JSON 输出结果"))
        p = sub.add_parser("buildings", help=_("楼栋点 GeoJSON（属性 address、households，可选 code）"))
        p.add_argument("file")
        p.add_argument("--json", action="store_true", help=_("以 JSON 输出结果"))

    def handle(self, *args, **options):
        try:
            report = getattr(self, f"_{options['what']}")(options)
        except DomainError as exc:
            self.stderr.write(exc.message)
            raise SystemExit(EXIT_BAD_INPUT) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(self._summary(options["what"], report))

    def _divisions(self, options) -> dict:
        # Imported here so this command loads even where the divisions service is not installed.
        from huying.territory.services.divisions import boundaries_import, divisions_import

        data = read_json(options["file"])
        boundaries = read_json(options["boundaries"]) if options.get("boundaries") else None
        with transaction.atomic():
            report = {"divisions": divisions_import(data, replace=options["replace"])}
            if boundaries is not None:
                report["boundaries"] = boundaries_import(boundaries)
        return report

    def _grids(self, options) -> dict:
        geojson = read_json(options["file"])
        return grids_import(geojson, layer=options["layer"], source=options["source"] or options["file"],
                            allow_unified=options["allow_unified"], progress=progress)

    def _buildings(self, options) -> dict:
        return buildings_import(read_json(options["file"]), progress=progress)

    def _summary(self, what: str, report: dict) -> str:
        if what == "grids":
            lines = [_("网格图层 %(layer)s：%(n)d 个网格，新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d")
                     % {"layer": report["layer"], "n": report["features"], "created": report["created"],
                        "updated": report["updated"], "unchanged": report["unchanged"]}]
            if report["kept"]:
                lines.append(_("图层中另有 %(n)d 个网格不在文件中，已保留") % {"n": report["kept"]})
            lines += [_("提示：%(w)s") % {"w": w} for w in report["warnings"]]
            return "\n".join(lines)
        if what == "buildings":
            return (_("楼栋 %(n)d 栋（%(hh)d 户，落在 %(grids)d 个网格）：新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d")
                    % {"n": report["features"], "hh": report["households"], "grids": report["grids"],
                       "created": report["created"], "updated": report["updated"], "unchanged": report["unchanged"]})
        return "\n".join(f"{key}: " + ", ".join(f"{k}={v}" for k, v in value.items()) for key, value in report.items())
