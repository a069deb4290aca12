"""Grouping calls about the same problem in the same place and time window (pure, no database).

Two calls are *linked* when
- their texts are similar: cosine of character 2–3-gram TF-IDF vectors of the title (twice) and the
  start of the body, at least `threshold` (characters, not words: Chinese needs no segmenter and
  place names such as 魅力之城 or 丽发新城 survive intact as n-grams). Stock phrases are discounted,
  learned on the batch: an n-gram whose texts name many *different* places (请加快…建设力度, 噪音扰民)
  says how people write, not what happened where (`stock_discount`). Two calls that name no place
  and carry no code need `unplaced` times the threshold: wording is all they share;
- their area codes agree when both are known: one is a prefix of the other at street level or
  below (a call without a code is compatible with any place, so CSV rows still group);
- the places their texts name agree when both name some (`place_names`: 小区/路/村/社区 … names,
  matched fuzzily: 伊景园滨河苑 ~ 滨河苑; a message naming 青山新村社区 and its 青青家园小区 agrees with
  either), and the districts they name (A3区 …) do not differ;
- they are at most `window` apart in time.
Candidate pairs come without an n² loop: calls are split into blocks (street; for calls without a
code, the one district their text names; the rest meet every call), sorted by time, and each chunk
of rows is multiplied (sparse) only with the rows of its block inside the time window. Groups are
built from the strongest links down (average linkage): two groups merge only if the *mean*
similarity of all their cross pairs is at least `threshold * cohesion` and every pair of their
calls still agrees on place, so A~B~C cannot chain into one issue when A and C have nothing in common.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np

# Masked district names in the text (A3区, A7县, A9市; "A市" is the city and says nothing).
DISTRICT_RE = re.compile(r"[A-Z]\d+[区县市]")
# The body is long and formulaic; its opening says where and what, the rest adds noise.
BODY_CHARS = 120
TITLE_WEIGHT = 2

# Place names: a few characters ending in a place word (finest first, so 新村 beats 村).
PLACE_SUFFIXES = ("小区", "花园", "家园", "新村", "社区", "山庄", "公馆", "公寓", "新城", "大道", "广场", "大厦",
                  "中学", "小学", "幼儿园", "医院", "公园", "村", "路", "巷", "苑", "园", "城", "湾", "镇")
_SUFFIX_RE = re.compile("|".join(PLACE_SUFFIXES))
# Where a name cannot run across: punctuation, masked divisions, and words that start or end a phrase.
_CUT_RE = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]+|[A-Z]?\d+[区县市省]|[A-Z][区县市省]|西地省|街道|关于|投诉|反映|举报|咨询|请问|"
                     r"请求|建议|希望|要求|位于|附近|周边|旁边|对面|门口|我们|我是|我家|本人|业主|居民|就读于|"
                     r"靠近|经过|[的在是和与及对了把被给向从到为让将至于有]")
_NOT_NAMES = frozenset({"某", "该", "本", "这个", "那个", "所在", "整个", "周围", "城市", "农村", "中心", "全", "各",
                        "一个", "每个", "几个", "很多", "部分", "多个", "其他", "同一", "旧", "新", "老", "马",
                        "道", "城区", "县城", "乡", "乡镇", "城乡", "区", "市", "省", "一"})
NAME_CHARS = 5  # at most this many characters before the place word
# Characters that end a phrase rather than belong to a name (严重影响小区, 请还小区, 违建小区 name no place).
_NOT_IN_NAME = re.compile(r".*(?:严重|影响|污染|危害|请|还|未经|违规|违建|违法|关注|什么|这|那|我|你|他|们|大型|整个|附近|周边|"
                          r"处理|解决|要求|反映|呢|吗|吧|啊|哪个)")


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


# ---- places named in the text ---------------------------------------------------------------------

def place_names(text: str) -> frozenset[str]:
    """The names of places below the street a text names: 青青家园, 万家丽南路, 金鼎村 … (the name part,
    place word included). Cheap and approximate: a name runs back from its place word to a cut."""
    out = set()
    for m in _SUFFIX_RE.finditer(text):
        # The name: back from the place word to a cut (looking a little further, for cut words that straddle).
        core = _CUT_RE.split(text[max(0, m.start() - NAME_CHARS - 3):m.start()])[-1][-NAME_CHARS:]
        after = _SUFFIX_RE.split(core)[-1]  # 万家丽南路丽发|新城: the name after another place word …
        core = _NOT_IN_NAME.sub("", after if len(after) >= 2 else core).lstrip("0123456789")  # … unless 园|博|园
        if len(core) >= 2 and core not in _NOT_NAMES:
            out.add(core + m.group())
    return frozenset(out)


def _call_places(call: Call) -> frozenset[str]:
    return place_names(f"{call.title} {call.body[:BODY_CHARS]}")


_TRAILING_SUFFIX = re.compile(f"(?:{'|'.join(PLACE_SUFFIXES)})+$")


@lru_cache(maxsize=65536)
def _names_agree(a: str, b: str) -> bool:
    """One name inside the other, or their names without the place word sharing three characters in a
    row (伊景园滨河苑 ~ 伊景园滨河院; 青青园小区 and 青青家园小区 share only 园小区, a place word)."""
    if a in b or b in a:
        return True
    a, b = _TRAILING_SUFFIX.sub("", a), _TRAILING_SUFFIX.sub("", b)
    return any(a[i:i + 3] in b for i in range(len(a) - 2))


def places_agree(a: frozenset[str], b: frozenset[str]) -> bool:
    """Texts naming no place agree with anything; otherwise some name must be shared."""
    if not a or not b or a & b:
        return True
    return any(_names_agree(x, y) if x <= y else _names_agree(y, x) for x in a for y in b)


# ---- vectors --------------------------------------------------------------------------------------

def char_ngram_counts(texts: list[str]):
    """(counts, n-gram keys): a sparse texts × n-grams matrix of character 2- and 3-gram counts, built with
    numpy over the code points of all texts at once (no Python loop over n-grams: 300,000 texts take
    seconds). N-grams holding whitespace are left out. Keys: a bigram is c1·2²¹ + c2, a trigram
    (c1·2²¹ + c2)·2²¹ + c3 with c1 > 0, so the two kinds never collide."""
    import scipy.sparse as sp  # late: heavy (~70 ms) and this module loads at start-up (via hot.services)

    n = len(texts)
    joined = "\0".join(texts) + "\0"
    if joined.count("\0") != n:
        # NUL is the separator here: one inside a text (stored before intake refused it) is a blank.
        joined = "\0".join(t.replace("\0", " ") for t in texts) + "\0"
    # surrogatepass: a lone surrogate (not UTF-8-encodable) still counts as a code point of its own.
    c = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    doc = np.cumsum(c == 0) - (c == 0)  # the text each code point belongs to (a separator: the one it ends)
    blank = (c == 0) | np.isin(c, np.frombuffer(" \t\n\r\u3000".encode("utf-32-le"), dtype=np.uint32))
    ok2 = ~(blank[:-1] | blank[1:])
    ok3 = ok2[:-1] & ~blank[2:]
    k2 = (c[:-1] << np.uint64(21)) | c[1:]
    k3 = (k2[:-1] << np.uint64(21)) | c[2:]
    keys = np.concatenate([k2[ok2], k3[ok3]])
    rows = np.concatenate([doc[:-1][ok2], doc[:-2][ok3]])
    order = np.argsort(keys)  # np.unique(return_inverse=True) sorts stably, which is slower
    new = np.empty(len(keys), dtype=bool)
    new[:1] = True
    np.not_equal(keys[order][1:], keys[order][:-1], out=new[1:])
    vocab = keys[order][new]
    cols = np.empty(len(keys), dtype=np.int64)
    cols[order] = np.cumsum(new) - 1
    counts = sp.csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols.ravel())), shape=(n, len(vocab)))
    counts.sum_duplicates()
    return counts, vocab


def vectorize(texts: list[str], *, places: list[frozenset[str]] | None = None, max_df: float | None = None,
              discount: bool = True):
    """L2-normalised sparse TF-IDF rows of character 2–3-grams (sublinear tf, smoothed idf, as
    scikit-learn's TfidfVectorizer), stock phrases discounted when `places` are given."""
    import scipy.sparse as sp  # late: heavy (~70 ms) and this module loads at start-up (via hot.services)

    n = len(texts)
    # Dropping n-grams found in a large share of the texts removes boilerplate in a city's stream
    # (and keeps the products sparse), but in a small set it would remove the very issue that dominates it.
    if max_df is None:
        max_df = 0.2 if n >= 2000 else 0.5 if n >= 200 else 1.0
    X, _vocab = char_ngram_counts(texts)
    df = np.diff(X.tocsc().indptr)
    keep = df <= max(1, max_df * n)
    if not keep.any():  # every n-gram above max_df (tiny or identical texts)
        keep[:] = True
    X = X[:, np.flatnonzero(keep)]
    df = df[keep]
    X.data = 1 + np.log(X.data)
    weight = (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)
    if places is not None and discount:
        weight = weight * stock_discount(X, places).ravel()
    X = (X @ sp.diags(weight)).tocsr()
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    return (sp.diags((1 / norms).astype(np.float32)) @ X).tocsr()


# An n-gram found in at least this many texts naming a place is judged by how those places spread.
STOCK_MIN_DF = 6


def stock_discount(X, places: list[frozenset[str]], *, floor: float = 0.25) -> np.ndarray:
    """Per n-gram weight factor from the texts holding it that name a place: the share of the most
    common place among them, doubled, capped at 1 and floored at `floor`. An issue's own words
    (伊景园, 搅拌站) come mostly from one place; a stock phrase (请加快…建设力度, 噪音扰民) from many.
    N-grams in fewer than STOCK_MIN_DF such texts keep their weight (too little to judge)."""
    import scipy.sparse as sp  # late: heavy (~70 ms) and this module loads at start-up (via hot.services)

    ids: dict[str, int] = {}
    rows, cols = [], []
    for r, names in enumerate(places):
        for name in names:
            rows.append(r)
            cols.append(ids.setdefault(name, len(ids)))
    factor = np.ones(X.shape[1], dtype=np.float32)
    if not ids:
        return factor.reshape(1, -1)
    P = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(X.shape[0], len(ids)))
    B = X.copy()
    B.data[:] = 1
    named = np.asarray(P.max(axis=1).todense()).ravel()
    df_named = named @ B  # texts naming a place, per n-gram
    top = np.asarray((P.T @ B).max(axis=0).todense()).ravel()  # the most common place's count
    judged = df_named >= STOCK_MIN_DF
    share = np.divide(top, df_named, out=np.ones_like(factor), where=judged)
    factor[judged] = np.clip(2 * share[judged], floor, 1.0)
    return factor.reshape(1, -1)


