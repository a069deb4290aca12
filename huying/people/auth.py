"""Token authentication for the API: `Authorization: Bearer <token>` acts as the token's user.

Tokens are issued and revoked by `people.services.api_token_create` / `api_token_revoke`; only
their SHA-256 is stored, so a token is checked with one indexed query. The request then carries
the user exactly as a session login would (`request.user`), so scope and permissions apply alike.
"""

import functools

from django.db import connection
from django.utils import timezone
from ninja.security import HttpBearer

from .models import ApiToken, User
from .scope import GENERATION_ATTR, generation_sql
from .services import api_token_digest


def api_token_user(token: str, *, now=None) -> User | None:
    """The active user a token stands for; None for an unknown, revoked or expired token."""
    token = (token or "").strip()
    if not token or len(token) > 200:
        return None
    # One statement on every API request, written out and turned into a User directly: the ORM's
    # compiled query, or even a raw queryset, cost several times the statement itself.
    qn = connection.ops.quote_name
    user, tok = User._meta, ApiToken._meta
    columns = _user_columns()
    # The access generation comes with the user, so an unchanged scope is reused without a query.
    sql = (f"SELECT {', '.join('u.' + qn(c) for _a, c in columns)}, {generation_sql(connection)} "
           f"FROM {qn(user.db_table)} u JOIN {qn(tok.db_table)} t ON t.{qn('user_id')} = u.{qn('id')} "
           f"WHERE t.{qn('digest')} = %s AND t.{qn('revoked_at')} IS NULL "
           f"AND (t.{qn('expires_at')} IS NULL OR t.{qn('expires_at')} > %s) AND u.{qn('is_active')}")
    when = connection.ops.adapt_datetimefield_value(now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [api_token_digest(token), when])
        row = cursor.fetchone()
    if row is None:
        return None
    converters = _converters(connection)
    values = [conv(v) if conv else v for conv, v in zip(converters, row[:-1], strict=True)]
    found = User.from_db(connection.alias, [a for a, _c in columns], values)
    setattr(found, GENERATION_ATTR, row[-1])
    return found


def _user_columns() -> list[tuple[str, str]]:
    return [(f.attname, f.column) for f in User._meta.concrete_fields]


_CONVERTERS: dict[str, list] = {}


def _converters(connection) -> list:
    """Per column, the backend's converter of a raw value to the field's Python value (datetimes on
    SQLite come back as text), or None; what the ORM applies when it reads a row."""
    found = _CONVERTERS.get(connection.alias)
    if found is None:
        found = []
        for f in User._meta.concrete_fields:
            expression = f.get_col(User._meta.db_table)
            fns = connection.ops.get_db_converters(expression) + f.get_db_converters(connection)
            found.append(functools.partial(_apply, fns=fns, expression=expression, connection=connection)
                         if fns else None)
        _CONVERTERS[connection.alias] = found
    return found


def _apply(value, *, fns, expression, connection):
    for fn in fns:
        value = fn(value, expression, connection)
    return value


class ApiTokenAuth(HttpBearer):
    """django-ninja auth: a valid bearer token signs the request in as its user."""

    def authenticate(self, request, token: str):
        user = api_token_user(token)
        if user is None:
            return None
        request.user = user
        return user
