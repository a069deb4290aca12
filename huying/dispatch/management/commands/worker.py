"""`huying worker`: run every periodic job the apps registered (core/jobs.py), each at its own interval.

    huying worker                      run them all until stopped (SIGTERM/SIGINT)
    huying worker --once               run each once and exit
    huying worker --list               name, interval and lock of each job
    huying worker --only notify …      only these jobs; --skip NAME … all but these
    huying worker --every alerts=300   another interval for a job (seconds)

One progress line per round: the jobs that ran and their counts. Several workers may run at once
(see dispatch/jobs.py for which jobs share their rows and which run in one worker at a time).
`--interval` (deadline sweeps) and `--hot-every` (hot-issue snapshots; 0 = never) are kept from
before the registry. `--parent-pid` makes the worker stop once that process is gone, for a server
that starts it beside itself.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from huying.core import jobs
from huying.core.loop import run_forever


def _every(value: str) -> tuple[str, float]:
    name, _sep, seconds = value.partition("=")
    try:
        return name.strip(), float(seconds)
    except ValueError:
        raise CommandError(f"--every {value!r}: NAME=SECONDS") from None


class Command(BaseCommand):
    help = "Run every periodic job (deadlines, 督办, alerts, hot issues, notifications, partitions); several may run."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run each job once and exit")
        parser.add_argument("--list", dest="list_jobs", action="store_true", help="list the registered jobs and exit")
        parser.add_argument("--only", nargs="+", default=[], metavar="NAME", help="run only these jobs")
        parser.add_argument("--skip", nargs="+", default=[], metavar="NAME", help="run all jobs but these")
        parser.add_argument("--every", action="append", default=[], metavar="NAME=SECONDS",
                            help="another interval for a job (repeatable)")
        parser.add_argument("--interval", type=float, default=None,
                            help="seconds between deadline sweeps (default 30)")
        parser.add_argument("--batch", type=int, default=None, help="orders per transaction in the deadline sweep")
        parser.add_argument("--hot-every", type=float, default=None,
                            help="seconds between hot-issue snapshots (default 300; 0 = never)")
        parser.add_argument("--parent-pid", type=int, default=None, help="stop once this parent process has gone")

    def handle(self, *args, once=False, list_jobs=False, only=(), skip=(), every=(), interval=None, batch=None,
               hot_every=None, parent_pid=None, **options):
        skip = [*skip]
        every = dict(_every(v) for v in every)
        if interval is not None:
            every["deadlines"] = interval
        if hot_every is not None:
            if hot_every <= 0:
                skip.append("hot-snapshots")
            else:
                every["hot-snapshots"] = hot_every
        try:
            selected = jobs.select(only=only, skip=skip)
            jobs.select(only=every)
        except KeyError as exc:
            names = ", ".join(j.name for j in jobs.registered())
            raise CommandError(f"unknown job: {exc.args[0]} (jobs: {names})") from None
        if any(v <= 0 for v in every.values()):
            raise CommandError("intervals must be positive")
        if list_jobs:
            for j in jobs.registered():
                lock = "one worker at a time" if j.exclusive else "shared"
                self.stdout.write(f"{j.name:<14} every {every.get(j.name, j.interval):>7g} s  {lock:<20} {j.title}")
            return
        if batch is not None:
            selected = [jobs.Job(j.name, j.interval, _with_batch(j.fn, batch), j.exclusive, j.title)
                        if j.name == "deadlines" else j for j in selected]
        schedule = jobs.Schedule(selected, every=every)

        printed = {"at": None}

        def step(stopping):
            jobs.close_unusable()  # a connection the database dropped since the last round
            outcomes = []
            for job in schedule.due(time.monotonic()):
                if stopping():
                    break
                outcome = jobs.run_job(job, now=timezone.now(), stopping=stopping, every=schedule.every[job.name])
                schedule.done(job, time.monotonic(), failed=bool(outcome.error))
                outcomes.append(outcome)
            line = jobs.round_line(outcomes, clock=time.monotonic(), last_line=printed["at"])
            if not line:
                return ""
            printed["at"] = time.monotonic()
            return f"{timezone.localtime():%H:%M:%S} {line}"

        run_forever(step, once=once, interval=lambda: schedule.rest(time.monotonic()), stdout=self.stdout,
                    parent_pid=parent_pid)


def _with_batch(fn, batch):
    def job(**kwargs):
        return fn(batch=batch, **kwargs)

    return job
