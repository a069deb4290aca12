"""huying simulate community --scale small|guangzhou [--seed N]: 议事厅, 长者饭堂, 加装电梯, 微改造 and
volunteers with a year of activity, in bulk; prints the counts as JSON (halls, canteens, lifts,
volunteers, disputes, seconds, …). `huying.cli` routes `huying simulate community …` here."""

import json

from django.core.management.base import BaseCommand, CommandError

from huying.core.errors import DomainError
from huying.core.progress import Progress


class Command(BaseCommand):
    help = "模拟数据（huying simulate community --scale small|guangzhou）"

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=["small", "guangzhou"], default="small")
        parser.add_argument("--seed", type=int, default=2024)

    def handle(self, *args, scale, seed, **options):
        from huying.community.simulate import simulate_community

        progress = Progress(getattr(self.stderr, "_out", self.stderr))
        try:
            result = simulate_community(scale=scale, seed=seed, progress=progress)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        finally:
            progress.close()
        self.stdout.write(json.dumps(result, ensure_ascii=False))
