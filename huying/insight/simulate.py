"""`huying simulate year`: dispatch's year simulator (`huying.dispatch.simulate_year`) with
insight's rollups kept beside it — each order's fact (`facts.fact_of`, the function the live
refresh uses) written in its batch's transaction, the rollups re-aggregated at the end.

The simulator itself lives in dispatch (it writes dispatch's rows through `dispatch.steps`);
its names are re-exported here for the command, the demo and the forecast.
"""

from __future__ import annotations

import os

from huying.dispatch.simulate_year import (  # noqa: F401  re-exported
    GUANGZHOU_YEAR,
    TZ,
    ForeignKeyViolation,
    Life,
    Options,
    Simulator,
    Table,
    Writer,
    _check_foreign_keys,
    reserve_ids,
    reserve_order_ids,
)
from huying.dispatch.simulate_year import simulate_year as simulate_dispatch_year

from .facts import fact_of
from .models import OrderFact


class RollupFacts:
    """The `Facts` hook of the simulator: insight's per-order facts and rollups."""

    of = staticmethod(fact_of)  # one order's fact from its fields and timeline (called per order)
    # The facts' (leaf, day) index (a community's or grid's subject mix) is sorted once after a big
    # load rather than kept row by row; the rollups scan the facts and do not need it.
    deferrable = (OrderFact,)

    def write(self, facts: list) -> None:
        from . import rollups

        rollups.facts_write(facts, simulated=True)

    def finish(self) -> None:
        from . import rollups

        # One connection per core: nothing else runs by now, and each level is its own GROUP BY.
        rollups.aggregate_parallel(os.cpu_count() or 1)
        rollups.vacuum()


def simulate_year(opts: Options, *, progress=None) -> dict:
    """Write `opts.orders` simulated orders with their facts and re-aggregate the rollups; returns counts and timings."""
    return simulate_dispatch_year(opts, progress=progress, facts=RollupFacts())
