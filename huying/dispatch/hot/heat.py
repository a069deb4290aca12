"""The heat index (热度) of a group of calls (pure).

    heat = 1.5·ln(1+count) + 0.7·ln(1+residents) + 0.8·ln(1+burst) + 1.5·severity

- count: calls in the group;
- residents: distinct reporters (a call with no known reporter counts as its own resident) plus
  supporters — in hot.csv, the likes (点赞) of each message stand in for residents who share it;
- burst: the most calls in any `burst_window` (default 7 days) — how fast it grows;
- severity: the largest severity of a call, 0–1 (an order's urgency, or words naming danger to
  life, health or property in the text).
Logarithms keep one huge figure (a message with 800 likes) from drowning the others; all four are reported as components.
"""

from __future__ import annotations

import math
from datetime import timedelta

from .grouping import Call, Group

WEIGHTS = {"count": 1.5, "residents": 0.7, "burst": 0.8, "severity": 1.5}

# Words that name a danger to life, health or property; the first list weighs more.
SEVERE_WORDS = ("死亡", "伤亡", "坍塌", "倒塌", "火灾", "爆炸", "燃气泄漏", "煤气", "中毒", "触电", "溺水")
SERIOUS_WORDS = ("安全隐患", "危险", "诈骗", "污染", "暴力", "威胁", "受伤", "欠薪", "拖欠工资", "停水", "停电",
                 "噪音", "油烟", "臭")


def text_severity(title: str, body: str = "") -> float:
    """0–1 from the words of a message: 1 for danger to life, 0.5 for serious harm, else 0."""
    text = f"{title} {body}"
    if any(w in text for w in SEVERE_WORDS):
        return 1.0
    if any(w in text for w in SERIOUS_WORDS):
        return 0.5
    return 0.0


def burst(calls: list[Call], window: timedelta) -> int:
    """The most calls falling in any interval of length `window` (two pointers over sorted times)."""
    times = sorted(c.at for c in calls)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def residents(calls: list[Call]) -> int:
    known = {c.reporter for c in calls if c.reporter}
    anonymous = sum(1 for c in calls if not c.reporter)
    return len(known) + anonymous + sum(max(0, c.likes) for c in calls)


def heat_components(group: Group, *, burst_window: timedelta = timedelta(days=7)) -> dict:
    return {
        "count": group.size,
        "residents": residents(group.calls),
        "burst": burst(group.calls, burst_window),
        "severity": max((c.severity for c in group.calls), default=0.0),
    }


def heat_index(components: dict) -> float:
    return round(sum(WEIGHTS[k] * (math.log1p(components[k]) if k != "severity" else components[k])
                     for k in WEIGHTS), 3)


def rank(groups: list[Group], *, burst_window: timedelta = timedelta(days=7)) -> list[Group]:
    """Sets each group's components and heat; returns them hottest first."""
    for g in groups:
        g.components = heat_components(g, burst_window=burst_window)
        g.heat = heat_index(g.components)
    return sorted(groups, key=lambda g: (-g.heat, -g.size, g.first_at))
