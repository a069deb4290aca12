"""`huying grids merge LAYER [LAYER …] [--tolerance T] [--replace] [--json]`: 多网合一."""

import json

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from huying.core.errors import DomainError
from huying.territory.services.merge import grids_merge, merge_report_text

from .import_data import EXIT_BAD_INPUT, progress


class Command(BaseCommand):
    help = _("网格图层操作：huying grids merge LAYER [LAYER …]")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="merge")
        p = sub.add_parser("merge", help=_("多网合一：以第一个图层为基础，把其余图层合并为统一网格"))
        p.add_argument("layers", nargs="+", metavar="LAYER")
        p.add_argument("--tolerance", type=float, default=0.01,
                       help=_("缺口、重叠和碎片的容差（占面积的比例），默认 0.01"))
        p.add_argument("--replace", action="store_true", help=_("允许覆盖已导入的统一网格"))
        p.add_argument("--json", action="store_true", help=_("以 JSON 输出报告"))

    def handle(self, *args, **options):
        try:
            report = grids_merge(options["layers"], tolerance=options["tolerance"], replace=options["replace"],
                                 progress=progress)
        except DomainError as exc:
            self.stderr.write(exc.message)
            raise SystemExit(EXIT_BAD_INPUT) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(merge_report_text(report))
