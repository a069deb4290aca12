"""Reading calls from a CSV in hot.csv's shape (id, title, body, time, likes[, dislikes])."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from .grouping import Call
from .heat import text_severity

TZ = ZoneInfo("Asia/Shanghai")
REQUIRED = ("id", "title", "time")
TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d",
                "%Y-%m-%d")


class CsvError(ValueError):
    pass


def parse_time(text: str) -> datetime:
    text = (text or "").strip()
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=TZ)
        except ValueError:
            continue
    raise CsvError(f"bad time {text!r}")


def read_calls(path: str | Path) -> list[Call]:
    """All rows as calls; a missing column or a bad time raises CsvError naming the line."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise CsvError(f"missing column(s): {', '.join(missing)}")
        calls = []
        for line, row in enumerate(reader, start=2):
            try:
                at = parse_time(row["time"])
                likes = int(row.get("likes") or 0)
            except (CsvError, ValueError) as exc:
                raise CsvError(f"line {line}: {exc}") from None
            title, body = (row.get("title") or "").strip(), (row.get("body") or "").strip()
            calls.append(Call(id=str(row["id"]).strip(), title=title, body=body, at=at, likes=likes,
                              severity=text_severity(title, body)))
    return calls
