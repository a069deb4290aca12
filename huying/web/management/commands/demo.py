"""huying demo: migrate, load Guangzhou (divisions, boundaries, generated grids, offices, logins), serve.

The first start loads everything (about a minute); later starts find the data and go straight on.
"""

import json
import os
import time
from importlib import resources

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from huying.core.progress import Progress

DEMO_PASSWORD = settings.HUYING_DEMO_PASSWORD


def _note(progress, text: str) -> None:
    """A step without a count: a line in the log (Progress.note), nothing for a bare callback."""
    if progress is not None and hasattr(progress, "note"):
        progress.note(text)


def _shipped(name: str) -> dict:
    return json.loads(resources.files("huying.territory").joinpath("data", name).read_text("utf-8"))


def demo_load(*, orders: int = 20000, progress=None) -> dict:
    """Load the Guangzhou demo if it is not there yet. Returns what was done."""
    from huying.dispatch.seed import dispatch_seed, district_routing_seed
    from huying.people.demo import demo_org_seed
    from huying.people.services import roles_ensure
    from huying.territory.models import UNIFIED_LAYER, Division, Grid
    from huying.territory.services.divisions import boundaries_import, divisions_import
    from huying.territory.services.generate import grids_generate

    done = {}
    roles_ensure()
    if not Division.objects.exists():
        _note(progress, "行政区划与边界")
        with transaction.atomic():
            done["divisions"] = divisions_import(_shipped("divisions.json"))
            done["boundaries"] = boundaries_import(_shipped("districts.geojson"))
    if not Grid.objects.filter(layer=UNIFIED_LAYER).exists():
        done["grids"] = grids_generate(progress=progress)
    done["logins"] = demo_org_seed(password=DEMO_PASSWORD, progress=progress)
    _note(progress, "派单规则与诉求分类")
    done["dispatch"] = dispatch_seed()
    # 条块: each district's departments lead their subjects, the street co-handles (before the
    # simulated calls, so a share of them is department-led)
    done["dispatch"]["district_rules"] = district_routing_seed()
    from huying.dispatch.models import WorkOrder
    from huying.web.demo_seed import apps_demo_seed

    first_load = not WorkOrder.objects.exists()
    # Party, services, admission, community workers, the work system (the every-role tests run the same;
    # a contact-point visit there opens a work order, so whether calls are simulated is decided before)
    done.update(apps_demo_seed(progress=progress))

    if orders and first_load:
        # Two months of simulated calls through the same routing and deadline code, so the
        # dashboard, queues and rankings have something to show on the first start.
        from huying.insight.simulate import Options, simulate_year

        if progress:
            progress("模拟工单", 0, orders)
        # Ten batches: one progress report each (a single batch of them all said nothing until the end).
        done["orders"] = simulate_year(Options(orders=orders, days=60, batch=max(500, -(-orders // 10))),
                                       progress=lambda n, total: progress and progress("模拟工单", n, total))
    from huying.dispatch.seed import check_review_demo_seed

    # 审核 and 核查: the demo unit leader reviews, the grid worker checks a few city-management results
    done["dispatch"]["check_review"] = check_review_demo_seed()
    # The locator's point index, built once here and kept on disk (var/cache/locator), so each server
    # worker loads it in about a second instead of building it for ~9 s on its first report.
    from huying.territory import locator

    _note(progress, "定位索引")
    done["locator"] = locator.index_info()
    return done


class Command(BaseCommand):
    help = "Run the Guangzhou demo on the configured database (SQLite by default)."

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="do everything except serve")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--orders", type=int, default=20000,
                            help="simulated calls over the last 60 days on the first start (0: none)")
        parser.add_argument("--force", action="store_true",
                            help="run on a database other than SQLite (it gets logins with a known password)")

    def handle(self, *args, no_serve, host, port, orders, force=False, **options):
        if connection.vendor != "sqlite" and not force:
            raise CommandError(
                f"huying demo creates logins with a known password; the database is {connection.vendor}, "
                "not the demo's SQLite file. Add --force if this database is really a demo. "
                "演示命令会创建密码公开的账号，非 SQLite 数据库须加 --force。")
        from huying.web.secret_key import key_file, key_file_write

        if not os.environ.get("HUYING_SECRET_KEY", "").strip() and key_file_write():
            self.stdout.write(f"secret key: a random one written to {key_file()} (mode 0600)")
        started = time.monotonic()
        # Bars on a terminal; elsewhere (a pipe, a log file, CI) a line per step and per tenth done.
        progress = Progress(getattr(self.stderr, "_out", self.stderr))
        progress.note("数据库迁移")
        call_command("migrate", interactive=False, verbosity=0)
        try:
            done = demo_load(orders=orders, progress=progress)
        finally:
            progress.close()
        from huying.territory.selectors import territory_stats

        self.stdout.write("territory: " + json.dumps(territory_stats(), ensure_ascii=False))
        self.stdout.write(f"ready in {time.monotonic() - started:.1f} s")
        self.stdout.write(f"\n演示账号 demo logins (password / 密码: {DEMO_PASSWORD}):")
        for row in done["logins"]:
            self.stdout.write(f"  {row['username']:<14} {row['role']:<12} {row.get('unit', '')}  {row.get('note', '')}")
        if no_serve:
            return
        from .serve import serve

        self.stdout.write(f"\n打开 open http://{host}:{port}/")
        serve(host, port, workers=2, threads=4, with_worker=True)