# ---- candidate pairs ------------------------------------------------------------------------------

CHUNK = 1024


def _pairs_in(X, idx: np.ndarray, times: np.ndarray, threshold: float, span: float, other: np.ndarray | None = None):
    """(i, j, sim) with sim ≥ threshold and |t_i − t_j| ≤ span, for i, j in `idx` (i < j by time), or for
    i in `idx` and j in `other`. Rows are time-sorted; each chunk meets only its time window."""
    out_i, out_j, out_s = [], [], []
    idx = idx[np.argsort(times[idx], kind="stable")]
    cand = idx if other is None else other[np.argsort(times[other], kind="stable")]
    ct = times[cand]
    Xc = X[cand]
    for a in range(0, len(idx), CHUNK):
        rows = idx[a:a + CHUNK]
        rt = times[rows]
        lo = np.searchsorted(ct, rt.min() - span, side="left")
        hi = a + len(rows) if other is None else np.searchsorted(ct, rt.max() + span, side="right")
        if hi <= lo:
            continue
        S = (X[rows] @ Xc[lo:hi].T).tocoo()
        keep = S.data >= threshold
        r, c, s = S.row[keep], S.col[keep] + lo, S.data[keep]
        if other is None:
            keep = c < r + a  # each unordered pair once (positions in the time order)
            r, c, s = r[keep], c[keep], s[keep]
        i, j = rows[r], cand[c]
        keep = np.abs(times[i] - times[j]) <= span
        out_i.append(i[keep])
        out_j.append(j[keep])
        out_s.append(s[keep])
    if not out_i:
        return np.empty(0, int), np.empty(0, int), np.empty(0, np.float32)
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_s)


