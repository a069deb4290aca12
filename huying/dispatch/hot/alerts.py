"""When does something grow faster than its usual rate? (pure)

Each key — a (subject, area) pair, or a hot-issue group — has a series of daily counts, oldest
first, the last being the day under test. Its usual rate λ is the exponentially weighted moving
average (EWMA, weight `alpha` on the newest day) of the earlier days, floored at `floor` so a
quiet key's first few calls are not infinitely surprising. The day raises a trigger when

    count >= min_count   and   P(X >= count | X ~ Poisson(λ)) <= p_value

— few enough false alarms at city scale (one in a thousand quiet key-days at the default), and
the minimum keeps one or two calls from ever being an "outbreak".
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Trigger:
    key: tuple
    count: int
    expected: float
    p_value: float


def ewma(history: list[int], *, alpha: float = 0.3) -> float:
    """The EWMA of `history` (oldest first); 0 for no history."""
    level = None
    for x in history:
        level = float(x) if level is None else alpha * x + (1 - alpha) * level
    return level or 0.0


def poisson_sf(k: int, lam: float) -> float:
    """P(X >= k) for X ~ Poisson(lam)."""
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    term = math.exp(-lam)
    below = term
    for i in range(1, k):
        term *= lam / i
        below += term
    return max(0.0, 1.0 - below)


def detect(series: dict[tuple, list[int]], *, alpha: float = 0.3, p_value: float = 0.001, min_count: int = 3,
           floor: float = 0.2) -> list[Trigger]:
    """The keys whose last day is unusually high, most surprising first."""
    if not 0 < alpha <= 1 or not 0 < p_value < 1 or min_count < 1 or floor <= 0:
        raise ValueError("bad detector parameters")
    out = []
    for key, counts in series.items():
        if not counts:
            continue
        count = int(counts[-1])
        if count < min_count:
            continue
        lam = max(ewma(counts[:-1], alpha=alpha), floor)
        p = poisson_sf(count, lam)
        if p <= p_value:
            out.append(Trigger(key=key, count=count, expected=round(lam, 3), p_value=p))
    out.sort(key=lambda t: (t.p_value, -t.count))
    return out
