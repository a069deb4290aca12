"""huying serve: the app behind gunicorn (a production WSGI server), static files by WhiteNoise."""

import os
import subprocess
import sys

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from huying.web.secret_key import key_file_write, key_required

# gunicorn's default access-log line without the query string (%(U)s is the path alone, where %(r)s
# is the whole request line) and without the referrer (the previous page's address and its query):
# queries carry what residents typed (similar-report checks, tracking codes), which logs must not keep.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'


def gunicorn_args(host: str, port: int, workers: int, threads: int) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "huying.wsgi:application",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--access-logfile", "-",
        "--access-logformat", ACCESS_LOG_FORMAT,
        "--graceful-timeout", "10",
        # Each worker warms the classifier and the locator in the background (huying/web/warmup.py).
        "--config", "python:huying.web.gunicorn_conf",
    ]


def secret_key_ready() -> None:
    """Fail closed: no key, no production server. With HUYING_DEBUG on, write one to var/ instead."""
    if settings.DEBUG:
        key_file_write()
    try:
        key_required()
    except ImproperlyConfigured as exc:
        raise CommandError(str(exc)) from None


def serve(host: str, port: int, workers: int, threads: int, *, with_worker: bool = False) -> None:
    """Replace this process with gunicorn serving huying.wsgi.

    With `with_worker`, `huying worker` (every periodic job) runs beside it as a child process in the
    same process group, so Ctrl-C stops both; it logs to var/worker.log. It is told this process's
    pid, which gunicorn keeps across the exec, and stops within a second once gunicorn has gone
    (SIGTERM, a normal exit, or killed outright).
    """
    secret_key_ready()
    call_command("collectstatic", interactive=False, verbosity=0)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huying.settings")
    if with_worker:
        log = open(settings.VAR_DIR / "worker.log", "ab")  # noqa: SIM115 - handed to the child, which outlives us
        worker = subprocess.Popen([sys.executable, "-m", "huying.cli", "worker", "--parent-pid", str(os.getpid())],
                                  stdout=log, stderr=subprocess.STDOUT)
        print(f"worker: pid {worker.pid}, log in {settings.VAR_DIR / 'worker.log'}", flush=True)
    args = gunicorn_args(host, port, workers, threads)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huying.settings")
    sys.stdout.flush()
    os.execv(sys.executable, args)


class Command(BaseCommand):
    help = "Serve Huying with gunicorn (not Django's development server)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.HUYING_HOST)
        parser.add_argument("--port", type=int, default=settings.HUYING_PORT)
        parser.add_argument("--workers", type=int, default=settings.HUYING_WORKERS)
        parser.add_argument("--threads", type=int, default=settings.HUYING_THREADS)
        parser.add_argument("--with-worker", action="store_true",
                            help="also run `huying worker` (every periodic job) beside the server, stopped with it")

    def handle(self, *args, host, port, workers, threads, with_worker=False, **options):
        secret_key_ready()
        self.stdout.write(f"呼应 Huying serving on http://{host}:{port}/")
        serve(host, port, workers, threads, with_worker=with_worker)
