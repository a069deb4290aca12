"""The classifier itself: character n-gram TF-IDF, a linear SVM read three ways, and a calibrated confidence.

Chosen by measurement (docs/classifier.md). Features are character 1–2-grams (sublinear TF-IDF) and
the model is one linear SVM (C from 0.5 / 1 / 2, chosen by cross-validation in training.py) trained
on whole messages plus the many title-only and body-only rows of the data. A message with both a title and a body is scored three times — whole, title alone,
body alone — and the three decision vectors are averaged: most training rows are titles or bodies
on their own, so reading the parts the way the model learnt them adds evidence the whole-text
vector dilutes (+0.009 macro-F1 in the same honest cross-validation, at no cost in model size).

The SVM's decision values are turned into per-label scores by a softmax whose single scale is
fitted on out-of-fold decisions for whole messages. The confidence of the chosen label is a
logistic calibration of the top decision value and its margin over the runner-up, fitted on
out-of-fold whole messages (P(prediction right)).

Prediction needs numpy only (no scipy, no scikit-learn; training.py fits with scikit-learn, the
`train` extra): n-grams are keyed as integers from the text's code points and counted with one
sort per batch; the title and body counts give the whole message's counts by addition (plus the
three n-grams at the joint), so the text is read once; the TF-IDF rows stay as (row, column,
value) arrays and the decision values are summed per row.

The model file (FORMAT 3, `model-YYYYMMDD-<hash>.npz`) is a zip of plain arrays — n-gram keys,
idf, weights, intercepts (.npy, read with allow_pickle=False) — and `meta.json` (labels,
calibration, threshold, settings, card). Nothing in it is unpickled, and it keeps loading whatever
scikit-learn version is installed, or none.
"""

import hashlib
import json
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .data import ClassifierError, join_text

FORMAT = 3
NGRAM_RANGE = (1, 2)
MIN_DF = 2
SVM_C = 0.5
MAX_FEATURES = 400_000
JOINT = "。"  # join_text puts it between title and body
SUFFIX = ".npz"
# Members of the model file; arrays are .npy (numpy's own format), read without pickle.
ARRAYS = ("keys", "idf", "coef", "intercept")
META = "meta.json"
PREPROCESS = (
    "lowercase; runs of two or more whitespace characters become one space (scikit-learn's char analyzer)"
)
KEY_ENCODING = "a character: its code point; a pair c1 c2: ((code(c1) + 1) << 21) | code(c2)"

# An item to classify: (title, body), or one text (a text in join_text's form "title。body" is cut
# at its first 。 to read the parts too).
Item = str | tuple[str, str]


@dataclass(frozen=True)
class Prediction:
    """One message's department family, how sure we are, and whether it is dispatched automatically."""

    label: str
    confidence: float
    auto: bool
    scores: dict[str, float] = field(default_factory=dict)
    model_version: str = ""  # the model file's name without suffix, e.g. model-20261126-1a2b3c4d5e


# -- features ---------------------------------------------------------------------------------------
_SPACES = re.compile(r"\s\s+")
_DOC_SHIFT = np.uint64(43)  # (document << 43) | n-gram key; a key is < 2**43
_KEY_MASK = np.uint64((1 << 43) - 1)
_CHAR_SHIFT = np.uint64(21)  # code points are < 2**21
_CHAR_MASK = (1 << 21) - 1


def _prepare(text: str) -> str:
    """What scikit-learn's char analyzer reads: lowercase, runs of whitespace squeezed to one space."""
    return _SPACES.sub(" ", text.lower())


def term_key(term: str) -> int:
    """An n-gram as an integer: a character's code point, or (first + 1) << 21 | second for a pair."""
    if len(term) == 1:
        return ord(term)
    if len(term) == 2:
        return ((ord(term[0]) + 1) << 21) | ord(term[1])
    raise ClassifierError(f"不支持的 n-gram：{term!r}")


def key_term(key: int) -> str:
    """The n-gram of a key (the inverse of term_key)."""
    key = int(key)
    if key <= _CHAR_MASK:
        return chr(key)
    return chr((key >> 21) - 1) + chr(key & _CHAR_MASK)


