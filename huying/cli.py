"""The `huying` command: Django management commands under friendlier names.

    huying demo [--no-serve]        load Guangzhou and serve the demo on SQLite
    huying serve [--host H] [--port P]
    huying import divisions|grids|buildings FILE …
    huying generate grids …
    huying grids merge LAYER …
    huying locate LNG LAT | --address TEXT
    huying territory stats
    huying simulate party --scale small|guangzhou
    huying simulate year --scale guangzhou [--orders N]
    huying classifier-corrections --out FILE.csv   operators' label corrections for `classifier train --extra`
    huying <any Django command>     e.g. huying migrate, huying createsuperuser
"""

import os
import sys

ALIASES = {"import": "import_data", "classifier-corrections": "classifier_corrections"}
# `huying simulate <what>`: subjects other apps simulate under their own command name.
SIMULATE_ALIASES = {"party": "simulate_party", "year": "simulate_year"}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huying.settings")
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1:
        argv[1] = ALIASES.get(argv[1], argv[1])
    if len(argv) > 2 and argv[1] == "simulate" and argv[2] in SIMULATE_ALIASES:
        argv[1:3] = [SIMULATE_ALIASES[argv[2]]]
    argv[0] = "huying"
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
