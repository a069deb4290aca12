"""The classifier as a plain package (issue 17): prediction needs numpy only — no Django, no scipy, no
scikit-learn, no unpickling — and equals scikit-learn's computation of the same model.

The comparisons with scikit-learn are skipped when it is not installed (it comes with the `train`
extra, which `dev` includes).
"""

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from huying.dispatch.classifier import (
    ClassifierError,
    ClassifierModel,
    default_model_path,
    get_model,
    read_messages,
)
from huying.dispatch.classifier.model import FORMAT, confidence_of, softmax, split_item
from huying.dispatch.classifier.training import macro_f1, metrics

FIXTURE = Path(__file__).parent / "fixtures" / "messages_sample.csv"
REPO = Path(__file__).resolve().parents[2]

needs_sklearn = pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None, reason="the comparison needs scikit-learn (the train extra)"
)


def texts_to_check() -> list:
    """A few hundred items: messages as pairs, as joined text, titles, bodies, pieces, and odd texts."""
    sample = read_messages(FIXTURE)
    items: list = []
    for m in sample:
        items += [(m.title, m.body), f"{m.title}。{m.body}", m.title, m.body, (m.title, "")]
        items += [m.body[i : i + 37] for i in range(0, min(len(m.body), 150), 37)]
    items += [
        "A  B\n\nc\td",
        "x",
        "未见过的字𠀀",
        "İstanbul ΑΣ",
        "𠀀𠀁",  # no known n-gram at all: the decision is the intercept
        ("路灯 不亮  ", "  晚上\n\n一片漆黑"),
        ("。", "。。"),
        "医院挂号难。",
        "。学校收费",
        "ＡＢＣ全角　空格",
        "\ud800孤立的代理",
    ]
    return items


@pytest.fixture(scope="module")
def items():
    out = texts_to_check()
    assert len(out) >= 300
    return out


def sklearn_reference(model: ClassifierModel, items) -> np.ndarray:
    """The decision values computed with scikit-learn's own TfidfVectorizer and LinearSVC."""
    from sklearn.svm import LinearSVC

    from huying.dispatch.classifier.training import sklearn_vectorizer

    vec = sklearn_vectorizer(model)
    svm = LinearSVC()
    svm.coef_, svm.intercept_ = model.coef, model.intercept
    svm.classes_ = np.asarray(model.labels)
    svm.n_features_in_ = model.coef.shape[1]

    def decision(texts):
        return svm.decision_function(vec.transform(texts)).astype(np.float64)

    out = []
    for item in items:
        whole, title, body = split_item(item)
        if title and body:
            out.append(decision([whole, title, body]).mean(axis=0))
        else:
            out.append(decision([whole])[0])
    return np.vstack(out)


@needs_sklearn
def test_numpy_prediction_equals_scikit_learn(items):
    model = get_model()
    ours = model.decision(items)
    theirs = sklearn_reference(model, items)
    assert np.abs(ours - theirs).max() < 1e-5
    preds = model.predict(items)
    assert [p.label for p in preds] == list(np.asarray(model.labels)[theirs.argmax(axis=1)])
    scores = np.array([[p.scores[label] for label in model.labels] for p in preds])
    assert np.abs(scores - softmax(theirs, model.scale)).max() < 1e-5
    conf = np.array([p.confidence for p in preds])
    assert np.abs(conf - confidence_of(theirs, model.confidence)).max() < 1e-5
    # The text with no known n-gram scores the intercept alone.
    lone = items.index("𠀀𠀁")
    assert np.abs(ours[lone] - model.intercept).max() < 1e-6


@needs_sklearn
def test_macro_f1_equals_scikit_learn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(7)
    labels = np.array(["a", "b", "c", "d"])
    for _ in range(20):
        truth = labels[rng.integers(0, 3, 50)]  # "d" is sometimes only predicted
        pred = labels[rng.integers(0, 4, 50)]
        assert macro_f1(truth, pred) == pytest.approx(f1_score(truth, pred, average="macro", zero_division=0))
    assert metrics(["a", "b"], ["a", "a"], [0.9, 0.1], 0.5)["accuracy"] == 0.5


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=environ, capture_output=True, text=True, timeout=120
    )