@dataclass(frozen=True)
class SparseRows:
    """Rows of a sparse matrix in CSR form (indptr, indices, data) — what `features` returns."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]

    @property
    def nnz(self) -> int:
        return len(self.data)

    def toarray(self) -> np.ndarray:
        out = np.zeros(self.shape, dtype=self.data.dtype)
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        out[rows, self.indices] = self.data
        return out

    def to_scipy(self):
        """The same rows as a scipy.sparse.csr_matrix (scipy comes with the `train` extra)."""
        from scipy.sparse import csr_matrix  # late: prediction needs numpy only

        return csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)


class Features:
    """Character 1–2-gram counts and TF-IDF rows, equal to scikit-learn's (tested), with numpy only.

    Counts and TF-IDF values are kept as three parallel arrays (row, column, value), sorted by row.
    """

    def __init__(self, keys, idf):
        self.idf = np.asarray(idf, dtype=np.float32)
        keys = np.asarray(keys, dtype=np.uint64)
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.ids = order.astype(np.int64)
        self.n = len(keys)
        if len(self.keys) and np.any(self.keys[1:] == self.keys[:-1]):
            raise ClassifierError("模型词表中有重复的 n-gram")

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Feature index of each key, -1 for an n-gram not in the vocabulary."""
        if not len(self.keys):
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[pos] == keys, self.ids[pos], -1)

    def counts(self, docs: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw n-gram counts of prepared texts as (row, column, count), sorted by row; one sort of
        (document, key) pairs. N-grams not in the vocabulary are left out."""
        n_docs = len(docs)
        lengths = np.fromiter(map(len, docs), dtype=np.int64, count=n_docs)
        codes = np.frombuffer("".join(docs).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        codes = codes.astype(np.uint64)
        doc = np.repeat(np.arange(n_docs, dtype=np.uint64), lengths)
        same = doc[1:] == doc[:-1]  # a pair never spans two documents
        pairs = ((codes[:-1][same] + np.uint64(1)) << _CHAR_SHIFT) | codes[1:][same]
        keyed = np.concatenate([(doc << _DOC_SHIFT) | codes, (doc[:-1][same] << _DOC_SHIFT) | pairs])
        uniq, count = np.unique(keyed, return_counts=True)
        cols = self.lookup(uniq & _KEY_MASK)
        known = cols >= 0
        rows = (uniq[known] >> _DOC_SHIFT).astype(np.int64)
        return rows, cols[known], count[known].astype(np.float32)

    def joint_counts(self, titles: Sequence[str], bodies: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of the n-grams that exist only in title + 。 + body: 。, last-of-title + 。,
        。 + first-of-body (each counts once; known n-grams only)."""
        n = len(titles)
        j = ord(JOINT)
        keys = np.empty((n, 3), dtype=np.uint64)
        keys[:, 0] = j
        keys[:, 1] = [((ord(t[-1]) + 1) << 21) | j for t in titles]
        keys[:, 2] = [((j + 1) << 21) | ord(b[0]) for b in bodies]
        cols = self.lookup(keys.ravel())
        rows = np.repeat(np.arange(n, dtype=np.int64), 3)
        known = cols >= 0
        return rows[known], cols[known]

    def tfidf(self, rows: np.ndarray, cols: np.ndarray, counts: np.ndarray, n_rows: int) -> np.ndarray:
        """Sublinear TF-IDF values of (row, column, count) entries, each row scaled to unit length
        (as TfidfVectorizer(sublinear_tf=True, norm="l2"))."""
        values = (np.log(counts.astype(np.float32)) + np.float32(1.0)) * self.idf[cols]
        norms = np.sqrt(np.bincount(rows, weights=np.square(values, dtype=np.float64), minlength=n_rows))
        norms[norms == 0] = 1.0
        return values / norms.astype(np.float32)[rows]


def _row_sums(rows: np.ndarray, terms: np.ndarray, n_rows: int) -> np.ndarray:
    """Sum of `terms` (entries × labels) per row; `rows` is sorted; rows without entries sum to 0."""
    out = np.zeros((n_rows, terms.shape[1]), dtype=terms.dtype)
    if not len(rows):
        return out
    starts = np.searchsorted(rows, np.arange(n_rows))
    filled = np.bincount(rows, minlength=n_rows) > 0
    out[filled] = np.add.reduceat(terms, starts[filled], axis=0)
    return out


def split_item(item: Item) -> tuple[str, str, str]:
    """(whole, title, body) of an item; title and body are "" unless the item has both.

    The whole text is what the model reads as one document (title。body for a pair). A single text
    is read whole, and — if it has a 。 with text on both sides — also as title (before the first
    。) and body (after it), which is exactly how join_text wrote it.
    """
    if isinstance(item, str):
        whole = item.strip()
        title, sep, body = whole.partition(JOINT)
        if not sep or not title or not body:
            return whole, "", ""
        return whole, title, body
    title, body = item
    title, body = (title or "").strip(), (body or "").strip()
    whole = join_text(title, body)
    if not (title and body):
        return whole, "", ""
    return whole, title, body


# -- calibration ------------------------------------------------------------------------------------
def softmax(decisions: np.ndarray, scale: float) -> np.ndarray:
    z = decisions * scale
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_scale(decisions: np.ndarray, labels: Sequence[str], classes: Sequence[str]) -> float:
    """The softmax scale minimising the log-loss of out-of-fold decisions (temperature scaling)."""
    index = {c: i for i, c in enumerate(classes)}
    known = np.array([lab in index for lab in labels])
    if not known.any():
        return 1.0
    y = np.array([index[lab] for lab in labels if lab in index])
    d = decisions[known]
    best, best_loss = 1.0, np.inf
    for scale in np.geomspace(0.25, 64, 200):
        p = softmax(d, scale)[np.arange(len(y)), y]
        loss = -np.log(np.clip(p, 1e-12, None)).mean()
        if loss < best_loss:
            best, best_loss = float(scale), loss
    return best


def confidence_features(decisions: np.ndarray) -> np.ndarray:
    """(margin of the top decision over the runner-up, top decision) per row."""
    top2 = np.sort(decisions, axis=1)[:, -2:] if decisions.shape[1] > 1 else np.c_[decisions - 1, decisions]
    return np.c_[top2[:, 1] - top2[:, 0], top2[:, 1]]


def confidence_of(decisions: np.ndarray, params: Sequence[float]) -> np.ndarray:
    f = confidence_features(decisions)
    z = f[:, 0] * params[0] + f[:, 1] * params[1] + params[2]
    return 1.0 / (1.0 + np.exp(-z))


def choose_threshold(confidence: np.ndarray, correct: np.ndarray, target: float) -> float:
    """Lowest confidence at which everything at or above it is still right `target` of the time.

    Returns a value above 1 (nothing automatic) when no threshold reaches the target.
    """
    if len(confidence) == 0:
        return 1.01
    order = np.argsort(-confidence, kind="stable")
    conf, ok = confidence[order], correct[order].astype(float)
    precision = np.cumsum(ok) / np.arange(1, len(ok) + 1)
    # Only cut between distinct confidences, so ties are all in or all out.
    last_of_tie = np.append(conf[1:] < conf[:-1], True)
    good = np.nonzero((precision >= target) & last_of_tie)[0]
    if len(good) == 0:
        return 1.01
    return float(conf[good[-1]])


# -- the model --------------------------------------------------------------------------------------
class ClassifierModel:
    """A trained model: features, weights, calibration scale and auto-dispatch threshold.

    The vocabulary is given as `terms` (n-gram strings, column order) or as their integer `keys`
    (term_key), as the model file stores it.
    """

    def __init__(
        self,
        *,
        labels,
        idf,
        coef,
        intercept,
        terms=None,
        keys=None,
        scale=1.0,
        confidence=(4.0, 0.0, 0.0),
        threshold=1.01,
        card=None,
        version="",
    ):
        if (terms is None) == (keys is None):
            raise ClassifierError("模型需要词表：terms 或 keys 二选一")
        if keys is None:
            keys = np.fromiter((term_key(t) for t in terms), dtype=np.uint64, count=len(terms))
        self.labels = [str(x) for x in labels]
        self.keys = np.asarray(keys, dtype=np.uint64)
        self.idf = np.asarray(idf, dtype=np.float32)
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        n_labels, n_features = len(self.labels), len(self.keys)
        if (
            self.idf.shape != (n_features,)
            or self.coef.shape != (n_labels, n_features)
            or self.intercept.shape != (n_labels,)
        ):
            raise ClassifierError(
                f"模型数组的形状不一致：{n_labels} 个类别、{n_features} 个特征，"
                f"idf {self.idf.shape}、coef {self.coef.shape}、intercept {self.intercept.shape}"
            )
        self.scale = float(scale)
        self.confidence = [float(x) for x in confidence]
        self.threshold = float(threshold)
        self.card = dict(card or {})
        self._version = version
        self._features = Features(self.keys, self.idf)
        self._coef_t = np.ascontiguousarray(self.coef.T)
        self.svm_c = float(self.card.get("features", {}).get("svm_c", SVM_C))

    @property
    def version(self) -> str:
        """Which model decided: the file name without suffix (model-YYYYMMDD-<hash>), else model-<hash>."""
        return self._version or f"model-{self.digest()}"

    @version.setter
    def version(self, value: str) -> None:
        self._version = value

    @property
    def terms(self) -> list[str]:
        """The n-grams, in column order."""
        return [key_term(k) for k in self.keys.tolist()]

    @property
    def vocabulary(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.terms)}

    # -- prediction -------------------------------------------------------------------------------
    def features(self, texts: Sequence[str]) -> SparseRows:
        """TF-IDF rows of whole texts, the same as scikit-learn's transform (tested)."""
        f = self._features
        rows, cols, counts = f.counts([_prepare(t) for t in texts])
        values = f.tfidf(rows, cols, counts, len(texts))
        indptr = np.searchsorted(rows, np.arange(len(texts) + 1))
        return SparseRows(indptr, cols, values, (len(texts), f.n))

    def decision(self, items: Sequence[Item]) -> np.ndarray:
        """Decision values per label: the mean over whole, title and body of a message that has both."""
        f = self._features
        split = [split_item(item) for item in items]
        parts = [i for i, (_, t, b) in enumerate(split) if t and b]
        single = [i for i, (_, t, b) in enumerate(split) if not (t and b)]
        titles = [_prepare(split[i][1]) for i in parts]
        bodies = [_prepare(split[i][2]) for i in parts]
        # Documents: titles [0, n), bodies [n, 2n), single texts [2n, 2n + m).
        rows, cols, counts = f.counts(titles + bodies + [_prepare(split[i][0]) for i in single])
        n = len(parts)
        n_rows = 3 * n + len(single)
        # Rows of the matrix scored: whole messages [0, n), then the documents above shifted by n.
        rows = rows + n
        if n:
            # A whole message's counts: its title's plus its body's plus the n-grams at the joint.
            in_parts = rows < 3 * n
            j_rows, j_cols = f.joint_counts(titles, bodies)
            w_rows = np.concatenate([(rows[in_parts] - n) % n, j_rows])
            w_cols = np.concatenate([cols[in_parts], j_cols])
            w_counts = np.concatenate([counts[in_parts], np.ones(len(j_rows), dtype=np.float32)])
            uniq, inverse = np.unique(w_rows * f.n + w_cols, return_inverse=True)
            summed = np.bincount(inverse.ravel(), weights=w_counts, minlength=len(uniq))
            rows = np.concatenate([uniq // f.n, rows])
            cols = np.concatenate([uniq % f.n, cols])
            counts = np.concatenate([summed.astype(np.float32), counts])
        values = f.tfidf(rows, cols, counts, n_rows)
        d = _row_sums(rows, self._coef_t[cols] * values[:, None], n_rows) + self.intercept
        out = np.empty((len(items), len(self.labels)), dtype=np.float64)
        out[single] = d[3 * n :]
        if n:
            out[parts] = (d[:n].astype(np.float64) + d[n : 2 * n] + d[2 * n : 3 * n]) / 3.0
        return out

    def proba(self, items: Sequence[Item]) -> np.ndarray:
        return softmax(self.decision(items), self.scale)

    def predict(self, items: Sequence[Item]) -> list[Prediction]:
        for item in items:
            text = item if isinstance(item, str) else "".join(x or "" for x in item)
            if not text or not text.strip():
                raise ClassifierError("留言内容为空，无法分类")
        if not items:
            return []
        decisions = self.decision(items)
        proba = softmax(decisions, self.scale)
        confidence = confidence_of(decisions, self.confidence)
        best = decisions.argmax(axis=1)
        labels, version, threshold = self.labels, self.version, self.threshold
        return [
            Prediction(
                label=labels[k],
                confidence=c,
                auto=c >= threshold,
                scores=dict(zip(labels, row, strict=True)),
                model_version=version,
            )
            for row, k, c in zip(proba.tolist(), best.tolist(), confidence.tolist(), strict=True)
        ]

    # -- files ------------------------------------------------------------------------------------
    def digest(self) -> str:
        h = hashlib.sha256()
        h.update(json.dumps(self.labels, ensure_ascii=False).encode())
        h.update(self.coef.tobytes())
        h.update(self.intercept.tobytes())
        h.update(self.idf.tobytes())
        h.update(json.dumps([self.scale, self.confidence, self.threshold]).encode())
        return h.hexdigest()[:10]

    def meta(self) -> dict:
        """Everything but the arrays: what meta.json in the model file holds."""
        return {
            "format": FORMAT,
            "labels": self.labels,
            "scale": self.scale,
            "confidence": self.confidence,
            "threshold": self.threshold,
            "analyzer": "char",
            "ngram_range": list(NGRAM_RANGE),
            "preprocess": PREPROCESS,
            "tfidf": "sublinear tf (1 + log count) × idf, rows l2-normalised",
            "keys": KEY_ENCODING,
            "decision": "tfidf · coef.T + intercept",
            "views": ["whole", "title", "body"],
            "card": self.card,
        }

    def save(self, path: str | Path) -> Path:
        """Write the model file: the arrays as .npy members and meta.json, in an LZMA-compressed zip."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"keys": self.keys, "idf": self.idf, "coef": self.coef, "intercept": self.intercept}
        tmp = path.with_name(path.name + ".tmp")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_LZMA) as zf:
            for name, array in arrays.items():
                with zf.open(f"{name}.npy", "w") as fh:
                    np.lib.format.write_array(fh, np.ascontiguousarray(array), allow_pickle=False)
            zf.writestr(META, json.dumps(self.meta(), ensure_ascii=False, indent=1))
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "ClassifierModel":
        path = Path(path)
        if not path.is_file():
            raise ClassifierError(f"模型文件不存在：{path}")
        if path.suffix == ".joblib":
            raise ClassifierError(
                f"旧格式的模型文件（.joblib）：{path}；"
                "用 python -m huying.dispatch.classifier.convert 转换为 .npz（需要 pip install 'huying[train]'）"
            )
        try:
            with zipfile.ZipFile(path) as zf:
                meta = json.loads(zf.read(META).decode("utf-8"))
                arrays = {}
                for name in ARRAYS:
                    with zf.open(f"{name}.npy") as fh:
                        arrays[name] = np.lib.format.read_array(fh, allow_pickle=False)
        except Exception as exc:  # a truncated or foreign file: say which, not a traceback
            raise ClassifierError(f"无法读取模型文件 {path}：{exc}") from exc
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ClassifierError(f"不支持的模型文件格式：{path}")
        if tuple(meta.get("ngram_range", ())) != NGRAM_RANGE or meta.get("analyzer") != "char":
            raise ClassifierError(f"模型的 n-gram 设置与本程序不符：{path}")
        return cls(
            labels=meta["labels"],
            keys=arrays["keys"],
            idf=arrays["idf"],
            coef=arrays["coef"],
            intercept=arrays["intercept"],
            scale=meta["scale"],
            confidence=meta["confidence"],
            threshold=meta["threshold"],
            card=meta.get("card"),
            version=path.stem,
        )
