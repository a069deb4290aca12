"""huying serve: the app behind gunicorn (a production WSGI server), static files by WhiteNoise."""

import os
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand


def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Replace this process with gunicorn serving huying.wsgi."""
    call_command("collectstatic", interactive=False, verbosity=0)
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

    def handle(self, *args, host, port, workers, threads, **options):
        self.stdout.write(f"呼应 Huying serving on http://{host}:{port}/")
        serve(host, port, workers, threads)
