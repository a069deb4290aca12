"""gunicorn's access log with every control character escaped.

gunicorn writes the decoded path (%(U)s) and the user agent as they came: a request for `/a%00b` or
`/%1b[2J` put a NUL or a terminal escape into the log, and a `%0a` a forged second line. Here each
string atom is written with its control characters (C0, DEL, C1, lone surrogates) as `\\xNN` escapes,
so a log line is one line of printable text whatever the request carried.
"""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\\]")


def _escape(match: re.Match) -> str:
    ch = match.group()
    if ch == "\\":
        return "\\\\"
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value):
    return _UNSAFE.sub(_escape, value) if isinstance(value, str) else value


class SafeLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        return {key: printable(value) for key, value in super().atoms(resp, req, environ, request_time).items()}
