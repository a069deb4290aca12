"""`huying locate LNG LAT [--crs wgs84|gcj02|bd09]` and `huying locate --address TEXT`.

Prints JSON and answers with its exit status, so scripts can branch on it:
0 found, 2 bad input, 3 outside the city, 4 an address that names nothing known.
"""

import json
import math

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from huying.core.errors import DomainError
from huying.territory.locator import locate_address, locate_point

EXIT_FOUND = 0
EXIT_BAD_INPUT = 2
EXIT_OUTSIDE = 3
EXIT_NOT_FOUND = 4


class Command(BaseCommand):
    help = _("定位：经纬度或地址 → 区、街道/镇、社区/村、网格（JSON 输出）")

    def add_arguments(self, parser):
        # Kept as text so a bad number is answered with our message and exit status, not argparse's.
        parser.add_argument("coords", nargs="*", metavar="LNG LAT", help=_("经度 纬度"))
        parser.add_argument("--crs", default="wgs84", help=_("坐标系：wgs84（默认）、gcj02、bd09"))
        parser.add_argument("--address", help=_("按地址文字定位"))

    def handle(self, *args, **options):
        try:
            if options["address"] is not None:
                if options["coords"]:
                    raise DomainError("territory.bad_input", _("经纬度与 --address 只能给一种"), field="address")
                match = locate_address(options["address"])
                if match.outside:
                    return self._answer({"outside": True}, EXIT_OUTSIDE)
                if not match.found:
                    return self._answer({"found": False}, EXIT_NOT_FOUND)
                return self._answer(match.location.as_dict(), EXIT_FOUND)
            lng, lat = self._coords(options["coords"])
            location = locate_point(lng, lat, crs=options["crs"])
        except DomainError as exc:
            self.stderr.write(exc.message)
            self.stdout.write(json.dumps({"error": exc.code, "message": exc.message}, ensure_ascii=False))
            raise SystemExit(EXIT_BAD_INPUT) from exc
        if location is None:
            return self._answer({"outside": True}, EXIT_OUTSIDE)
        return self._answer(location.as_dict(), EXIT_FOUND)

    @staticmethod
    def _coords(values: list[str]) -> tuple[float, float]:
        if len(values) != 2:
            raise DomainError("territory.bad_input", _("请给出经度和纬度两个数，或用 --address 给出地址"), field="coords")
        try:
            lng, lat = float(values[0]), float(values[1])
        except ValueError as exc:
            raise DomainError("territory.bad_coordinate", _("经纬度必须是数字：%(values)s") % {"values": " ".join(values)},
                              field="coords") from exc
        if not (math.isfinite(lng) and math.isfinite(lat)):
            raise DomainError("territory.bad_coordinate", _("坐标必须是有限的数值。"), field="coords")
        return lng, lat

    def _answer(self, payload: dict, status: int) -> None:
        self.stdout.write(json.dumps(payload, ensure_ascii=False))
        if status != EXIT_FOUND:
            raise SystemExit(status)
