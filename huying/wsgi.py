import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huying.settings")
application = get_wsgi_application()


def _fail_closed() -> None:
    """In production (HUYING_DEBUG off) no worker starts without a configured secret key."""
    from django.conf import settings

    if not settings.DEBUG and settings.SECRET_KEY_SOURCE == "missing":
        import sys

        from huying.web.secret_key import MISSING

        message = MISSING.format(path=settings.SECRET_KEY_FILE)
        print(message, file=sys.stderr, flush=True)
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(message)


_fail_closed()
