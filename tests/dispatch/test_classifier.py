"""The message classifier: shipped model, commands, training, and refusals of bad input.

Only the small fixture sample is read (56 messages drawn from the citizen-messages data, bodies cut
to 300 characters); the full data never is. The sample was part of the shipped model's training
data, so the accuracy asserted here is a loose floor, not the honest cross-validated figure.
Training and the comparisons with scikit-learn need the `train` extra (skipped without it);
test_classifier_numpy.py checks prediction without scikit-learn.
"""

import csv
import importlib.util
import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from huying.dispatch.classifier import (
    LABELS,
    ClassifierError,
    ClassifierModel,
    classify,
    classify_many,
    default_model_path,
    get_model,
    read_data_dir,
    read_messages,
    reset_model,
    train,
)
from huying.dispatch.classifier.data import Message, training_rows
from huying.dispatch.classifier.model import choose_threshold
from huying.dispatch.classifier.runtime import MODELS_DIR

needs_sklearn = pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None, reason="training needs scikit-learn: pip install 'huying[train]'"
)

FIXTURE = Path(__file__).parent / "fixtures" / "messages_sample.csv"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sample():
    return read_messages(FIXTURE)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def figures(text: str) -> dict[str, float]:
    out = {}
    for line in text.strip().splitlines():
        name, _, value = line.partition(": ")
        out[name] = float(value)
    return out


def test_fixture_is_small_and_covers_every_label(sample):
    assert len(sample) <= 60
    assert {m.label for m in sample} == set(LABELS)


def test_shipped_model_classifies_fixture_messages(sample):
    reset_model()
    model = get_model()
    assert set(model.labels) == set(LABELS)
    preds = classify_many([(m.title, m.body) for m in sample])
    accuracy = np.mean([p.label == m.label for p, m in zip(preds, sample, strict=True)])
    assert accuracy >= 0.8
    for p in preds:
        assert 0.0 <= p.confidence <= 1.0
        assert p.auto == (p.confidence >= model.threshold)
        assert set(p.scores) == set(LABELS)
        assert sum(p.scores.values()) == pytest.approx(1.0, abs=1e-4)
        assert max(p.scores, key=p.scores.get) == p.label
    # Some are sure enough to go out automatically, and the threshold is a real probability.
    assert 0.5 < model.threshold < 1.0
    assert any(p.auto for p in preds)


def test_classify_one_message_title_only_and_with_body():
    p = classify(
        "小学食堂饭菜质量差，孩子吃不饱", "学校食堂的饭菜每天都是冷的，家长多次向学校反映无果，请教育局调查。"
    )
    assert p.label == "教育文体"
    assert classify("出租车司机拒载还绕路多收费").label == "交通运输"
    same = classify_many(["小学食堂饭菜质量差，孩子吃不饱"])[0]
    assert same.label == classify("小学食堂饭菜质量差，孩子吃不饱").label


@pytest.mark.parametrize("title,body", [("", ""), ("   ", "\n")])
def test_empty_text_is_refused(title, body):
    with pytest.raises(ClassifierError):
        classify(title, body)


def test_eval_command_prints_one_figure_a_line():
    out = run("classifier", "eval", "--data", str(FIXTURE))
    lines = out.strip().splitlines()
    assert [line.split(": ")[0] for line in lines[:4]] == [
        "macro_f1",
        "accuracy",
        "auto_share",
        "auto_precision",
    ]
    f = figures(out)
    assert f["macro_f1"] >= 0.8 and f["accuracy"] >= 0.8
    assert 0.0 < f["auto_share"] <= 1.0 and 0.8 <= f["auto_precision"] <= 1.0
    assert f["messages"] == 56


