"""huying territory stats — how many districts, streets, communities, grids and buildings are loaded."""

import json

from django.core.management.base import BaseCommand

from huying.territory.selectors import territory_stats


class Command(BaseCommand):
    help = "辖区统计（huying territory stats）"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["stats"], help="stats: 各层级数量（JSON）")

    def handle(self, *args, action, **options):
        self.stdout.write(json.dumps(territory_stats(), ensure_ascii=False))
