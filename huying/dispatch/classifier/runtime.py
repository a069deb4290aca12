"""The shipped model, loaded once per process on first use, and the classify calls built on it."""

import os
import threading
from collections.abc import Iterable
from pathlib import Path

from .data import ClassifierError
from .model import SUFFIX, ClassifierModel, Prediction

MODELS_DIR = Path(__file__).resolve().parent / "models"
# Point HUYING_CLASSIFIER_MODEL at a model .npz file to use a model trained elsewhere.
ENV_VAR = "HUYING_CLASSIFIER_MODEL"

_lock = threading.Lock()
_model: ClassifierModel | None = None


def default_model_path() -> Path:
    """HUYING_CLASSIFIER_MODEL, else the newest model-*.npz shipped in classifier/models/."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    # Names are model-YYYYMMDD-<hash>; the date sorts them, the hash only breaks ties.
    found = sorted(MODELS_DIR.glob(f"model-*{SUFFIX}"))
    if not found:
        raise ClassifierError(
            f"没有找到分类模型：{MODELS_DIR}/model-*{SUFFIX}（先运行 huying classifier train）"
        )
    return found[-1]


def get_model() -> ClassifierModel:
    """The process-wide model; the first caller loads it, concurrent callers wait for that load."""
    global _model
    model = _model
    if model is None:
        with _lock:
            if _model is None:
                _model = ClassifierModel.load(default_model_path())
            model = _model
    return model


def reset_model() -> None:
    """Forget the loaded model (after training a new one, or in tests)."""
    global _model
    with _lock:
        _model = None


def classify(title: str, body: str = "") -> Prediction:
    """Department family of one message, its calibrated confidence, and whether to dispatch it automatically."""
    return classify_many([(title, body)])[0]


def classify_many(texts: Iterable[str | tuple[str, str]]) -> list[Prediction]:
    """Classify many messages at once (much faster than one by one); items are text or (title, body).

    Each Prediction carries `model_version` (the model file's name without suffix).
    """
    items: list[str | tuple[str, str]] = []
    for item in texts:
        if isinstance(item, str):
            items.append(item.strip())
        else:
            title, body = item
            items.append(((title or "").strip(), (body or "").strip()))
    for item in items:
        if not (item if isinstance(item, str) else item[0] or item[1]):
            raise ClassifierError("留言内容为空，无法分类")
    return get_model().predict(items)
