"""Warm a serving process: what the first resident report would otherwise load while the resident waits.

A fresh gunicorn worker knows nothing yet: the first report it takes loads the text classifier and
builds the locator's point index over every unified grid (seconds on the whole city; ~9 s when no
index file is on disk yet, as after the demo's first load) before it can answer. `huying serve`
starts `warm_up` in a background thread of each worker as it boots (gunicorn's post_worker_init,
huying/web/gunicorn_conf.py), so requests are served at once and the first report finds all of it
ready. Tests and management commands never import that hook, so they do not pay for it.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)


def warm_up() -> dict:
    """Load the URLconf, the classifier, the locator's indexes and intake's caches; returns seconds per part.

    Each part is tried on its own: one that fails (no model shipped, an empty territory) is logged
    and left for the first request to report, as it would have been without warming.
    """
    from django.urls import get_resolver

    from huying.dispatch import reference
    from huying.dispatch.classifier import runtime
    from huying.territory import locator

    parts = {
        # The URLconf imports every app's views and the JSON API on the first request (~1 s).
        "urls": lambda: get_resolver().url_patterns,
        # One prediction too: the first one also builds the model's lazily made parts.
        "classifier": lambda: runtime.get_model().predict(["路灯不亮"]),
        "locator": locator.index_info,
        "reference": lambda: (reference.routing_rules(), reference.territorial_units(
            grid_id=None, district_code="", street_code="", community_code="")),
    }
    seconds = {}
    for name, load in parts.items():
        started = time.perf_counter()
        try:
            load()
        except Exception:  # noqa: BLE001 - warming is best effort; the request path reports errors
            log.warning("warm-up of %s failed", name, exc_info=True)
        seconds[name] = round(time.perf_counter() - started, 3)
    log.info("warm-up done: %s", seconds)
    return seconds


def _warm_up_thread() -> None:
    from django.db import connections

    try:
        warm_up()
    finally:
        # This thread's own database connections (they are per thread) are of no further use.
        connections.close_all()


def warm_up_in_background() -> threading.Thread:
    thread = threading.Thread(target=_warm_up_thread, name="huying-warm-up", daemon=True)
    thread.start()
    return thread
