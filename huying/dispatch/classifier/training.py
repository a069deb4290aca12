"""Training with honest cross-validation, threshold choice, and the versioned model file with its card.

Honest means: messages.csv is split by id; the held-out messages' titles and bodies are dropped from
the training side (they also appear in titles.csv / bodies.csv); scores are on whole messages. The
calibration scale and the auto-dispatch threshold of each fold are chosen by a second
cross-validation inside that fold's training side, so the reported auto-dispatch precision is what
a threshold chosen without seeing the test messages achieves.

Fitting needs scikit-learn (and joblib, scipy with it): the `train` extra, `pip install 'huying[train]'`.
They are imported only inside the functions that fit; without them those raise
MissingTrainingDependency. `metrics` (used by `huying classifier eval`) is plain numpy.
"""

import datetime as dt
import json
import platform
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from .data import (
    ClassifierError,
    Dataset,
    Message,
    MissingTrainingDependency,
    Row,
    join_text,
    read_data_dir,
    training_rows,
)
from .model import (
    MAX_FEATURES,
    MIN_DF,
    NGRAM_RANGE,
    SUFFIX,
    SVM_C,
    ClassifierModel,
    choose_threshold,
    confidence_features,
    confidence_of,
    fit_scale,
)

TARGET_PRECISION = 0.98
# The SVM's C is chosen from this grid by cross-validation on the training side (inside each outer
# fold for the reported scores; on the outer out-of-fold decisions for the shipped model).
C_GRID = (0.5, 1.0, 2.0)
MISSING = -1e3  # decision value for a class a fold's model never saw


def require_training_libraries() -> None:
    """Refuse clearly when scikit-learn (the `train` extra) is not installed."""
    try:  # the optional `train` extra: probed, not imported at module load
        import joblib  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as exc:
        raise MissingTrainingDependency(
            f"训练分类模型需要 scikit-learn：pip install 'huying[train]'（{exc}）"
        ) from exc


def macro_f1(truth: Sequence[str], pred: Sequence[str]) -> float:
    """Unweighted mean of per-label F1 over the labels in truth or prediction (F1 = 0 when undefined),
    as scikit-learn's f1_score(average="macro", zero_division=0)."""
    truth, pred = np.asarray(truth), np.asarray(pred)
    if not len(truth):
        return 0.0
    labels = np.union1d(truth, pred)
    f1 = []
    for label in labels:
        tp = np.sum((truth == label) & (pred == label))
        fp_fn = np.sum(truth == label) + np.sum(pred == label) - 2 * tp
        f1.append(2 * tp / (2 * tp + fp_fn) if 2 * tp + fp_fn else 0.0)
    return float(np.mean(f1))


def metrics(truth: Sequence[str], pred: Sequence[str], confidence: Sequence[float], threshold: float) -> dict:
    """macro_f1, accuracy, auto_share and auto_precision of predictions at a threshold (numpy only)."""
    truth, pred = np.asarray(truth), np.asarray(pred)
    auto = np.asarray(confidence) >= threshold
    correct = truth == pred
    return {
        "macro_f1": macro_f1(truth, pred),
        "accuracy": float(correct.mean()) if len(correct) else 0.0,
        "auto_share": float(auto.mean()) if len(auto) else 0.0,
        "auto_precision": float(correct[auto].mean()) if auto.any() else float("nan"),
    }


# -- fitting (scikit-learn) ---------------------------------------------------------------------------
def vectorizer(vocabulary=None, min_df: int = MIN_DF):
    """The scikit-learn TfidfVectorizer the model's features equal (model.Features computes them with numpy)."""
    require_training_libraries()
    from sklearn.feature_extraction.text import TfidfVectorizer  # optional (`train` extra)

    return TfidfVectorizer(
        analyzer="char",
        ngram_range=NGRAM_RANGE,
        sublinear_tf=True,
        min_df=1 if vocabulary is not None else min_df,
        max_features=None if vocabulary is not None else MAX_FEATURES,
        vocabulary=vocabulary,
        dtype=np.float32,
    )


def sklearn_vectorizer(model: ClassifierModel):
    """A fitted TfidfVectorizer equal to the model's features (for checking them; prediction does not use it)."""
    vec = vectorizer(model.vocabulary)
    vec.idf_ = model.idf
    return vec


