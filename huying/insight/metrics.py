"""Evaluation formulas (三率 and the rest), pure: every page, report, export and ranking uses these.

The inputs are the counters the rollups keep (see `COUNTERS` and docs/metrics.md for what each
one counts); a counter mapping may be a rollup row, a dict or anything with those keys. A rate
whose denominator is zero is None ("no data"), never 0 or 100 %, so a unit with nothing to do is
neither praised nor punished. Rates are fractions in [0, 1]; pages format them as percentages.

Definitions (DOMAIN.md §1.5 rule, §2 "三率" rule):
- 响应率 response      = accepts_on_time / (accepts + unsigned_late)
- 解决率 resolution    = cb_solved / callbacks
- 满意率 satisfaction  = (cb_satisfied + basic_weight × cb_basic) / (cb_satisfied + cb_basic + cb_unsatisfied)
- 按期办结率 on_time   = resolutions_on_time / (resolutions + overdue − suspended_overdue)
- 返工率 rework        = reworks / resolutions
- 退单率 return        = returns / dispatches
- composite           = Σ wᵢ·scoreᵢ / Σ wᵢ over the rates that have data, where the score of a
                        "lower is better" rate (返工率, 退单率) is 1 − rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from django.conf import settings

# What the rollups count, in storage order. Flows are counted once per event; stocks describe the
# order's state now (see docs/metrics.md).
COUNTERS: tuple[str, ...] = (
    "created",              # 受理数: orders taken in
    "rejected",             # 不予受理 (state now)
    "merged",               # 合并 (state now)
    "dispatches",           # 派单次数: dispatch and re-dispatch events
    "accepts",              # 签收次数
    "accepts_on_time",      # 按时签收次数
    "returns",              # 退单次数
    "resolutions",          # 办结次数 (a reworked order is resolved again)
    "resolutions_on_time",  # 按期办结次数
    "reworks",              # 返工次数: callbacks and failed on-site checks (核查) that sent the order back
    "closes",               # 结案数
    "callbacks",            # 回访数: callbacks that reached the resident
    "cb_solved",            # 回访“已解决”
    "cb_satisfied",         # 满意
    "cb_basic",             # 基本满意
    "cb_unsatisfied",       # 不满意
    "open",                 # 未结: not closed, rejected or merged (stock)
    "overdue",              # 超期未办结: with a unit, unresolved, past the resolution deadline (stock)
    "suspended_overdue",    # of those, parked (挂账/缓办) — subtracted from 按期办结率's denominator
    "unsigned_late",        # 超时未签收: dispatched, not signed, past the response deadline (stock)
)
STOCKS = frozenset({"open", "overdue", "suspended_overdue", "unsigned_late"})

RATES: tuple[str, ...] = ("response", "resolution", "satisfaction", "on_time", "rework", "return")
LOWER_IS_BETTER = frozenset({"rework", "return"})
RATE_LABELS = {
    "response": "响应率",
    "resolution": "解决率",
    "satisfaction": "满意率",
    "on_time": "按期办结率",
    "rework": "返工率",
    "return": "退单率",
}

# 准格尔旗's 三率 weights 30/35/35 (DOMAIN.md §2); the other rates weigh nothing unless configured.
DEFAULT_WEIGHTS = {"response": 30, "resolution": 35, "satisfaction": 35, "on_time": 0, "rework": 0, "return": 0}


def _get(c, name: str) -> int:
    if isinstance(c, Mapping):
        return int(c.get(name) or 0)
    return int(getattr(c, name, 0) or 0)


def _ratio(num, den) -> Fraction | None:
    return None if den <= 0 else Fraction(num) / Fraction(den)


def response_rate(c) -> Fraction | None:
    """响应率: signed within the response limit, of the dispatches that had to be signed by now."""
    return _ratio(_get(c, "accepts_on_time"), _get(c, "accepts") + _get(c, "unsigned_late"))


def resolution_rate(c) -> Fraction | None:
    """解决率: callbacks in which the resident says it is solved, of all callbacks that reached them."""
    return _ratio(_get(c, "cb_solved"), _get(c, "callbacks"))


def satisfaction_rate(c, *, basic_weight=None) -> Fraction | None:
    """满意率: satisfied (+ basically satisfied × weight) of all callbacks with a rating."""
    w = Fraction(str(basic_setting() if basic_weight is None else basic_weight))
    rated = _get(c, "cb_satisfied") + _get(c, "cb_basic") + _get(c, "cb_unsatisfied")
    return _ratio(_get(c, "cb_satisfied") + w * _get(c, "cb_basic"), rated)


def on_time_rate(c) -> Fraction | None:
    """按期办结率 = 按期办结数 / (应办结数 − 缓办数), 应办结 = resolved + overdue unresolved."""
    due = _get(c, "resolutions") + _get(c, "overdue")
    return _ratio(_get(c, "resolutions_on_time"), due - _get(c, "suspended_overdue"))


def rework_rate(c) -> Fraction | None:
    """返工率 = 返工数 / 处置(办结)数."""
    return _ratio(_get(c, "reworks"), _get(c, "resolutions"))


def return_rate(c) -> Fraction | None:
    """退单率 = 退单次数 / 派单次数."""
    return _ratio(_get(c, "returns"), _get(c, "dispatches"))


RATE_FUNCS = {
    "response": response_rate,
    "resolution": resolution_rate,
    "satisfaction": satisfaction_rate,
    "on_time": on_time_rate,
    "rework": rework_rate,
    "return": return_rate,
}


def weights_setting() -> dict[str, float]:
    return {**DEFAULT_WEIGHTS, **settings.HUYING_INSIGHT_WEIGHTS}


def basic_setting():
    """How much 基本满意 counts as satisfied: fully by default (DOMAIN.md §2: "满意 + 基本满意, configurable")."""
    return settings.HUYING_INSIGHT_BASIC_WEIGHT


def composite(rates: Mapping[str, Fraction | None], weights: Mapping[str, float] | None = None) -> Fraction | None:
    """Weighted score in [0, 1] over the rates that have data (a missing rate's weight is left out)."""
    weights = weights_setting() if weights is None else {**{k: 0 for k in RATES}, **weights}
    num = Fraction(0)
    den = Fraction(0)
    for name in RATES:
        w = Fraction(str(weights.get(name, 0)))
        value = rates.get(name)
        if w <= 0 or value is None:
            continue
        num += w * ((1 - value) if name in LOWER_IS_BETTER else value)
        den += w
    return None if den == 0 else num / den


@dataclass(frozen=True)
class Evaluation:
    """All rates and the composite score of one set of counters."""

    rates: dict[str, Fraction | None]
    score: Fraction | None

    def as_dict(self, digits: int = 4) -> dict:
        def f(x):
            return None if x is None else round(float(x), digits)

        return {**{k: f(v) for k, v in self.rates.items()}, "score": f(self.score)}


def evaluate(c, *, weights: Mapping[str, float] | None = None, basic_weight=None) -> Evaluation:
    rates = {name: fn(c) for name, fn in RATE_FUNCS.items() if name != "satisfaction"}
    rates["satisfaction"] = satisfaction_rate(c, basic_weight=basic_weight)
    rates = {name: rates[name] for name in RATES}
    return Evaluation(rates, composite(rates, weights))


def add(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    """Counter-wise sum (for adding rollup rows up)."""
    return {k: _get(a, k) + _get(b, k) for k in COUNTERS}
