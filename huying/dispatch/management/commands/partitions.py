"""`huying partitions ensure [--ahead N]` | `huying partitions list`: the order table's monthly partitions.

PostgreSQL only (D15); on SQLite the order table is one plain table and both say so.
"""

from django.core.management.base import BaseCommand, CommandError

from huying.dispatch import partitions


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""  # pragma: no cover


class Command(BaseCommand):
    help = "Create the work-order table's monthly partitions ahead, or list them with row counts and sizes."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        ensure = sub.add_parser("ensure", help="create this month's partition and the next N (default 3); "
                                               "rows waiting in the default partition move into their month")
        ensure.add_argument("--ahead", type=int, default=partitions.AHEAD)
        sub.add_parser("list", help="partitions with bounds, rows and sizes")

    def handle(self, *args, action, ahead=partitions.AHEAD, **options):
        if not partitions.is_partitioned():
            self.stdout.write("the work-order table is not partitioned (SQLite, or before the migration)")
            return
        if action == "ensure":
            if ahead < 0:
                raise CommandError("--ahead must be 0 or more")
            done = partitions.ensure(ahead=ahead)
            self.stdout.write(f"created: {', '.join(done['created']) or 'none'}; "
                              f"moved from default: {done['moved']}")
            return
        rows = partitions.partitions_list()
        self.stdout.write(f"{'partition':<32} {'rows':>12} {'size':>10}  bounds")
        for p in rows:
            self.stdout.write(f"{p.name:<32} {p.rows:>12,} {_size(p.bytes):>10}  {p.bound}")
        self.stdout.write(f"{'total':<32} {sum(p.rows for p in rows):>12,} "
                          f"{_size(sum(p.bytes for p in rows)):>10}")
