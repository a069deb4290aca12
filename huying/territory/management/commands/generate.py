"""huying generate grids [--district CODE ...] [--target N] [--seed S] [--buildings-per-grid N]

Draws streets', communities' and grids' areas and places buildings where no survey exists
(see `huying.territory.services.generate`). Re-running replaces what an earlier run generated.
"""

import json

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from huying.core.errors import DomainError
from huying.territory.services.generate import grids_generate


class TqdmProgress:
    """Turns the service's progress(step, done, total) calls into one tqdm bar per step."""

    def __init__(self, disable: bool = False):
        self.bar = None
        self.step = None
        self.disable = disable

    def __call__(self, step: str, done: int, total: int) -> None:
        if step != self.step:
            self.close()
            self.step = step
            self.bar = tqdm(total=total, desc=step, unit="", disable=self.disable)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Command(BaseCommand):
    help = "生成网格：按人口密度把区划分为街道、社区和网格，并生成楼栋（huying generate grids）"

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["grids"], help="grids: 街道/社区边界、网格和楼栋")
        parser.add_argument("--district", dest="districts", action="extend", nargs="+", metavar="CODE",
                            help="只生成这些区（6位区代码），默认全部")
        parser.add_argument("--target", type=int, default=20000, help="全市网格目标数（默认 20000）")
        parser.add_argument("--seed", type=int, default=20201, help="随机种子，相同种子结果相同")
        parser.add_argument("--buildings-per-grid", type=int, default=10, help="每个网格平均楼栋数")
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")

    def handle(self, *args, what, districts, target, seed, buildings_per_grid, no_progress, **options):
        progress = TqdmProgress(disable=no_progress)
        try:
            result = grids_generate(districts=districts, grids_target=target, seed=seed,
                                    buildings_per_grid=buildings_per_grid, progress=progress)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        finally:
            progress.close()
        self.stdout.write(
            f"已生成 {result['districts']} 个区：街道/镇 {result['streets']}，社区/村 {result['communities']}"
            f"（其中生成 {result['generated_communities']}），网格 {result['grids']}，楼栋 {result['buildings']}，"
            f"用时 {result['seconds']} 秒"
        )
        if options["verbosity"] > 1:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
