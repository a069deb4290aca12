"""`huying dispatch_seed`: load the request types and the subject tree (adds what is missing)."""

from django.core.management.base import BaseCommand

from huying.dispatch.seed import dispatch_seed


class Command(BaseCommand):
    help = "Load the default request types (诉求类型) and subjects (事项分类); never overwrites edits."

    def handle(self, *args, **options):
        made = dispatch_seed()
        self.stdout.write(f"request_types: {made['request_types']} new, subjects: {made['subjects']} new")
