"""The serving process's warm-up: after it, the first report loads neither the classifier nor the locator."""

import logging
import threading

import pytest

from huying.dispatch.classifier import runtime
from huying.dispatch.classifier.model import ClassifierModel
from huying.territory import locator
from huying.web import gunicorn_conf, warmup
from huying.web.management.commands.serve import gunicorn_args
from tests.people.conftest import territory  # noqa: F401  (the small test city: five unified grids)


@pytest.fixture
def cold():
    runtime.reset_model()
    locator.invalidate()
    yield
    runtime.reset_model()
    locator.invalidate()


def refuse(what):
    def _refuse(*args, **kwargs):
        raise AssertionError(f"{what} was loaded again after the warm-up")

    return _refuse


@pytest.mark.django_db
def test_warm_up_loads_the_classifier_and_the_locator_once(territory, cold, monkeypatch):  # noqa: F811
    seconds = warmup.warm_up()
    assert set(seconds) == {"urls", "classifier", "locator", "reference"}
    # From here on neither may be loaded again: the first report finds both ready.
    monkeypatch.setattr(ClassifierModel, "load", classmethod(refuse("the classifier")))
    monkeypatch.setattr(locator, "_build_grid_index", refuse("the grid index"))
    monkeypatch.setattr(locator, "_build_division_index", refuse("the division index"))
    assert runtime.classify("小区门口路灯不亮").label
    assert locator.locate_point(113.268, 23.122).grid is not None  # inside the test grids' triangle
    assert locator.locate_address("越秀区").found


@pytest.mark.django_db
def test_a_part_that_fails_is_logged_and_the_rest_still_warm(territory, cold, monkeypatch, caplog):  # noqa: F811
    monkeypatch.setattr(runtime, "default_model_path", refuse("no model shipped: the classifier"))
    with caplog.at_level(logging.WARNING, logger="huying.web.warmup"):
        warmup.warm_up()
    assert "warm-up of classifier failed" in caplog.text
    monkeypatch.setattr(locator, "_build_grid_index", refuse("the grid index"))
    assert locator.index_info()["grids"] == 5


def test_each_gunicorn_worker_warms_up_in_the_background(monkeypatch):
    ran = []
    monkeypatch.setattr(warmup, "warm_up", lambda: ran.append("warmed") or {})
    gunicorn_conf.post_worker_init(worker=None)
    threads = [t for t in threading.enumerate() if t.name == "huying-warm-up"]
    for t in threads:
        t.join(timeout=10)
    assert ran == ["warmed"]
    args = gunicorn_args("127.0.0.1", 8000, 2, 4)
    assert args[args.index("--config") + 1] == "python:huying.web.gunicorn_conf"