def candidate_pairs(calls: list[Call], X, times: np.ndarray, *, threshold: float, span: float, place_prefix: int,
                    districts: list[frozenset[str]]):
    """All similar pairs whose places may agree, block by block: located calls by street; calls without
    a code by the one district their text names (those naming none or several meet every call)."""
    blocks: dict[str, list[int]] = {}
    free: dict[str, list[int]] = {}
    wild = []
    for k, c in enumerate(calls):
        if c.area_code:
            blocks.setdefault(c.area_code[:place_prefix] if len(c.area_code) >= place_prefix else "?", []).append(k)
        elif len(districts[k]) == 1:
            free.setdefault(next(iter(districts[k])), []).append(k)
        else:
            wild.append(k)
    parts = [(np.empty(0, int), np.empty(0, int), np.empty(0, np.float32))]
    for ks in list(blocks.values()) + list(free.values()):
        parts.append(_pairs_in(X, np.array(ks, dtype=int), times, threshold, span))
    named = np.array([k for ks in free.values() for k in ks], dtype=int)
    located = np.array([k for ks in blocks.values() for k in ks], dtype=int)
    if named.size and located.size:
        parts.append(_pairs_in(X, named, times, threshold, span, other=located))
    if wild:
        wild_idx = np.array(wild, dtype=int)
        parts.append(_pairs_in(X, wild_idx, times, threshold, span))
        others = np.concatenate([named, located])
        if others.size:
            parts.append(_pairs_in(X, wild_idx, times, threshold, span, other=others))
    i = np.concatenate([p[0] for p in parts])
    j = np.concatenate([p[1] for p in parts])
    s = np.concatenate([p[2] for p in parts])
    return i, j, s


