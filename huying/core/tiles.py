"""Dashboard tiles that apps register, so the dashboard never reaches into an app's models.

An app registers its tiles in its `AppConfig.ready()` (ARCHITECTURE.md: "each app registers ... its
tiles/layers with the dashboard"):

    tiles.register("services.open", title=_lazy("服务阵地开放"), fn=positions_open_tile, order=10)

A tile is `fn(*, prefix, now) -> TileValue | None`: `prefix` is the territory the dashboard shows as a
division or grid code prefix ("" for the whole city), `now` an aware datetime; None means the tile
has nothing to say for this territory and is not drawn. A tile that raises is logged (type and
place only, never the message, which may quote residents' data) and left out; the others go on.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger("huying.tiles")


@dataclass(frozen=True)
class TileValue:
    value: str  # what the tile shows, already formatted ("12 / 40", "87%")
    note: str = ""  # a short line under the value
    url: str = ""  # where the tile leads, if anywhere
    warn: bool = False  # drawn as a warning


@dataclass(frozen=True)
class Tile:
    key: str
    title: str
    fn: Callable[..., TileValue | None]
    order: int = 100


_registry: dict[str, Tile] = {}


def register(key: str, *, title, fn: Callable[..., TileValue | None], order: int = 100) -> Tile:
    """Register (or replace, so `ready()` may run twice) a dashboard tile."""
    if not key or any(c.isspace() for c in key):
        raise ValueError(f"tile key {key!r}: one word, no spaces")
    tile = Tile(key=key, title=title, fn=fn, order=order)
    _registry[key] = tile
    return tile


def unregister(key: str) -> None:
    _registry.pop(key, None)


def registered() -> list[Tile]:
    return sorted(_registry.values(), key=lambda t: (t.order, t.key))


def compute(*, prefix: str, now: datetime) -> list[tuple[Tile, TileValue]]:
    """Every registered tile's value for this territory, in order; failing tiles are left out."""
    out = []
    for tile in registered():
        try:
            value = tile.fn(prefix=prefix, now=now)
        except Exception as exc:  # noqa: BLE001 — one app's tile must not take the dashboard down
            where = traceback.extract_tb(exc.__traceback__)[-1]
            log.error("tile %s failed: %s at %s:%s", tile.key, type(exc).__name__, where.filename, where.lineno)
            continue
        if value is not None:
            out.append((tile, value))
    return out