def test_classify_command_prints_label_confidence_decision():
    out = run("classify", "小区垃圾堆积发臭，环卫工人多日未清运")
    lines = dict(line.split(": ", 1) for line in out.strip().splitlines())
    assert lines["label"] in LABELS
    assert 0.0 <= float(lines["confidence"]) <= 1.0
    assert lines["decision"] in ("auto", "triage")
    payload = json.loads(run("classify", "医院挂号难", "--body", "三甲医院专家号一号难求", "--json"))
    assert payload["label"] == "卫生计生" and set(payload["scores"]) == set(LABELS)


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture
def tiny_data(tmp_path, sample):
    data = tmp_path / "data"
    data.mkdir()
    write_csv(
        data / "messages.csv",
        ["id", "title", "body", "label"],
        [[m.id, m.title, m.body, m.label] for m in sample],
    )
    write_csv(data / "titles.csv", ["title", "label"], [[m.title, m.label] for m in sample])
    return data


@needs_sklearn
def test_train_command_writes_loadable_model_and_card(tiny_data, tmp_path, sample):
    out_dir = tmp_path / "models"
    out = run(
        "classifier", "train", "--data", str(tiny_data), "--out", str(out_dir), "--folds", "3", "--jobs", "1"
    )
    f = dict(line.split(": ", 1) for line in out.strip().splitlines())
    path = Path(f["model"])
    assert path.parent == out_dir and path.name.startswith("model-") and path.suffix == ".npz"
    for key in ("cv_macro_f1", "cv_accuracy", "cv_auto_share", "threshold"):
        assert key in f
    card = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert card["data"]["files"] == {"messages.csv": 56, "titles.csv": 56}
    assert card["threshold"] == pytest.approx(float(f["threshold"]), abs=1e-4)
    assert "scikit-learn" in card["versions"] and card["created"]
    assert card["cv"]["folds"] == 3 and len(card["cv"]["per_fold"]) == 3
    assert path.with_suffix(".md").read_text(encoding="utf-8").startswith("# Model card")
    model = ClassifierModel.load(path)
    assert model.card["file"] == path.name
    preds = model.predict([f"{m.title}。{m.body}" for m in sample])
    # Trained on these very messages: it must at least reproduce most of them.
    assert np.mean([p.label == m.label for p, m in zip(preds, sample, strict=True)]) >= 0.9
    eval_out = run("classifier", "eval", "--data", str(FIXTURE), "--model", str(path))
    assert set(figures(eval_out)) >= {"macro_f1", "accuracy", "auto_share", "auto_precision"}


@needs_sklearn
def test_operator_corrections_reach_the_next_training_run(tiny_data):
    data = read_data_dir(tiny_data)
    marker = "鸭脖子噪音扰民"
    before = train(data, folds=2, nested=False).predict([marker])[0].label
    target = "商贸旅游" if before != "商贸旅游" else "环境保护"
    extra = [(f"{marker}{i}", f"{marker}严重", target) for i in range(6)]
    after = train(data, extra_rows=extra, folds=2, nested=False)
    assert after.predict([marker])[0].label == target
    assert after.card["data"]["extra_rows"] == 6


def test_training_side_drops_forms_of_held_out_messages():
    held = Message("9", "路灯 不亮", "晚上\n一片漆黑", "城乡建设")
    train_msgs = [Message("1", "公交改线", "不方便", "交通运输")]
    rows = training_rows(
        train_msgs,
        titles=[("路灯不亮", "城乡建设"), ("学校收费", "教育文体")],
        bodies=[("晚上 一片漆黑", "城乡建设"), ("医院排队", "卫生计生")],
        extra_rows=[("路灯不亮", "", "城乡建设"), ("新的更正", "", "环境保护")],
        held_out=[held],
    )
    assert rows == [
        ("公交改线", "不方便", "交通运输"),
        ("学校收费", "", "教育文体"),
        ("", "医院排队", "卫生计生"),
        ("新的更正", "", "环境保护"),
    ]


def test_threshold_keeps_precision_at_target():
    conf = np.array([0.99, 0.98, 0.97, 0.96, 0.95, 0.9, 0.8])
    right = np.array([1, 1, 1, 1, 0, 1, 0], dtype=bool)
    assert choose_threshold(conf, right, 1.0) == 0.96
    assert choose_threshold(conf, right, 0.8) == 0.9
    assert choose_threshold(conf[4:5], right[4:5], 0.98) > 1.0  # nothing good enough: nothing automatic


