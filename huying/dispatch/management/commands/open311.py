"""`huying open311 create-key NAME` prints a new Open311 api_key; `list-keys`, `revoke-key PREFIX`."""

from django.core.management.base import BaseCommand, CommandError

from huying.core.errors import DomainError
from huying.dispatch.open311.models import Open311ApiKey
from huying.dispatch.open311.services import api_key_create, api_key_revoke


class Command(BaseCommand):
    help = "Manage Open311 GeoReport v2 API keys."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create-key", help="create a key and print it (shown only once)")
        create.add_argument("name")
        sub.add_parser("list-keys", help="list keys (prefix, name, state)")
        revoke = sub.add_parser("revoke-key", help="deactivate the key with this prefix")
        revoke.add_argument("prefix")

    def handle(self, *args, action, **options):
        if action == "create-key":
            try:
                _key, raw = api_key_create(options["name"], actor=None)
            except DomainError as exc:
                raise CommandError(exc.message) from None
            self.stdout.write(raw)
        elif action == "list-keys":
            for k in Open311ApiKey.objects.order_by("id"):
                used = k.last_used_at.isoformat(timespec="seconds") if k.last_used_at else "-"
                self.stdout.write(f"{k.prefix}\t{k.name}\t{'active' if k.active else 'revoked'}\t{used}")
        else:
            keys = list(Open311ApiKey.objects.filter(prefix=options["prefix"]))
            if len(keys) != 1:
                raise CommandError(f"{len(keys)} keys have the prefix {options['prefix']!r}")
            api_key_revoke(keys[0], actor=None)
            self.stdout.write(f"revoked {keys[0]}")