def fit_models(
    rows: Sequence[Row], *, cs: Sequence[float] = (SVM_C,), min_df: int = MIN_DF
) -> list[ClassifierModel]:
    """One model per SVM regularisation C, sharing one vocabulary (the features are made once)."""
    require_training_libraries()
    from sklearn.svm import LinearSVC  # optional (`train` extra)

    texts = [join_text(t, b) for t, b, _ in rows]
    labels = [lab for _, _, lab in rows]
    if len(set(labels)) < 2:
        raise ClassifierError("训练数据至少需要两个类别")
    vec = vectorizer(min_df=min_df if len(rows) >= 50 else 1)
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
        model = ClassifierModel(
            labels=list(svm.classes_), terms=terms, idf=vec.idf_, coef=coef, intercept=intercept
        )
        model.svm_c = float(c)
        models.append(model)
    return models


def fit_confidence(decisions: np.ndarray, labels: Sequence[str], classes: Sequence[str]) -> list[float]:
    """Logistic calibration of "the top label is right" on out-of-fold decisions: [w_margin, w_top, bias]."""
    right = np.asarray(classes)[decisions.argmax(axis=1)] == np.asarray(labels)
    if right.all() or not right.any():  # one outcome only: nothing to fit; fall back to a steep margin
        return [4.0, 0.0, 0.0 if right.all() else -4.0]
    require_training_libraries()
    from sklearn.linear_model import LogisticRegression  # optional (`train` extra)

    lr = LogisticRegression(C=10.0).fit(confidence_features(decisions), right)
    return [float(lr.coef_[0, 0]), float(lr.coef_[0, 1]), float(lr.intercept_[0])]


