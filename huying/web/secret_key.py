"""The secret key outside the code: HUYING_SECRET_KEY, or var/secret_key that `huying demo` writes.

Settings read it (SECRET_KEY_SOURCE says from where). Serving without one fails closed:
`huying serve` and the WSGI entry refuse to start in production rather than sign sessions,
CSRF tokens and password-reset links with a key anybody could know.
"""

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MISSING = (
    "HUYING_SECRET_KEY is not set and there is no key file ({path}): refusing to serve in production. "
    "Set HUYING_SECRET_KEY to a long random value, e.g. the output of "
    "`python -c 'import secrets; print(secrets.token_urlsafe(50))'` "
    "(or run `huying demo`, which writes a random key to that file for the demo). "
    "未设置密钥 HUYING_SECRET_KEY，拒绝以生产模式启动。"
)


def key_file() -> Path:
    return Path(settings.SECRET_KEY_FILE)


def key_available() -> bool:
    """Whether a key is configured now (the environment or a non-empty key file), looked at afresh."""
    if os.environ.get("HUYING_SECRET_KEY", "").strip():
        return True
    try:
        return bool(key_file().read_text("utf-8").strip())
    except OSError:
        return False


def key_file_write() -> bool:
    """Write a random key to the key file, readable by this user only, unless one is there. True if written."""
    path = key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secrets.token_urlsafe(50) + "\n")
    return True


def key_required() -> None:
    """Raise ImproperlyConfigured, with what to do, when no key is configured."""
    if not key_available():
        raise ImproperlyConfigured(MISSING.format(path=key_file()))
