"""`huying check --deploy`: what Django's own deployment checks cannot see."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def secret_key_configured(app_configs, **kwargs):
    """Django checks the key's length; a random key made for one process passes that, yet serves nothing."""
    if settings.SECRET_KEY_SOURCE != "missing":
        return []
    return [checks.Error(
        "No secret key is configured: HUYING_SECRET_KEY is not set and there is no key file.",
        hint=f"Set HUYING_SECRET_KEY to a long random value (or write it to {settings.SECRET_KEY_FILE}, mode 0600).",
        id="huying.E001",
    )]
