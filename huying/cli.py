"""The `huying` command: Django management commands under friendlier names.

`huying`, `huying -h` and `huying --help` print USAGE (the same list as the README's); `huying help`
lists every Django command; `huying help COMMAND` gives one command's options.
"""

import os
import sys

USAGE = """\
huying demo [--no-serve]                      load Guangzhou and serve (with the worker)
huying serve [--host H] [--port P] [--with-worker]   serve with gunicorn
huying import divisions FILE [--boundaries F]  divisions in the shape of huying/territory/data/divisions.json
huying import grids FILE.geojson --layer L     grid polygons (properties code, name, community)
huying import buildings FILE.geojson           building points (properties address, households)
huying generate grids [--district CODE …]      generated streets/communities/grids/buildings where no official polygons exist
huying grids merge LAYER …                     多网合一: merge grid layers into the unified layer, with a crosswalk
huying locate LNG LAT [--crs wgs84|gcj02|bd09] point → district, street, community, grid (JSON)
huying locate --address TEXT                   address text → the deepest division it names
huying territory stats                         counts at each level (JSON)
huying worker [--once] [--only|--skip NAME …]  every periodic job at its interval: deadlines, escalation (督办),
              [--every NAME=S] [--list]        alerts, hot-snapshots, notify, partitions, rollups (several may run)
huying partitions ensure [--ahead 3] | list    PostgreSQL: the order table's monthly partitions (D15)
huying escalation sweep [--once]               吹哨 report deadlines and 督办 notices
huying notify [--once]                         deliver the notification outbox; prints sent= failed= dead=
huying simulate orders --count N [--batch B]   calls through the real intake path; last line orders_per_s
huying simulate year --scale guangzhou|small [--orders N] [--workers W]   a year of calls on the bulk path (W processes; default one per core)
huying simulate party --scale guangzhou|small  organisations, members and a year of activity
huying simulate services --scale guangzhou|small [--matters N]   centres, stations, catalogue, workers, admission list, a year of desk matters (JSON counts)
huying simulate community --scale guangzhou|small   halls, canteens, lifts, renovations, volunteers and a year of activity (JSON counts)
huying sensing bridge [--stats-every S]        MQTT subscriber: sensor readings into the database, acks after commit (docs/sensing.md)
huying sensing simulate [--sensors N] [--rate R] [--seconds S] [--faults]   publish realistic readings (QoS 1); last line JSON counts
huying insight rebuild                         recompute the dashboard rollups
huying forecast [--days 14] [--evaluate]      call volume per district and level-1 subject, next days with intervals (JSON); --evaluate: MASE on held-back weeks
huying classify "TEXT"                         department family, confidence, auto/triage
huying classifier train --data DIR [--extra corrections.csv] | eval --data FILE.csv | info
huying classifier-corrections --out FILE.csv   operators' triage corrections, for the next training run
huying hot run [--csv FILE] [--top N]          hot-issue groups and early-warning alerts
huying open311 create-key NAME                 an Open311 api_key
huying photos_reencode [--dry-run]             re-encode photos stored before metadata stripping (D23)
huying check --deploy                          production settings check (see Production)
huying makemessages -l en                      the English catalogue, lazy-gettext aliases included
huying <django command>                        e.g. huying migrate, huying createsuperuser
"""

ALIASES = {"import": "import_data", "classifier-corrections": "classifier_corrections"}
# `huying simulate <what>`: subjects other apps simulate under their own command name.
SIMULATE_ALIASES = {"party": "simulate_party", "year": "simulate_year", "services": "simulate_services",
                    "community": "simulate_community"}
# `huying sensing <what>`: the sensing app's commands (sensing_bridge, sensing_simulate, …).
SENSING_ALIASES = {"bridge": "sensing_bridge", "simulate": "sensing_simulate"}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huying.settings")
    argv = list(sys.argv if argv is None else argv)
    if len(argv) == 1 or argv[1] in ("-h", "--help"):
        sys.stdout.write(USAGE + "\n`huying help` lists every command, `huying help COMMAND` its options.\n")
        return
    if len(argv) > 1:
        argv[1] = ALIASES.get(argv[1], argv[1])
    if len(argv) > 2 and argv[1] == "simulate" and argv[2] in SIMULATE_ALIASES:
        argv[1:3] = [SIMULATE_ALIASES[argv[2]]]
    if len(argv) > 2 and argv[1] == "sensing" and argv[2] in SENSING_ALIASES:
        argv[1:3] = [SENSING_ALIASES[argv[2]]]
    argv[0] = "huying"
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
