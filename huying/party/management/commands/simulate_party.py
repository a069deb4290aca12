"""huying simulate party --scale small|guangzhou [--year Y] [--seed N] — a simulated year of Party work.

Named `simulate_party` because dispatch owns the `simulate` command; `huying.cli` routes
`huying simulate party …` here.
"""

import json
import time

from django.core.management.base import BaseCommand, CommandError

from huying.core.errors import DomainError


class Command(BaseCommand):
    help = "模拟数据（huying simulate party --scale small|guangzhou）"

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=["small", "guangzhou"], default="small")
        parser.add_argument("--year", type=int, default=None, help="模拟的年度（默认：上一年）")
        parser.add_argument("--seed", type=int, default=2024)
        parser.add_argument("--no-summary", action="store_true", help="不测量汇总查询的耗时")

    def handle(self, *args, scale, year, seed, no_summary, **options):
        from huying.party.simulate import simulate_party

        def progress(step, done, total):
            self.stderr.write(f"[{done}/{total}] {step}")

        try:
            result = simulate_party(scale=scale, year=year, seed=seed, progress=progress)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if not no_summary:
            from huying.party.selectors import party_summary
            from huying.people.models import User

            admin = User.objects.get(username="sim-admin")
            runs = []
            for _ in range(3):
                t = time.perf_counter()
                summary = party_summary(actor=admin, year=result["year"])
                runs.append(round((time.perf_counter() - t) * 1000, 1))
            total = summary["total"]
            result["summary"] = {"ms": runs, "units_reported": total.units_reported,
                                 "members_reported": total.members_reported, "service_teams": total.service_teams,
                                 "services_done": total.services_done, "service_hours": str(total.service_hours)}
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=1))