def test_prediction_imports_neither_django_nor_scipy_nor_scikit_learn():
    code = """
import sys
from huying.dispatch.classifier import runtime
import huying.dispatch.classifier as classifier
p = classifier.classify("出租车司机拒载还绕路多收费", "司机说不顺路，后来绕了一大圈")
print(p.label, round(p.confidence, 3), p.model_version)
heavy = sorted(m for m in ("django", "scipy", "sklearn", "joblib") if m in sys.modules)
print("HEAVY", heavy)
"""
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout
    assert proc.stdout.split()[0] == "交通运输"


BLOCK_TRAINING_LIBS = """
import sys
for name in ("sklearn", "joblib", "scipy"):
    sys.modules[name] = None  # `import sklearn` now raises ImportError, as if it were not installed
"""


def test_without_scikit_learn_prediction_works_and_training_says_what_to_install(tmp_path):
    code = (
        BLOCK_TRAINING_LIBS
        + f"""
from huying.dispatch.classifier import MissingTrainingDependency, classify, train, metrics
print("LABEL", classify("出租车司机拒载还绕路多收费").label)
print("F1", metrics(["a", "b"], ["a", "b"], [1, 1], 0.5)["macro_f1"])
try:
    train({str(tmp_path)!r})
except MissingTrainingDependency as exc:
    assert isinstance(exc, ImportError) and isinstance(exc, ValueError)
    print("ERROR", exc)
"""
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    assert "LABEL 交通运输" in proc.stdout
    assert "F1 1.0" in proc.stdout
    assert "pip install 'huying[train]'" in proc.stdout


def test_model_file_is_plain_arrays_and_json():
    path = default_model_path()  # the runtime's choice: the shipped file
    assert path.suffix == ".npz"
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        meta = json.loads(zf.read("meta.json"))
    assert names == {"keys.npy", "idf.npy", "coef.npy", "intercept.npy", "meta.json"}
    assert meta["format"] == FORMAT and meta["ngram_range"] == [1, 2] and len(meta["labels"]) == 7
    arrays = np.load(path, allow_pickle=False)  # an ordinary .npz too
    assert arrays["coef"].shape == (7, len(arrays["keys"])) and arrays["coef"].dtype == np.float32
    assert path.with_suffix(".json").is_file() and path.with_suffix(".md").is_file()


def test_model_round_trips_and_refuses_pickles_and_old_files(tmp_path):
    model = get_model()
    copy = ClassifierModel.load(model.save(tmp_path / "model-copy.npz"))
    items = ["小区路灯坏了", ("医院挂号难", "专家号一号难求")]
    assert np.array_equal(copy.decision(items), model.decision(items))
    assert copy.digest() == model.digest() and copy.terms[:50] == model.terms[:50]

    # An object array would need unpickling: refused, not loaded.
    bad = tmp_path / "model-bad.npz"
    with zipfile.ZipFile(copy.save(tmp_path / "src.npz")) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            if name != "coef.npy":
                dst.writestr(name, src.read(name))
        with dst.open("coef.npy", "w") as fh:
            np.lib.format.write_array(fh, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ClassifierError, match="无法读取模型文件"):
        ClassifierModel.load(bad)

    old = tmp_path / "model-old.joblib"
    old.write_bytes(b"not read")
    with pytest.raises(ClassifierError, match="convert"):
        ClassifierModel.load(old)
    junk = tmp_path / "model-junk.npz"
    junk.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ClassifierError, match="无法读取模型文件"):
        ClassifierModel.load(junk)


@pytest.mark.skipif(
    importlib.util.find_spec("joblib") is None, reason="converting needs joblib (the train extra)"
)
def test_old_joblib_model_converts_to_the_same_model(tmp_path):
    import joblib

    from huying.dispatch.classifier.convert import convert

    model = get_model()
    old = tmp_path / "model-20260101-0123456789.joblib"
    joblib.dump(
        {
            "format": 2,
            "labels": model.labels,
            "terms": model.terms,
            "idf": model.idf,
            "coef": model.coef,
            "intercept": model.intercept,
            "scale": model.scale,
            "confidence": model.confidence,
            "threshold": model.threshold,
            "ngram_range": [1, 2],
            "views": ["whole", "title", "body"],
            "card": {"file": old.name},
        },
        old,
    )
    new = convert(old)
    assert new == old.with_suffix(".npz")
    converted = ClassifierModel.load(new)
    assert converted.version == old.stem and converted.digest() == model.digest()
    items = texts_to_check()[:40]
    assert np.array_equal(converted.decision(items), model.decision(items))
    card = json.loads(new.with_suffix(".json").read_text(encoding="utf-8"))
    assert card["file"] == new.name and card["converted"]["from"] == old.name
