"""huying simulate services --scale small|guangzhou [--seed N] [--end ISO] [--matters N] — service positions,
the catalogue, community workers, the admission list and a year of desk matters.

Named `simulate_services` because dispatch owns the `simulate` command; `huying.cli` routes
`huying simulate services …` here. Prints the counts as JSON (centres, stations, items,
admission_items, workers, matters, seconds).
"""

import json
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from huying.core.errors import DomainError
from huying.core.progress import Progress


class Command(BaseCommand):
    help = "模拟数据（huying simulate services --scale small|guangzhou）"

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=["small", "guangzhou"], default="small")
        parser.add_argument("--seed", type=int, default=2025)
        parser.add_argument("--end", default="", help="模拟的最后时刻，ISO 格式（默认：现在）")
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--matters", type=int, default=None, help="办件数量（默认：按规模的每日办件量）")

    def handle(self, *args, scale, seed, end, days, matters, **options):
        from huying.services.hours import BEIJING
        from huying.services.simulate import Options, simulate_services

        end_at = None
        if end:
            try:
                end_at = datetime.fromisoformat(end)
            except ValueError:
                raise CommandError("--end: ISO 格式，例如 2026-06-30T18:00") from None
            if end_at.tzinfo is None:
                end_at = end_at.replace(tzinfo=BEIJING)
        progress = Progress(getattr(self.stderr, "_out", self.stderr))
        try:
            result = simulate_services(Options(scale=scale, seed=seed, end=end_at, days=days, matters=matters),
                                       progress=progress)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        finally:
            progress.close()
        self.stdout.write(json.dumps(result, ensure_ascii=False))
