"""Insight tests reuse the dispatch tests' small city (one district, two streets, a user per role)."""

from dispatch.conftest import (  # noqa: F401  fixtures re-exported for pytest
    PASSWORD,
    at,
    fresh_calendar,
    media,
    report,
    territory_mode,
    world,
)
