"""huying serve: the app behind gunicorn (a production WSGI server), static files by WhiteNoise."""

import os
import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand


def serve(host: str, port: int, workers: int, threads: int, *, with_worker: bool = False) -> None:
    """Replace this process with gunicorn serving huying.wsgi.

    With `with_worker`, `huying worker` (deadline sweep, hot-issue snapshots, partitions) runs beside
    it as a child process in the same process group, so Ctrl-C stops both; it logs to var/worker.log.
    """
    call_command("collectstatic", interactive=False, verbosity=0)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huying.settings")
    if with_worker:
        from django.conf import settings

        log = open(settings.VAR_DIR / "worker.log", "ab")  # noqa: SIM115 - handed to the child, which outlives us
        subprocess.Popen([sys.executable, "-m", "huying.cli", "worker"], stdout=log, stderr=subprocess.STDOUT)
        print(f"worker: log in {settings.VAR_DIR / 'worker.log'}", flush=True)
    args = [
        sys.executable, "-m", "gunicorn", "huying.wsgi:application",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--access-logfile", "-",
        "--graceful-timeout", "10",
    ]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huying.settings")
    sys.stdout.flush()
    os.execv(sys.executable, args)


class Command(BaseCommand):
    help = "Serve Huying with gunicorn (not Django's development server)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HUYING_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("HUYING_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("HUYING_WORKERS", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("HUYING_THREADS", "4")))
        parser.add_argument("--with-worker", action="store_true",
                            help="also run `huying worker` (deadlines, hot-issue snapshots) beside the server")

    def handle(self, *args, host, port, workers, threads, with_worker=False, **options):
        self.stdout.write(f"呼应 Huying serving on http://{host}:{port}/")
        serve(host, port, workers, threads, with_worker=with_worker)
