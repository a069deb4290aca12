"""`huying hot run [--csv FILE] [--top N]`: find and rank hot issues (热点问题).

With --csv, groups the rows of a CSV in hot.csv's shape (id, title, body, time, likes) and prints
the top groups; without, groups the orders of the last --days days in the database, prints them
and raises alerts (预警) where something grows faster than usual (`--no-alerts` to only print).
"""

from collections import Counter
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from huying.dispatch.hot.csvio import CsvError, read_calls
from huying.dispatch.hot.grouping import DISTRICT_RE, Group, group_calls
from huying.dispatch.hot.heat import rank
from huying.dispatch.hot.selectors import call_from_order
from huying.dispatch.hot.services import hot_scan
from huying.dispatch.models import WorkOrder


class Command(BaseCommand):
    help = "热点问题：对 CSV 或数据库中的工单聚类并按热度排序，并对异常增长发出预警"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        r = sub.add_parser("run", help="聚类并列出热度最高的组")
        r.add_argument("--csv", help="hot.csv 格式的文件（id,title,body,time,likes）")
        r.add_argument("--top", type=int, default=10, help="列出前 N 组（默认 10）")
        r.add_argument("--days", type=int, default=28, help="数据库模式：最近天数（默认 28）")
        r.add_argument("--threshold", type=float, default=0.22, help="文本相似度阈值（默认 0.22）")
        r.add_argument("--window", type=int, default=60, help="CSV 模式：时间窗口天数（默认 60）")
        r.add_argument("--no-alerts", action="store_true", help="数据库模式：只列出，不发预警")
        r.add_argument("--samples", type=int, default=0, help="每组另列 N 个不同的标题（默认 0）")

    def handle(self, *args, action, csv=None, top=10, days=28, threshold=0.22, window=60, no_alerts=False,
               samples=0, **options):
        if samples < 0:
            raise CommandError("--samples must not be negative")
        if not 0 < threshold <= 1:
            raise CommandError("--threshold must be in (0, 1]")
        if top < 1 or days < 1 or window < 1:
            raise CommandError("--top, --days and --window must be positive")
        if csv:
            try:
                calls = read_calls(csv)
            except (OSError, CsvError) as exc:
                raise CommandError(f"{csv}: {exc}") from None
            groups = rank(group_calls(calls, threshold=threshold, window=timedelta(days=window)))
            self.stdout.write(f"calls: {len(calls)}  groups: {len(groups)}")
        else:
            now = timezone.now()
            orders = WorkOrder.objects.filter(created_at__gte=now - timedelta(days=days)).select_related("subject")
            calls = [call_from_order(o) for o in orders]
            groups = rank(group_calls(calls, threshold=threshold, window=timedelta(days=days)))
            self.stdout.write(f"orders: {len(calls)}  groups: {len(groups)}")
            if not no_alerts:
                alerts = hot_scan(now=now, lookback_days=days)
                self.stdout.write(f"alerts: {len(alerts)}")
        for n, g in enumerate(groups[:top], start=1):
            c = g.components
            self.stdout.write(f"{n:>2}. size={g.size} heat={g.heat} residents={c['residents']} burst={c['burst']} "
                              f"severity={c['severity']} place={_place(g)} {g.first_at:%Y-%m-%d}..{g.last_at:%Y-%m-%d} "
                              f"{g.title}")
            titles = list(dict.fromkeys(call.title for call in g.calls if call.title != g.title))
            for title in titles[:samples]:
                self.stdout.write(f"      - {title}")


def _place(g: Group) -> str:
    """The group's area code, else the district its texts name most (CSV rows carry no code)."""
    if g.area_code:
        return g.area_code
    named = Counter(d for call in g.calls for d in set(DISTRICT_RE.findall(f"{call.title} {call.body[:120]}")))
    return named.most_common(1)[0][0] if named else "—"