@pytest.mark.parametrize(
    "args",
    [
        ["classifier", "eval", "--data", "/nonexistent/messages.csv"],
        ["classifier", "train", "--data", "/nonexistent-dir"],
        ["classify", "   "],
    ],
)
def test_bad_input_is_a_clear_error_with_exit_code_2(args):
    with pytest.raises(CommandError) as err:
        run(*args)
    assert err.value.returncode == 2
    assert str(err.value)


def test_missing_columns_are_named(tmp_path):
    bad = write_csv(tmp_path / "bad.csv", ["id", "title", "label"], [["1", "路灯不亮", "城乡建设"]])
    with pytest.raises(CommandError) as err:
        run("classifier", "eval", "--data", str(bad))
    assert err.value.returncode == 2 and "body" in str(err.value)


def test_command_line_exit_code_and_message():
    proc = subprocess.run(
        [sys.executable, "-m", "huying.cli", "classify", ""],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "留言内容为空" in proc.stderr


@needs_sklearn
def test_fast_features_equal_scikit_learn_tfidf(sample):
    from huying.dispatch.classifier.training import sklearn_vectorizer

    model = get_model()
    texts = [f"{m.title}。{m.body}" for m in sample] + ["A  B\n\nc\td", "x", "未见过的字𠀀", "İstanbul ΑΣ"]
    ours, theirs = model.features(texts), sklearn_vectorizer(model).transform(texts)
    assert ours.nnz == theirs.nnz
    assert abs(ours.to_scipy() - theirs).max() < 1e-6
    assert np.abs(ours.toarray()[:5] - theirs[:5].toarray()).max() < 1e-6


@needs_sklearn
def test_message_is_read_whole_and_as_title_and_body(sample):
    """Decision = mean of the whole text's, the title's and the body's; a lone text is read whole."""
    from huying.dispatch.classifier.training import sklearn_vectorizer

    model = get_model()
    vec, weights = sklearn_vectorizer(model), model.coef.T

    def decision(texts):
        return np.asarray(vec.transform(texts) @ weights) + model.intercept

    pairs = [(m.title, m.body) for m in sample[:20]] + [("路灯 不亮  ", "  晚上\n\n一片漆黑")]
    whole = [f"{t.strip()}。{b.strip()}" for t, b in pairs]
    expected = (
        decision(whole) + decision([t.strip() for t, _ in pairs]) + decision([b.strip() for _, b in pairs])
    ) / 3
    assert np.abs(model.decision(pairs) - expected).max() < 1e-5
    # The same message given as one text in join_text's form is read the same way.
    assert np.abs(model.decision(whole) - expected).max() < 1e-5
    # A title alone, or a text with no 。 between two parts, is one document.
    lone = ["出租车司机拒载还绕路多收费", "医院挂号难。", "。学校收费"]
    assert np.abs(model.decision(lone) - decision(lone)).max() < 1e-5
    assert np.abs(model.decision([("出租车拒载", "")]) - decision(["出租车拒载"])).max() < 1e-5
    # Mixed batches give each item the same answer as on its own.
    mixed = model.decision([pairs[0], lone[0], pairs[1]])
    assert np.abs(mixed - np.vstack([expected[0], decision(lone[:1])[0], expected[1]])).max() < 1e-5


def test_predictions_name_the_model_that_made_them(sample):
    reset_model()
    path = default_model_path()
    preds = classify_many([(m.title, m.body) for m in sample[:3]])
    assert {p.model_version for p in preds} == {path.stem}
    assert classify("医院挂号难").model_version == get_model().version == path.stem
    assert path.stem.startswith("model-")


def test_only_one_model_is_shipped():
    shipped = sorted(p.name for p in MODELS_DIR.iterdir())
    models = [n for n in shipped if n.endswith(".npz")]
    assert len(models) == 1
    assert not [n for n in shipped if n.endswith(".joblib")]  # the old pickled format is not shipped
    assert MODELS_DIR.joinpath(models[0]).stat().st_size < 5 * 1024 * 1024