def _splits(messages: Sequence[Message], folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds over messages grouped by id (one id never on both sides), stratified by label."""
    require_training_libraries()
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold  # optional (`train` extra)

    ids = [m.id for m in messages]
    labels = [m.label for m in messages]
    n_groups = len(set(ids))
    if n_groups < 2:
        raise ClassifierError("交叉验证至少需要两条不同编号的留言")
    folds = min(folds, n_groups)
    X = np.zeros(len(messages))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small classes: fewer members than folds is fine here
        try:
            return list(StratifiedGroupKFold(folds, shuffle=True, random_state=seed).split(X, labels, ids))
        except ValueError:
            return list(GroupKFold(folds).split(X, labels, ids))


def _aligned(model: ClassifierModel, items: Sequence[tuple[str, str]], classes: Sequence[str]) -> np.ndarray:
    d = model.decision(items)
    out = np.full((len(items), len(classes)), MISSING, dtype=np.float64)
    for j, label in enumerate(model.labels):
        out[:, classes.index(label)] = d[:, j]
    return out


def _out_of_fold(
    messages: Sequence[Message],
    *,
    titles,
    bodies,
    extra_rows,
    classes: Sequence[str],
    folds: int,
    seed: int,
    also_held_out: Sequence[Message] = (),
    cs: Sequence[float] = C_GRID,
) -> dict[float, np.ndarray]:
    """Decision values for every message from models that never saw it (nor its title or body), per C."""
    out = {c: np.zeros((len(messages), len(classes))) for c in cs}
    for train_idx, test_idx in _splits(messages, folds, seed):
        held = [messages[i] for i in test_idx]
        rows = training_rows(
            [messages[i] for i in train_idx],
            titles=titles,
            bodies=bodies,
            extra_rows=extra_rows,
            held_out=held + list(also_held_out),
        )
        for c, model in zip(cs, fit_models(rows, cs=cs), strict=True):
            out[c][test_idx] = _aligned(model, [(m.title, m.body) for m in held], classes)
    return out


def best_c(decisions: dict[float, np.ndarray], truth: Sequence[str], classes: Sequence[str]) -> float:
    """The C whose out-of-fold decisions have the best macro-F1 (the smaller C on a tie)."""

    def score(c):
        return macro_f1(truth, np.asarray(classes)[decisions[c].argmax(1)])

    return max(sorted(decisions), key=lambda c: (round(score(c), 6), -c))


def _outer_fold(
    messages, train_idx, test_idx, *, titles, bodies, extra_rows, classes, folds, seed, target, nested
):
    train = [messages[i] for i in train_idx]
    held = [messages[i] for i in test_idx]
    rows = training_rows(train, titles=titles, bodies=bodies, extra_rows=extra_rows, held_out=held)
    items = [(m.title, m.body) for m in held]
    # Every C of the grid, so the top level can choose the final model's C on these out-of-fold decisions.
    decisions = {
        c: _aligned(m, items, classes) for c, m in zip(C_GRID, fit_models(rows, cs=C_GRID), strict=True)
    }
    result = {"test_idx": test_idx, "by_c": decisions}
    if nested:
        # C, confidence calibration and threshold of this fold: chosen on its training side only.
        inner_all = _out_of_fold(
            train,
            titles=titles,
            bodies=bodies,
            extra_rows=extra_rows,
            classes=classes,
            folds=folds,
            seed=seed + 1,
            also_held_out=held,
        )
        truth = [m.label for m in train]
        c = best_c(inner_all, truth, classes)
        inner = inner_all[c]
        params = fit_confidence(inner, truth, classes)
        pred = np.asarray(classes)[inner.argmax(1)]
        result["c"] = c
        result["decisions"] = decisions[c]
        result["confidence"] = params
        result["threshold"] = choose_threshold(
            confidence_of(inner, params), pred == np.asarray(truth), target
        )
    return result


def cross_validate(
    data: Dataset,
    *,
    extra_rows: Iterable[Row] = (),
    folds: int = 5,
    target_precision: float = TARGET_PRECISION,
    nested: bool = True,
    seed: int = 0,
    jobs: int = 1,
) -> dict:
    """Out-of-fold decisions for all messages, and (if nested) honest figures per fold and pooled."""
    require_training_libraries()
    from joblib import Parallel, delayed  # optional (`train` extra)

    messages = data.messages
    extra_rows = list(extra_rows)
    classes = sorted(
        {m.label for m in messages}
        | {t[1] for t in data.titles}
        | {b[1] for b in data.bodies}
        | {r[2] for r in extra_rows}
    )
    splits = _splits(messages, folds, seed)
    results = Parallel(n_jobs=jobs)(
        delayed(_outer_fold)(
            messages,
            tr,
            te,
            titles=data.titles,
            bodies=data.bodies,
            extra_rows=extra_rows,
            classes=classes,
            folds=folds,
            seed=seed,
            target=target_precision,
            nested=nested,
        )
        for tr, te in splits
    )
    truth = np.asarray([m.label for m in messages])
    oof_by_c = {c: np.zeros((len(messages), len(classes))) for c in C_GRID}
    for r in results:
        for c, d in r["by_c"].items():
            oof_by_c[c][r["test_idx"]] = d
    c_final = best_c(oof_by_c, truth, classes)
    report = {
        "folds": len(splits),
        "classes": classes,
        "oof": oof_by_c[c_final],
        "truth": truth,
        "c": c_final,
        "c_grid": list(C_GRID),
    }
    if nested:
        per_fold = []
        pred_all = np.empty(len(messages), dtype=object)
        auto_all = np.zeros(len(messages), dtype=bool)
        for r in results:
            idx = r["test_idx"]
            pred = np.asarray(classes)[r["decisions"].argmax(1)]
            conf = confidence_of(r["decisions"], r["confidence"])
            pred_all[idx], auto_all[idx] = pred, conf >= r["threshold"]
            fold = metrics(truth[idx], pred, conf, r["threshold"])
            fold["threshold"] = r["threshold"]
            fold["svm_c"] = r["c"]
            per_fold.append(fold)
        # Each fold has its own threshold, so pool the auto decisions rather than re-thresholding.
        pooled = metrics(truth, pred_all.astype(str), auto_all.astype(float), 0.5)
        report["per_fold"] = per_fold
        report["scores"] = pooled
        report["mean_of_folds"] = {k: float(np.nanmean([f[k] for f in per_fold])) for k in per_fold[0]}
    return report


def _versions() -> dict:
    # The training libraries are optional (`train` extra) and heavy: imported only to name their versions.
    import joblib
    import scipy
    import sklearn

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
    }


def train(
    data: Dataset | str | Path,
    *,
    extra_rows: Iterable[Row] = (),
    folds: int = 5,
    target_precision: float = TARGET_PRECISION,
    nested: bool = True,
    seed: int = 0,
    jobs: int = 1,
    log: Callable[[str], None] | None = None,
) -> ClassifierModel:
    """Train on a data folder (or Dataset) plus `extra_rows` = operator corrections (title, body, label).

    Cross-validation over messages.csv picks the calibration scale and the auto-dispatch threshold
    (precision `target_precision`); with `nested` it also measures honest scores for the card.
    The final model is fitted on everything.
    """
    require_training_libraries()
    log = log or (lambda _msg: None)
    if not isinstance(data, Dataset):
        data = read_data_dir(data)
    extra_rows = list(extra_rows)
    log(f"数据：{data.files}，更正记录 {len(extra_rows)} 条")
    cv = cross_validate(
        data,
        extra_rows=extra_rows,
        folds=folds,
        target_precision=target_precision,
        nested=nested,
        seed=seed,
        jobs=jobs,
    )
    classes, truth, oof = cv["classes"], cv["truth"], cv["oof"]
    scale = fit_scale(oof, list(truth), classes)
    params = fit_confidence(oof, list(truth), classes)
    right = np.asarray(classes)[oof.argmax(1)] == truth
    threshold = choose_threshold(confidence_of(oof, params), right, target_precision)

    rows = training_rows(data.messages, titles=data.titles, bodies=data.bodies, extra_rows=extra_rows)
    model = fit_models(rows, cs=(cv["c"],))[0]
    model.scale, model.confidence, model.threshold = scale, params, threshold
    card = {
        "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "data": {"files": data.files, "extra_rows": len(extra_rows), "training_rows": len(rows)},
        "labels": model.labels,
        "features": {
            "analyzer": "char",
            "ngram_range": list(NGRAM_RANGE),
            "n_features": len(model.vocabulary),
            "tfidf": "sublinear",
            "model": f"LinearSVC(C={cv['c']})",
            "svm_c": cv["c"],
            "svm_c_grid": cv["c_grid"],
            "views": "mean of decisions on whole message, title, body",
            "calibration": "softmax scale for scores; logistic(margin, top) for confidence",
        },
        "calibration_scale": scale,
        "confidence_params": params,
        "threshold": threshold,
        "target_precision": target_precision,
        "cv": {"folds": cv["folds"], "split": "messages by id; held-out titles and bodies dropped"},
        "versions": _versions(),
    }
    if nested:
        card["cv"].update(
            scores=cv["scores"],
            mean_of_folds=cv["mean_of_folds"],
            per_fold=cv["per_fold"],
            note="threshold and confidence calibration of each fold chosen by an inner cross-validation on its training side",
        )
    model.card = card
    return model


def save_model(model: ClassifierModel, out: str | Path) -> Path:
    """Write model-YYYYMMDD-<hash>.npz (into `out` if it is a folder) with a JSON and Markdown card."""
    out = Path(out)
    if out.suffix != SUFFIX:
        day = dt.date.today().strftime("%Y%m%d")
        out = out / f"model-{day}-{model.digest()}{SUFFIX}"
    model.card["file"] = out.name
    model.version = out.stem
    return write_model_files(model, out)


def write_model_files(model: ClassifierModel, out: Path) -> Path:
    """The model file at `out` and its two cards beside it (`.json`, `.md`), which also give its size."""
    model.save(out)
    model.card["size_bytes"] = out.stat().st_size  # in the JSON and Markdown cards only
    out.with_suffix(".json").write_text(
        json.dumps(model.card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    out.with_suffix(".md").write_text(card_markdown(model.card), encoding="utf-8")
    return out


def card_markdown(card: dict) -> str:
    lines = [f"# Model card — {card.get('file', '')}", "", f"- created: {card.get('created')}"]
    data = card.get("data", {})
    lines.append("- data: " + ", ".join(f"{k} ({v} rows)" for k, v in data.get("files", {}).items()))
    lines.append(
        f"- operator corrections: {data.get('extra_rows', 0)}; training rows: {data.get('training_rows')}"
    )
    lines.append(f"- labels: {', '.join(card.get('labels', []))}")
    lines.append(f"- features/model: {json.dumps(card.get('features', {}), ensure_ascii=False)}")
    lines.append(
        f"- auto-dispatch threshold: {card.get('threshold'):.4f} (target precision {card.get('target_precision')})"
    )
    lines.append(f"- calibration scale: {card.get('calibration_scale'):.4f}")
    cv = card.get("cv", {})
    lines.append(f"- cross-validation: {cv.get('folds')} folds, {cv.get('split')}")
    if "scores" in cv:
        lines += ["", "| figure | pooled | mean of folds |", "|---|---|---|"]
        for k, v in cv["scores"].items():
            lines.append(f"| {k} | {v:.4f} | {cv['mean_of_folds'][k]:.4f} |")
    lines += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in card.get("versions", {}).items()), ""]
    return "\n".join(lines)
