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

Prediction is plain numpy/scipy: n-grams are keyed as integers from the text's code points and
counted with one sort per batch; the title and body counts give the whole message's counts by
addition (plus the three n-grams at the joint), so the text is read once.

The file holds only plain data (terms, idf, weights as float32) — no pickled scikit-learn
objects — so a model keeps loading when scikit-learn is upgraded.
"""

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .data import ClassifierError, Row, join_text

FORMAT = 2
NGRAM_RANGE = (1, 2)
MIN_DF = 2
SVM_C = 0.5
MAX_FEATURES = 400_000
JOINT = "。"  # join_text puts it between title and body

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


def _vectorizer(vocabulary=None, min_df: int = MIN_DF):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer="char",
        ngram_range=NGRAM_RANGE,
        sublinear_tf=True,
        min_df=1 if vocabulary is not None else min_df,
        max_features=None if vocabulary is not None else MAX_FEATURES,
        vocabulary=vocabulary,
        dtype=np.float32,
    )


# -- features ---------------------------------------------------------------------------------------
_SPACES = re.compile(r"\s\s+")
_DOC_SHIFT = np.uint64(43)  # (document << 43) | n-gram key; a key is < 2**43
_KEY_MASK = np.uint64((1 << 43) - 1)
_CHAR_SHIFT = np.uint64(21)  # code points are < 2**21


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


class Features:
    """Character 1–2-gram counts and TF-IDF rows, equal to scikit-learn's (tested), with numpy only."""

    def __init__(self, terms: Sequence[str], idf):
        self.idf = np.asarray(idf, dtype=np.float32)
        keys = np.fromiter((term_key(t) for t in terms), dtype=np.uint64, count=len(terms))
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.ids = order.astype(np.int64)
        self.n = len(terms)
        if len(self.keys) and np.any(self.keys[1:] == self.keys[:-1]):
            raise ClassifierError("模型词表中有重复的 n-gram")

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Feature index of each key, -1 for an n-gram not in the vocabulary."""
        if not len(self.keys):
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[pos] == keys, self.ids[pos], -1)

    def counts(self, docs: Sequence[str]):
        """Raw n-gram counts (CSR, float32) of prepared texts; one sort of (document, key) pairs."""
        from scipy.sparse import csr_matrix

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
        indptr = np.searchsorted(rows, np.arange(n_docs + 1))
        return csr_matrix((count[known].astype(np.float32), cols[known], indptr), shape=(n_docs, self.n))

    def tfidf(self, counts):
        """Sublinear TF-IDF, rows scaled to unit length (as TfidfVectorizer(sublinear_tf=True))."""
        X = counts.copy()
        X.data = (np.log(X.data) + np.float32(1.0)) * self.idf[X.indices]
        row = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        norms = np.sqrt(np.bincount(row, weights=np.square(X.data, dtype=np.float64), minlength=X.shape[0]))
        norms[norms == 0] = 1.0
        X.data /= norms.astype(np.float32)[row]
        return X

    def joint_counts(self, titles: Sequence[str], bodies: Sequence[str]):
        """Counts of the n-grams that exist only in title + 。 + body: 。, last-of-title + 。, 。 + first-of-body."""
        from scipy.sparse import csr_matrix

        n = len(titles)
        j = ord(JOINT)
        keys = np.empty((n, 3), dtype=np.uint64)
        keys[:, 0] = j
        keys[:, 1] = [((ord(t[-1]) + 1) << 21) | j for t in titles]
        keys[:, 2] = [((j + 1) << 21) | ord(b[0]) for b in bodies]
        cols = self.lookup(keys.ravel()).reshape(n, 3)
        rows = np.repeat(np.arange(n), 3).reshape(n, 3)
        known = cols >= 0
        out = csr_matrix(
            (np.ones(int(known.sum()), dtype=np.float32), (rows[known], cols[known])), shape=(n, self.n)
        )
        out.sum_duplicates()
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


def _confidence_features(decisions: np.ndarray) -> np.ndarray:
    top2 = np.sort(decisions, axis=1)[:, -2:] if decisions.shape[1] > 1 else np.c_[decisions - 1, decisions]
    return np.c_[top2[:, 1] - top2[:, 0], top2[:, 1]]


def fit_confidence(decisions: np.ndarray, labels: Sequence[str], classes: Sequence[str]) -> list[float]:
    """Logistic calibration of "the top label is right" on out-of-fold decisions: [w_margin, w_top, bias]."""
    from sklearn.linear_model import LogisticRegression

    right = np.asarray(classes)[decisions.argmax(axis=1)] == np.asarray(labels)
    if right.all() or not right.any():  # one outcome only: nothing to fit; fall back to a steep margin
        return [4.0, 0.0, 0.0 if right.all() else -4.0]
    lr = LogisticRegression(C=10.0).fit(_confidence_features(decisions), right)
    return [float(lr.coef_[0, 0]), float(lr.coef_[0, 1]), float(lr.intercept_[0])]


def confidence_of(decisions: np.ndarray, params: Sequence[float]) -> np.ndarray:
    f = _confidence_features(decisions)
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
    """A trained model: features, weights, calibration scale and auto-dispatch threshold."""

    def __init__(
        self,
        *,
        labels,
        terms,
        idf,
        coef,
        intercept,
        scale=1.0,
        confidence=(4.0, 0.0, 0.0),
        threshold=1.01,
        card=None,
        version="",
    ):
        self.labels = [str(x) for x in labels]
        self.terms = list(terms)
        self.idf = np.asarray(idf, dtype=np.float32)
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.scale = float(scale)
        self.confidence = [float(x) for x in confidence]
        self.threshold = float(threshold)
        self.card = dict(card or {})
        self._version = version
        self._features = Features(self.terms, self.idf)
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
    def vocabulary(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.terms)}

    @property
    def _vec(self):
        """The equivalent scikit-learn vectorizer (for checking `features`; prediction does not use it)."""
        vec = _vectorizer(self.vocabulary)
        vec.idf_ = self.idf
        return vec

    # -- training ---------------------------------------------------------------------------------
    @classmethod
    def fit(cls, rows: Sequence[Row], *, min_df: int = MIN_DF, c: float = SVM_C) -> "ClassifierModel":
        return cls.fit_many(rows, cs=(c,), min_df=min_df)[0]

    @classmethod
    def fit_many(
        cls, rows: Sequence[Row], *, cs: Sequence[float] = (SVM_C,), min_df: int = MIN_DF
    ) -> list["ClassifierModel"]:
        """One model per SVM regularisation C, sharing one vocabulary (the features are made once)."""
        from sklearn.svm import LinearSVC

        texts = [join_text(t, b) for t, b, _ in rows]
        labels = [lab for _, _, lab in rows]
        if len(set(labels)) < 2:
            raise ClassifierError("训练数据至少需要两个类别")
        vec = _vectorizer(min_df=min_df if len(rows) >= 50 else 1)
        try:
            X = vec.fit_transform(texts)
        except ValueError as exc:  # empty vocabulary
            raise ClassifierError(f"训练数据无法提取特征：{exc}") from exc
        terms = [""] * len(vec.vocabulary_)
        for term, i in vec.vocabulary_.items():
            terms[i] = term
        models = []
        for c in cs:
            svm = LinearSVC(C=c).fit(X, labels)
            coef, intercept = svm.coef_, svm.intercept_
            if coef.shape[0] == 1:  # two classes: sklearn keeps one row for the second class
                coef = np.vstack([-coef, coef])
                intercept = np.array([-intercept[0], intercept[0]])
            model = cls(labels=list(svm.classes_), terms=terms, idf=vec.idf_, coef=coef, intercept=intercept)
            model.svm_c = float(c)
            models.append(model)
        return models

    # -- prediction -------------------------------------------------------------------------------
    def features(self, texts: Sequence[str]):
        """TF-IDF rows of whole texts, the same as scikit-learn's transform (tested)."""
        f = self._features
        return f.tfidf(f.counts([_prepare(t) for t in texts]))

    def decision(self, items: Sequence[Item]) -> np.ndarray:
        """Decision values per label: the mean over whole, title and body of a message that has both."""
        from scipy.sparse import vstack

        f = self._features
        split = [split_item(item) for item in items]
        parts = [i for i, (_, t, b) in enumerate(split) if t and b]
        single = [i for i, (_, t, b) in enumerate(split) if not (t and b)]
        titles = [_prepare(split[i][1]) for i in parts]
        bodies = [_prepare(split[i][2]) for i in parts]
        counts = f.counts(titles + bodies + [_prepare(split[i][0]) for i in single])
        n = len(parts)
        c_title, c_body, c_single = counts[:n], counts[n : 2 * n], counts[2 * n :]
        blocks = [c_single]
        if n:
            blocks = [c_title + c_body + f.joint_counts(titles, bodies), c_title, c_body, c_single]
        d = np.asarray(f.tfidf(vstack(blocks, format="csr")) @ self._coef_t) + self.intercept
        out = np.empty((len(items), len(self.labels)), dtype=np.float64)
        out[single] = d[3 * n :]
        if n:
            out[parts] = (d[:n] + d[n : 2 * n] + d[2 * n : 3 * n]) / 3.0
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

    def to_payload(self) -> dict:
        return {
            "format": FORMAT,
            "labels": self.labels,
            "terms": self.terms,
            "idf": self.idf,
            "coef": self.coef,
            "intercept": self.intercept,
            "scale": self.scale,
            "confidence": self.confidence,
            "threshold": self.threshold,
            "ngram_range": list(NGRAM_RANGE),
            "views": ["whole", "title", "body"],
            "card": self.card,
        }

    def save(self, path: str | Path) -> Path:
        import joblib

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.to_payload(), path, compress=("xz", 6))
        return path

    @classmethod
    def load(cls, path: str | Path) -> "ClassifierModel":
        import joblib

        path = Path(path)
        if not path.is_file():
            raise ClassifierError(f"模型文件不存在：{path}")
        try:
            payload = joblib.load(path)
        except Exception as exc:  # a truncated or foreign file: say which, not a traceback
            raise ClassifierError(f"无法读取模型文件 {path}：{exc}") from exc
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ClassifierError(f"不支持的模型文件格式：{path}")
        if tuple(payload["ngram_range"]) != NGRAM_RANGE:
            raise ClassifierError(f"模型的 n-gram 设置与本程序不符：{path}")
        return cls(
            labels=payload["labels"],
            terms=payload["terms"],
            idf=payload["idf"],
            coef=payload["coef"],
            intercept=payload["intercept"],
            scale=payload["scale"],
            confidence=payload["confidence"],
            threshold=payload["threshold"],
            card=payload.get("card"),
            version=path.stem,
        )
