"""Automatic classification of residents' messages into department families (issue 5, parts 1, 2, 6).

    from huying.dispatch.classifier import classify
    p = classify("小区路灯坏了", "晚上一片漆黑……")
    p.label, p.confidence, p.auto, p.scores

See docs/classifier.md for how the model was chosen, trained and measured.

A plain package: no Django. Prediction needs numpy only; training needs scikit-learn, the `train`
extra (pip install 'huying[train]'), imported only when a model is fitted.
"""

from .data import LABELS, ClassifierError, Dataset, MissingTrainingDependency, read_data_dir, read_messages
from .model import ClassifierModel, Prediction
from .runtime import classify, classify_many, default_model_path, get_model, reset_model
from .training import cross_validate, metrics, save_model, train

__all__ = [
    "LABELS",
    "ClassifierError",
    "ClassifierModel",
    "Dataset",
    "MissingTrainingDependency",
    "Prediction",
    "classify",
    "classify_many",
    "cross_validate",
    "default_model_path",
    "get_model",
    "metrics",
    "read_data_dir",
    "read_messages",
    "reset_model",
    "save_model",
    "train",
]
