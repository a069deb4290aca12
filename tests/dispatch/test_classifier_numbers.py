"""The classifier's two numbers on the order page and the triage card: both in percent (0–100), each
named for what it is — the calibrated chance the prediction is right, and the classes' softmax shares."""

import pytest
from django.test import Client
from django.urls import reverse

from huying.dispatch.classifier import LABELS, Prediction
from huying.dispatch.services import work_order_create
from huying.dispatch.triage import intake as step

from .conftest import at


@pytest.fixture
def unsure_order(world, monkeypatch):
    rest = [lab for lab in LABELS if lab not in ("城乡建设", "环境保护")]
    scores = {"城乡建设": 0.7234, "环境保护": 0.2011, **{lab: 0.0151 for lab in rest}}
    pred = Prediction(label="城乡建设", confidence=0.587, auto=False, scores=scores)
    monkeypatch.setattr(step, "predict", lambda texts: ([pred for _t in texts], "model-test"))
    return work_order_create(channel="web", subject="", request_type="complaint", title="楼道堆放杂物",
                             description="楼道里堆满杂物", lng=world.point("a")[0], lat=world.point("a")[1],
                             actor=world.users["resident"], idempotency_key="n-1", now=at(2026, 3, 2, 10, 0))


def _numbers(html: str) -> str:
    start = html.index('class="classifier-numbers"')
    return html[start:html.index("</span>\n</span>", start)]


@pytest.mark.parametrize("page", ["detail", "triage"])
def test_both_numbers_are_percent_with_their_meaning(world, unsure_order, page):
    op = Client()
    op.force_login(world.users["operator"])
    url = (reverse("dispatch:detail", args=[unsure_order.pk]) if page == "detail"
           else reverse("dispatch:triage:queue"))
    html = op.get(url).content.decode()
    part = _numbers(html)
    assert "判对概率 59%" in part and 'data-percent="59"' in part
    # The top class comes first with its own share, on the same 0–100 scale as the runners-up.
    assert "类别得分" in part and "城乡建设 72%" in part and "环境保护 20%" in part
    assert part.index("城乡建设 72%") < part.index("环境保护 20%")
    assert "七类合计 100%" in part and "不等于判对概率" in part
    assert "0.59" not in part and "0.20" not in part and "置信度" not in part
