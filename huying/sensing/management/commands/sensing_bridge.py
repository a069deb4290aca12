"""huying sensing bridge [--stats-every S] [--url URL] [--client-id ID]: subscribe on the MQTT broker and store
sensor readings (huying/sensing/bridge.py, docs/sensing.md). Runs until SIGTERM or Ctrl-C, then finishes the
batch it holds, acknowledges it and exits. `huying.cli` routes `huying sensing bridge …` here."""

import logging
import signal
import sys

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "MQTT 感知数据接入（huying sensing bridge）"

    def add_arguments(self, parser):
        parser.add_argument("--url", help="broker, default HUYING_MQTT_URL")
        parser.add_argument("--client-id", help="client id (names the persistent session), default HUYING_MQTT_CLIENT_ID")
        parser.add_argument("--stats-every", type=float, default=10.0, help="seconds between count lines (0: only at exit)")

    def handle(self, *args, url, client_id, stats_every, **options):
        from huying.sensing.bridge import Bridge

        if not logging.getLogger("huying.sensing.bridge").handlers and not logging.getLogger().handlers:
            logging.basicConfig(level=logging.WARNING)
        try:
            bridge = Bridge(url, client_id, stats_every=stats_every, out=sys.stdout)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, bridge.request_stop)
        self.stdout.write(f"sensing bridge: {bridge.address} as {bridge.client_id}, Ctrl-C or SIGTERM to stop")
        self.stdout.flush()
        bridge.run()