# ---- agreement and linkage ------------------------------------------------------------------------

def _places_agree(a: str, b: str, min_len: int) -> bool:
    if not a or not b:
        return True
    # Both known: the shorter must cover the longer, and be at least a street to mean "same place".
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return long_.startswith(short) and len(short) >= min_len


def _districts(call: Call) -> frozenset[str]:
    return frozenset(DISTRICT_RE.findall(f"{call.title} {call.body[:BODY_CHARS]}"))


class _Where:
    """What a call (or a group: the distinct values of its calls) says about its place."""

    __slots__ = ("codes", "districts", "names")

    def __init__(self, codes, districts, names):
        self.codes, self.districts, self.names = codes, districts, names

    def agrees(self, other: _Where, min_len: int) -> bool:
        """Every call of one agrees with every call of the other (complete linkage on place)."""
        for a in self.codes:
            for b in other.codes:
                if not _places_agree(a, b, min_len):
                    return False
        if not (self.codes and other.codes):  # without two codes, the districts the texts name decide
            for a in self.districts:
                for b in other.districts:
                    if a.isdisjoint(b):
                        return False
        for a in self.names:
            for b in other.names:
                if not places_agree(a, b):
                    return False
        return True

    def merge(self, other: _Where) -> None:
        self.codes |= other.codes
        self.districts |= other.districts
        self.names |= other.names


def group_calls(calls: list[Call], *, threshold: float = 0.22, window: timedelta = timedelta(days=60),
                min_size: int = 2, place_prefix: int = 9, cohesion: float = 0.5, unplaced: float = 1.25,
                discount: bool = True) -> list[Group]:
    """Groups of at least `min_size` calls (see the module docstring), largest first.

    `cohesion`: two groups merge only if the mean similarity of their cross pairs (pairs below the
    threshold count with their similarity too) is at least `threshold * cohesion`.
    `unplaced`: calls with neither an area code nor a place name in their text have only wording to
    agree on, so between two of them the threshold, and for a group without any place its cohesion,
    is this many times higher."""
    if threshold <= 0 or threshold > 1:
        raise ValueError("threshold must be in (0, 1]")
    n = len(calls)
    if n < max(2, min_size):
        return []
    names = [_call_places(c) for c in calls]
    X = vectorize([_text(c) for c in calls], places=names, discount=discount)
    times = np.array([c.at.timestamp() for c in calls])
    span = window.total_seconds()
    districts = [_districts(c) for c in calls]
    pi, pj, ps = candidate_pairs(calls, X, times, threshold=threshold, span=span, place_prefix=place_prefix,
                                 districts=districts)
    placed = np.array([bool(c.area_code or names[k]) for k, c in enumerate(calls)])
    keep = (ps >= threshold * unplaced) | placed[pi] | placed[pj]
    pi, pj, ps = pi[keep], pj[keep], ps[keep]
    order = np.argsort(-ps, kind="stable")  # strongest links first: a group forms around its tightest core
    where: dict[int, _Where] = {}
    parent = list(range(n))
    members: dict[int, list[int]] = {}
    sums: dict[int, object] = {}  # a group's sum of unit vectors: mean cross similarity = sA·sB / (|A||B|)
    link_min = threshold * cohesion

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def info(r: int) -> _Where:
        w = where.get(r)
        if w is None:
            code = calls[r].area_code
            w = where[r] = _Where({code} if code else set(), {districts[r]} if districts[r] else set(),
                                  {names[r]} if names[r] else set())
        return w

    for k in order:
        i, j = int(pi[k]), int(pj[k])
        ri, rj = find(i), find(j)
        if ri == rj:
            continue
        wi, wj = info(ri), info(rj)
        if not wi.agrees(wj, place_prefix):
            continue
        mi, mj = members.get(ri, [ri]), members.get(rj, [rj])
        si, sj = sums.get(ri, X[ri]), sums.get(rj, X[rj])
        if len(mi) + len(mj) > 2:
            floor = link_min if (wi.codes or wi.names or wj.codes or wj.names) else link_min * unplaced
            if float(si.multiply(sj).sum()) < floor * len(mi) * len(mj):
                continue
        if len(mi) < len(mj):
            ri, rj, mi, mj, wi, wj = rj, ri, mj, mi, wj, wi
        parent[rj] = ri
        members[ri] = mi + mj
        members.pop(rj, None)
        sums[ri] = si + sj
        sums.pop(rj, None)
        wi.merge(wj)
        where[ri] = wi
        where.pop(rj, None)
    groups = [Group([calls[k] for k in sorted(m, key=lambda k: times[k])]) for m in members.values()
              if len(m) >= min_size]
    groups.sort(key=lambda g: (-g.size, g.first_at))
    return groups
