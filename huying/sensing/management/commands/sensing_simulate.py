"""huying sensing simulate [--sensors N] [--rate R] [--seconds S] [--faults] [--codes-only]: publish realistic
readings for the sensors in the database (or generated codes) with QoS 1; progress on stderr, the counts as
one JSON line at the end. `huying.cli` routes `huying sensing simulate …` here."""

import json

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "模拟感知设备上报（huying sensing simulate）"

    def add_arguments(self, parser):
        parser.add_argument("--sensors", type=int, default=None, help="how many sensors (default: all in the database; 100 with --codes-only)")
        parser.add_argument("--rate", type=float, default=50.0, help="readings per second, all sensors together")
        parser.add_argument("--seconds", type=float, default=60.0)
        parser.add_argument("--faults", action="store_true", help="also malformed payloads and device faults")
        parser.add_argument("--codes-only", action="store_true", help="generated sensor codes instead of the database's")
        parser.add_argument("--silent", type=float, default=0.03, help="share of sensors that never report")
        parser.add_argument("--per-message", type=int, default=1, help="readings per message (a gateway's batch)")
        parser.add_argument("--url", help="broker, default HUYING_MQTT_URL")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, sensors, rate, seconds, faults, codes_only, silent, per_message, url, seed, **options):
        from huying.sensing.simulate import generated_codes, sensors_from_db, simulate

        if rate <= 0 or seconds <= 0 or not 1 <= per_message <= 1000 or not 0 <= silent < 1:
            raise CommandError("--rate and --seconds must be positive, --per-message 1–1000, --silent in [0, 1)")
        if sensors is not None and sensors <= 0:
            raise CommandError("--sensors must be positive")
        chosen = generated_codes(sensors or 100) if codes_only else sensors_from_db(sensors)
        if not chosen:
            raise CommandError("没有感知设备：先导入设备，或用 --codes-only 生成编码")

        def note(text):
            self.stderr.write(text)
            self.stderr.flush()

        try:
            result = simulate(sensors=chosen, rate=rate, seconds=seconds, faults=faults, silent_share=silent,
                              per_message=per_message, url=url, seed=seed, progress=note)
        except (ValueError, OSError) as exc:
            raise CommandError(f"simulate: {exc}") from exc
        self.stdout.write(json.dumps(result, ensure_ascii=False))
