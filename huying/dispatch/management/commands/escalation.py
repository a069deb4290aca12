"""`huying escalation sweep [--once]`: flag missed whistle reports and issue or escalate supervision."""

from django.core.management.base import BaseCommand

from huying.core.loop import run_forever
from huying.dispatch.escalation.services import escalation_sweep


class Command(BaseCommand):
    help = "吹哨报到与督办：标记超时未报到的召集，对超期和被标记的工单发出或升级督办通知"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        s = sub.add_parser("sweep", help="扫描一次（--once）或循环扫描")
        s.add_argument("--once", action="store_true", help="扫描一次后退出")
        s.add_argument("--interval", type=float, default=60.0, help="两次扫描间隔秒数（默认 60）")

    def handle(self, *args, action, once=False, interval=60.0, **options):
        def step(_stopping):
            counts = escalation_sweep()
            return f"flagged={counts['flagged']} supervised={counts['supervised']}"

        run_forever(step, once=once, interval=interval, stdout=self.stdout)
