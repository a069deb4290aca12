"""huying classifier-corrections --out FILE.csv — operators' label corrections as extra training rows.

Writes title, body, label (one row per corrected order, its latest correction), the shape
`huying classifier train --extra FILE.csv` reads.
"""

import csv
import sys

from django.core.management.base import BaseCommand, CommandError

from huying.dispatch.triage.selectors import corrections_for_training


class Command(BaseCommand):
    help = "导出运营人员的分类更正（title,body,label），供 huying classifier train --extra 使用"

    def add_arguments(self, parser):
        parser.add_argument("--out", default="-", help="输出 CSV 文件（默认：标准输出）")

    def handle(self, *args, out, **opts):
        try:
            f = sys.stdout if out == "-" else open(out, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"无法写入 {out}：{exc}", returncode=2) from exc
        n = 0
        try:
            w = csv.writer(f)
            w.writerow(["title", "body", "label"])
            for row in corrections_for_training():
                w.writerow(row)
                n += 1
        finally:
            if f is not sys.stdout:
                f.close()
        self.stderr.write(f"corrections: {n}")
