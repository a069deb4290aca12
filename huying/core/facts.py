"""Activity facts that apps register for people, so a consumer (the Party star rating) can count
them without importing the app that records them (ARCHITECTURE.md: siblings talk through registries).

An app registers a source in its `AppConfig.ready()`:

    facts.register("volunteer_hours", label="志愿服务时长（小时）", fn=volunteer_hours_by_month)

`fn(user_ids, *, start, end) -> iterable of (user_id, month, quantity)`: the quantity the person
recorded in each month (`month` a date, any day of it) between `start` and `end` (dates, inclusive).
A rule set then names the source in its items; nothing is counted unless a rule set says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class FactSource:
    code: str
    label: object  # str or a lazy translation
    fn: Callable[..., Iterable[tuple[int, date, object]]]


_SOURCES: dict[str, FactSource] = {}


def register(code: str, *, label: str, fn) -> None:
    """Register (or replace, on a reload) the source `code`."""
    _SOURCES[code] = FactSource(code=code, label=label, fn=fn)


def sources() -> dict[str, FactSource]:
    return dict(_SOURCES)
