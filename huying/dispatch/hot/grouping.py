"""Grouping calls about the same problem in the same place and time window (pure, no database).

Two calls are linked when
- their texts are similar: cosine of character 2–3-gram TF-IDF vectors of the title and the
  start of the body, at least `threshold` (characters, not words: Chinese needs no segmenter and
  place names such as 魅力之城 or 丽发新城 survive intact as n-grams);
- their places agree when both are known: one area code is a prefix of the other at street
  level or below (a call without a code is compatible with any place, so CSV rows still group);
- their districts named in the text (A3区 …) do not contradict each other, for calls without codes;
- they are at most `window` apart in time.
Groups are the connected components of these links, with a guard against chaining: a call joins
a group only if it is also similar (`threshold * centroid_ratio`) to the group's centroid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

# Masked district names in the text (A3区, A7县, A9市; "A市" is the city and says nothing).
DISTRICT_RE = re.compile(r"[A-Z]\d+[区县市]")
# The body is long and formulaic; its opening says where and what, the rest adds noise.
BODY_CHARS = 120
TITLE_WEIGHT = 2


@dataclass
class Call:
    """One call as grouping sees it: an order in the database or a row of hot.csv."""

    id: str
    title: str
    body: str
    at: datetime
    area_code: str = ""
    reporter: str = ""
    likes: int = 0
    severity: float = 0.0
    subject: str = ""
    lng: float | None = None
    lat: float | None = None


@dataclass
class Group:
    calls: list[Call]
    heat: float = 0.0
    components: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.calls)

    @property
    def first_at(self) -> datetime:
        return min(c.at for c in self.calls)

    @property
    def last_at(self) -> datetime:
        return max(c.at for c in self.calls)

    @property
    def title(self) -> str:
        """The most typical title: the one sharing most character bigrams with the others."""
        if len(self.calls) <= 2:
            return self.calls[0].title
        grams = [_bigrams(c.title) for c in self.calls]
        best = max(range(len(grams)), key=lambda i: (sum(len(grams[i] & g) for g in grams), -i))
        return self.calls[best].title

    @property
    def area_code(self) -> str:
        """The longest code prefix every located call shares (the group's place)."""
        codes = [c.area_code for c in self.calls if c.area_code]
        if not codes:
            return ""
        prefix = codes[0]
        for code in codes[1:]:
            while not code.startswith(prefix):
                prefix = prefix[:-1]
        return prefix

    @property
    def point(self) -> tuple[float, float] | None:
        pts = [(c.lng, c.lat) for c in self.calls if c.lng is not None and c.lat is not None]
        if not pts:
            return None
        return (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def _text(call: Call) -> str:
    return " ".join([call.title] * TITLE_WEIGHT + [call.body[:BODY_CHARS]])


def vectorize(texts: list[str]):
    """L2-normalised sparse TF-IDF rows of character 2–3-grams."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    # Dropping n-grams found in half the texts removes boilerplate in a city's stream, but in a
    # small set it would remove the very issue that dominates it.
    vec = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True, min_df=1,
                          max_df=0.5 if len(texts) >= 200 else 1.0)
    return vec.fit_transform(texts)


def _districts(call: Call) -> frozenset[str]:
    return frozenset(DISTRICT_RE.findall(f"{call.title} {call.body[:BODY_CHARS]}"))


def _agree(a: Call, b: Call, da: frozenset, db: frozenset, min_len: int) -> bool:
    if a.area_code and b.area_code:
        return _places_agree(a.area_code, b.area_code, min_len)
    return not (da and db and da.isdisjoint(db))


def _places_agree(a: str, b: str, min_len: int) -> bool:
    if not a or not b:
        return True
    # Both known: the shorter must cover the longer, and be at least a street to mean "same place".
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return long_.startswith(short) and len(short) >= min_len


def group_calls(calls: list[Call], *, threshold: float = 0.22, window: timedelta = timedelta(days=60),
                min_size: int = 2, place_prefix: int = 9, centroid_ratio: float = 0.6) -> list[Group]:
    """Groups of at least `min_size` calls (see the module docstring), largest first."""
    if threshold <= 0 or threshold > 1:
        raise ValueError("threshold must be in (0, 1]")
    n = len(calls)
    if n < max(2, min_size):
        return []
    X = vectorize([_text(c) for c in calls])
    sims = (X @ X.T).tocoo()
    times = np.array([c.at.timestamp() for c in calls])
    districts = [_districts(c) for c in calls]
    span = window.total_seconds()
    pairs = [(s, i, j) for i, j, s in zip(sims.row, sims.col, sims.data, strict=True)
             if i < j and s >= threshold and abs(times[i] - times[j]) <= span
             and _agree(calls[i], calls[j], districts[i], districts[j], place_prefix)]
    # Strongest links first, so a group forms around its tightest core before weaker calls join.
    pairs.sort(key=lambda p: -p[0])
    parent = list(range(n))
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    centroid: dict[int, np.ndarray] = {}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def vec(i: int) -> np.ndarray:
        r = find(i)
        if r not in centroid:
            centroid[r] = np.asarray(X[members[r]].mean(axis=0)).ravel()
        return centroid[r]

    for _s, i, j in pairs:
        ri, rj = find(i), find(j)
        if ri == rj:
            continue
        if len(members[ri]) + len(members[rj]) > 2:
            a, b = vec(ri), vec(rj)
            cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) or 1.0))
            if cos < threshold * centroid_ratio:
                continue
            if any(not _agree(calls[x], calls[y], districts[x], districts[y], place_prefix)
                   for x in members[ri] for y in members[rj]):
                continue
        if len(members[ri]) < len(members[rj]):
            ri, rj = rj, ri
        parent[rj] = ri
        members[ri].extend(members.pop(rj))
        centroid.pop(ri, None)
        centroid.pop(rj, None)
    groups = [Group([calls[k] for k in sorted(m, key=lambda k: times[k])]) for m in members.values()
              if len(m) >= min_size]
    groups.sort(key=lambda g: (-g.size, g.first_at))
    return groups
