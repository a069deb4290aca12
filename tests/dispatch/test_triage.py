"""Classification at intake and triage: the mapping, the auto/triage decision, the queue, corrections."""

import csv
import functools
import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from huying.core.errors import DomainError
from huying.core.models import AuditEntry
from huying.dispatch.classifier import LABELS, Prediction
from huying.dispatch.classifier.data import read_csv
from huying.dispatch.models import State, Subject, Transition, WorkOrder
from huying.dispatch.seed import dispatch_seed
from huying.dispatch.services import work_order_change_subject, work_orders_create_many
from huying.dispatch.triage import intake as step
from huying.dispatch.triage import selectors, services
from huying.dispatch.triage.models import Classification, ClassifierCorrection, Label, LabelRoute
from huying.people.models import RoleCode
from huying.people.services import membership_grant, user_create

from .conftest import PASSWORD, at

NOW = at(2026, 3, 2, 10, 0)


def pred(label="城乡建设", confidence=0.97, auto=True, second="交通运输"):
    rest = [lab for lab in LABELS if lab not in (label, second)]
    scores = {label: 0.8, second: 0.15, **{lab: 0.01 for lab in rest}}
    return Prediction(label=label, confidence=confidence, auto=auto, scores=scores)


@pytest.fixture
def stub(monkeypatch):
    """stub(p1, p2, …): the classifier answers these, in order; `calls` keeps what it was asked."""
    calls = []

    def _stub(*predictions):
        queue = list(predictions)

        def predict(texts):
            calls.append(list(texts))
            out = [queue.pop(0) if len(queue) > 1 else queue[0] for _t in texts]
            return out, "model-test"

        monkeypatch.setattr(step, "predict", predict)
        return calls

    return _stub


@pytest.fixture
def resident_report(report):
    """A resident's web report with no subject, which intake has the classifier read."""
    return functools.partial(report, subject="")


def route_of(label):
    return LabelRoute.objects.select_related("subject").get(label=label)


# --- mapping ---------------------------------------------------------------------------------------

def test_seed_maps_each_family_to_the_top_level_subject_of_its_name(world):
    routes = {r.label: r for r in LabelRoute.objects.select_related("subject")}
    assert set(routes) == set(LABELS) == set(Label.values)
    for label, r in routes.items():
        assert r.subject.name == label and r.subject.parent_id is None and r.subject.kind == "request"
        assert r.active and r.department_id is None
    assert routes["城乡建设"].subject.code == "Q01"


def test_mapping_edit_is_audited_and_used_at_intake(world, stub, resident_report):
    admin = world.users["dispatcher"]
    services.label_route_set("城乡建设", subject="Q0102", department=world.units["dept"], actor=admin)
    entry = AuditEntry.objects.filter(action="dispatch.label_route.changed").get()
    assert entry.old["subject"] == Subject.objects.get(code="Q01").pk
    assert entry.new == {"subject": Subject.objects.get(code="Q0102").pk, "department": world.units["dept"].pk,
                         "active": True}
    assert dispatch_seed() and route_of("城乡建设").subject.code == "Q0102"  # a re-run keeps the edit
    stub(pred("城乡建设", auto=True))
    order = resident_report()
    assert order.subject.code == "Q0102"
    assert order.state == State.DISPATCHED and order.lead_unit_id == world.units["dept"].pk
    assert order.routing["reason"] == step.ROUTE_REASON
    with pytest.raises(DomainError) as e:
        services.label_route_set("无此类", subject="Q01", actor=admin)
    assert e.value.field == "label"


def test_mapping_edited_in_the_admin_is_audited(world, django_user_model):
    su = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    c = Client()
    c.force_login(su)
    r = route_of("交通运输")
    url = reverse("admin:dispatch_labelroute_change", args=[r.pk])
    assert c.get(url).status_code == 200
    q0602 = Subject.objects.get(code="Q0602")
    resp = c.post(url, {"label": "交通运输", "subject": q0602.pk, "department": world.units["dept"].pk,
                        "active": "on"})
    assert resp.status_code == 302, resp.content.decode()[:500]
    r.refresh_from_db()
    assert r.subject_id == q0602.pk and r.department_id == world.units["dept"].pk
    entry = AuditEntry.objects.get(action="admin.object.changed")
    assert entry.new["subject"] == q0602.pk and entry.new["department"] == world.units["dept"].pk


# --- intake: auto or triage ----------------------------------------------------------------------------

def test_confident_report_without_subject_is_classified_and_dispatched(world, stub, resident_report):
    calls = stub(pred("城乡建设", confidence=0.97, auto=True))
    order = resident_report(title="路灯坏了", description="晚上一片漆黑")
    assert calls == [[("路灯坏了", "晚上一片漆黑")]]
    order = WorkOrder.objects.get(pk=order.pk)
    assert order.subject.code == "Q01"
    assert order.state == State.DISPATCHED and order.lead_unit_id is not None
    assert order.lead_unit_id == order.proposed_unit_id  # through the normal routing rules
    c = Classification.objects.get(order=order)
    assert (c.label, c.confidence, c.auto, c.needs_triage, c.model_version) == ("城乡建设", 0.97, True, False,
                                                                                "model-test")
    assert c.scores[0] == ["城乡建设", 0.8] and c.scores[1] == ["交通运输", 0.15] and len(c.scores) == 3
    assert c.at == NOW
    audit = AuditEntry.objects.get(action="dispatch.order.classified", target_id=str(order.pk))
    assert audit.data["label"] == "城乡建设" and audit.data["needs_triage"] is False
    step_ = Transition.objects.get(order=order, action="dispatched")
    assert step_.actor_id is None  # the system dispatched it
    assert selectors.triage_count(actor=world.users["operator"]) == 0


def test_unsure_report_stays_submitted_and_waits_for_triage(world, stub, resident_report):
    stub(pred("交通运输", confidence=0.55, auto=False))
    order = resident_report(title="公交车司机态度恶劣")
    order = WorkOrder.objects.get(pk=order.pk)
    assert order.state == State.SUBMITTED and order.lead_unit_id is None
    assert order.subject.code == route_of("交通运输").subject.code
    assert Classification.objects.get(order=order).needs_triage is True
    assert list(selectors.triage_queue(actor=world.users["operator"])) == [order]
    assert list(selectors.triage_queue(actor=world.users["dispatcher"])) == [order]
    assert not selectors.triage_queue(actor=world.users["comm_a"]).exists()  # a handler does not triage
    assert not selectors.triage_queue(actor=world.users["resident"]).exists()


def test_triage_queue_is_limited_to_the_territory_and_oldest_first(world, stub, resident_report):
    stub(pred(auto=False))
    first = resident_report(now=at(2026, 3, 2, 9, 0))
    second = resident_report(now=at(2026, 3, 2, 11, 0))
    elsewhere = resident_report(point=world.point("b"), now=at(2026, 3, 2, 8, 0))
    street_a = user_create(username="disp-a", password=PASSWORD, display_name="街道派单员", actor=None,
                           check_password=False)
    membership_grant(street_a, unit=world.units["street_a"], role_code=RoleCode.DISPATCHER, actor=None)
    assert list(selectors.triage_queue(actor=street_a)) == [first, second]
    assert list(selectors.triage_queue(actor=world.users["operator"])) == [elsewhere, first, second]


def test_a_mapping_switched_off_sends_even_a_sure_prediction_to_triage(world, stub, resident_report):
    LabelRoute.objects.filter(label="卫生计生").update(active=False)
    stub(pred("卫生计生", auto=True))
    order = resident_report(title="医院乱收费")
    assert order.state == State.SUBMITTED
    assert order.subject.name == "卫生计生"  # the shipped tree's class of that name
    assert Classification.objects.get(order=order).needs_triage is True


def test_explicit_no_auto_dispatch_is_kept(world, stub, resident_report):
    stub(pred(auto=True))
    order = resident_report(auto_dispatch=False)
    assert order.state == State.SUBMITTED
    c = Classification.objects.get(order=order)
    assert c.auto is True and c.needs_triage is False  # sure, so it waits on the board, not in triage


def test_a_subject_given_by_a_person_is_not_classified(world, stub, resident_report):
    calls = stub(pred())
    order = resident_report(subject="Q010101")
    assert calls == [] and not Classification.objects.filter(order=order).exists()
    assert order.subject.code == "Q010101"


def test_operators_and_patrols_must_still_choose_a_subject(world, stub, resident_report):
    calls = stub(pred())
    with pytest.raises(DomainError) as e:
        resident_report(channel="hotline", actor=world.users["operator"])
    assert e.value.field == "subject"
    assert calls == [] and WorkOrder.objects.count() == 0


def test_a_retry_of_a_classified_report_returns_the_same_order(world, stub, resident_report):
    stub(pred(auto=False))
    first = resident_report(idempotency_key="same")
    again = resident_report(idempotency_key="same")
    assert again.pk == first.pk and Classification.objects.count() == 1


def test_batch_classifies_once_for_all_orders_without_subject(world, stub):
    calls = stub(pred("城乡建设", auto=True), pred("环境保护", auto=False))
    lng, lat = world.point("a")
    base = dict(channel="api", request_type="complaint", lng=lng, lat=lat, description="详情")
    items = [{**base, "subject": "", "title": "一", "idempotency_key": "b1"},
             {**base, "subject": "Q010101", "title": "二", "idempotency_key": "b2"},
             {**base, "subject": "", "title": "三", "idempotency_key": "b3"}]
    orders = work_orders_create_many(items, actor=world.users["resident"], now=NOW)
    assert calls == [[("一", "详情"), ("三", "详情")]]
    states = [WorkOrder.objects.get(pk=o.pk).state for o in orders]
    assert states == [State.DISPATCHED, State.SUBMITTED, State.SUBMITTED]
    assert orders[0].subject.code == "Q01" and orders[2].subject.code == route_of("环境保护").subject.code
    assert Classification.objects.count() == 2
    assert list(selectors.triage_queue(actor=world.users["operator"])) == [orders[2]]


def test_the_shipped_model_dispatches_a_clear_message(world, resident_report):
    order = resident_report(title="工厂夜间排放废气", description="附近化工厂夜间偷排废气，气味刺鼻，环保部门请查处")
    c = Classification.objects.get(order=order)
    assert c.label == "环境保护" and c.auto and c.confidence >= 0.9
    assert c.model_version.startswith("model-")
    assert order.subject == route_of("环境保护").subject
    assert WorkOrder.objects.get(pk=order.pk).state == State.DISPATCHED


def test_no_model_means_the_resident_must_choose(world, resident_report, monkeypatch):
    def broken(texts):
        raise ValueError("没有找到分类模型")

    monkeypatch.setattr(step, "predict", broken)
    with pytest.raises(DomainError) as e:
        resident_report()
    assert e.value.code == "dispatch.subject_required" and e.value.field == "subject"
    assert WorkOrder.objects.count() == 0


# --- triage and corrections ----------------------------------------------------------------------------

def test_operator_corrects_the_label_and_dispatches(world, stub, resident_report):
    stub(pred("城乡建设", confidence=0.5, auto=False))
    order = resident_report(title="地铁站扶梯停运")
    op = world.users["operator"]
    done = services.triage_dispatch(order, actor=op, label="交通运输", version=order.version, now=NOW)
    assert done.state == State.DISPATCHED and done.subject.code == route_of("交通运输").subject.code
    assert done.lead_unit_id == done.proposed_unit_id
    c = Classification.objects.get(order=order)
    assert (c.needs_triage, c.final_label, c.outcome, c.triaged_by_id) == (False, "交通运输", "dispatched", op.pk)
    k = ClassifierCorrection.objects.get()
    assert (k.predicted, k.corrected, k.source, k.by_id) == ("城乡建设", "交通运输", "triage", op.pk)
    assert AuditEntry.objects.filter(action="dispatch.classifier.corrected").count() == 1
    assert AuditEntry.objects.filter(action="dispatch.triage.dispatched").count() == 1
    steps = list(Transition.objects.filter(order=order).values_list("action", flat=True).order_by("id"))
    assert steps == ["created", "subject_changed", "dispatched"]
    assert selectors.triage_count(actor=op) == 0
    with pytest.raises(DomainError) as e:  # settled: a second click finds nothing to do
        services.triage_dispatch(order, actor=op, label="交通运输", now=NOW)
    assert e.value.status == 409


def test_confirming_the_prediction_records_no_correction(world, stub, resident_report):
    stub(pred("城乡建设", auto=False))
    order = resident_report()
    services.triage_dispatch(order, actor=world.users["dispatcher"], label="城乡建设", now=NOW)
    assert ClassifierCorrection.objects.count() == 0
    assert Classification.objects.get(order=order).final_label == "城乡建设"


def test_triage_refusals(world, stub, resident_report):
    stub(pred("城乡建设", auto=False))
    order = resident_report()
    with pytest.raises(DomainError) as e:
        services.triage_dispatch(order, actor=world.users["comm_a"], label="城乡建设", now=NOW)
    assert e.value.status == 403
    with pytest.raises(DomainError) as e:
        services.triage_dispatch(order, actor=world.users["operator"], label="城乡建设", version=order.version + 5)
    assert e.value.status == 409
    with pytest.raises(DomainError) as e:
        services.triage_dispatch(order, actor=world.users["operator"], label="外星事务")
    assert e.value.field == "label"
    with pytest.raises(DomainError) as e:  # a subject of another family than the label chosen
        services.triage_dispatch(order, actor=world.users["operator"], label="城乡建设", subject="Q0601")
    assert e.value.code == "dispatch.triage_subject_mismatch"
    other = world.units["district"]
    with pytest.raises(DomainError) as e:  # another unit than proposed needs a reason
        services.triage_dispatch(order, actor=world.users["operator"], label="城乡建设", unit=other.pk)
    assert e.value.field == "reason"
    assert WorkOrder.objects.get(pk=order.pk).state == State.SUBMITTED
    assert ClassifierCorrection.objects.count() == 0
    done = services.triage_dispatch(order, actor=world.users["operator"], label="城乡建设", unit=other.pk,
                                    reason="区级统筹")
    assert done.lead_unit_id == other.pk


def test_reject_with_a_corrected_label(world, stub, resident_report):
    stub(pred("商贸旅游", auto=False))
    order = resident_report(title="咨询天气")
    with pytest.raises(DomainError) as e:
        services.triage_reject(order, actor=world.users["operator"], reason="", label="环境保护")
    assert e.value.field == "reason" and ClassifierCorrection.objects.count() == 0  # rolled back together
    done = services.triage_reject(order, actor=world.users["operator"], reason="非政府职责", label="环境保护")
    assert done.state == State.REJECTED
    assert Classification.objects.get(order=order).outcome == "rejected"
    assert ClassifierCorrection.objects.get().corrected == "环境保护"


def test_a_later_subject_change_into_another_family_is_a_correction(world, stub, resident_report):
    stub(pred("城乡建设", auto=True))
    order = resident_report()
    d = world.users["dispatcher"]
    order = work_order_change_subject(order, actor=d, subject="Q010102", reason="细分", now=NOW)
    assert ClassifierCorrection.objects.count() == 0  # still 城乡建设
    order = work_order_change_subject(order, actor=d, subject="Q060101", reason="实为交通", now=NOW)
    k = ClassifierCorrection.objects.get()
    assert (k.predicted, k.corrected, k.source, k.by_id) == ("城乡建设", "交通运输", "subject_change", d.pk)
    order = work_order_change_subject(order, actor=d, subject="E0102", reason="城管事件", now=NOW)
    assert ClassifierCorrection.objects.count() == 1  # no family for that subject: nothing to say
    assert list(selectors.corrections_for_training()) == [(order.title, order.description, "交通运输")]
    work_order_change_subject(order, actor=d, subject="Q0101", reason="改回", now=NOW)
    assert ClassifierCorrection.objects.count() == 2
    assert list(selectors.corrections_for_training()) == []  # back to the prediction: nothing to learn


def test_corrections_export_round_trips_into_training_rows(world, stub, resident_report, tmp_path, capsys):
    stub(pred("城乡建设", auto=False))
    a = resident_report(title="地铁站扶梯停运", description="B 口扶梯\n坏了，\"急\"")
    b = resident_report(title="幼儿园收费", description="")
    c = resident_report(title="确认的", description="不更正")
    op = world.users["operator"]
    services.triage_dispatch(a, actor=op, label="交通运输")
    services.triage_dispatch(b, actor=op, label="教育文体")
    services.triage_dispatch(c, actor=op, label="城乡建设")
    out = tmp_path / "corrections.csv"
    call_command("classifier_corrections", out=str(out))
    assert "corrections: 2" in capsys.readouterr().err
    rows = read_csv(str(out), ["title", "body", "label"])  # what `classifier train --extra` reads
    got = sorted((r["title"], r["body"], r["label"]) for r in rows)
    assert got == sorted([(a.title, a.description, "交通运输"), (b.title, "", "教育文体")])
    with open(out, encoding="utf-8", newline="") as f:
        assert next(csv.reader(f)) == ["title", "body", "label"]


def test_cli_name():
    from huying.cli import ALIASES

    assert ALIASES["classifier-corrections"] == "classifier_corrections"


# --- pages and API ---------------------------------------------------------------------------------------

def login(user):
    c = Client()
    c.force_login(user)
    return c


def test_queue_page_shows_the_prediction_and_masks_the_phone(world, stub, resident_report):
    stub(pred("城乡建设", confidence=0.61, auto=False, second="环境保护"))
    order = resident_report(title="楼道堆放杂物")
    assert login(world.users["resident"]).get(reverse("dispatch:triage:queue")).status_code == 403
    assert login(world.users["comm_a"]).get(reverse("dispatch:triage:queue")).status_code == 403
    op = login(world.users["operator"])
    html = op.get(reverse("dispatch:triage:queue")).content.decode()
    card = html[html.index(f'data-code="{order.code}"'):]
    assert "楼道堆放杂物" in card and "判对概率 61%" in card and "环境保护 15%" in card and "城乡建设 80%" in card
    assert "138****5678" in card and "13812345678" not in html
    assert op.get(reverse("dispatch:triage:count")).content.decode() == "1"
    board = op.get(reverse("dispatch:board")).content.decode()
    assert 'id="nav-triage"' in board and reverse("dispatch:triage:count") in board
    detail = op.get(reverse("dispatch:detail", args=[order.pk])).content.decode()
    assert 'id="order-classification"' in detail and "待人工分拨" in detail


def test_queue_page_act_over_htmx(world, stub, resident_report):
    stub(pred("城乡建设", auto=False))
    order = resident_report()
    op = login(world.users["operator"])
    url = reverse("dispatch:triage:act", args=[order.pk, "dispatch"])
    bad = op.post(url, {"label": "城乡建设", "unit": world.units["district"].pk, "reason": "",
                        "version": order.version}, headers={"HX-Request": "true"})
    assert bad.status_code == 200 and "请填写理由" in bad.content.decode()
    assert f'data-code="{order.code}"' in bad.content.decode()  # the card again, with the message
    ok = op.post(url, {"label": "环境保护", "version": order.version}, headers={"HX-Request": "true"})
    html = ok.content.decode()
    assert "triage-done" in html and "已派至" in html and 'id="triage-total"' in html
    assert WorkOrder.objects.get(pk=order.pk).state == State.DISPATCHED
    assert ClassifierCorrection.objects.get().corrected == "环境保护"


def test_report_form_may_leave_the_subject_out(client, world, stub):
    stub(pred(auto=False))
    lng, lat = world.point("a")
    r = client.post(reverse("dispatch:report"), {
        "idempotency_key": "form-1", "request_type": "complaint", "subject_root": "", "subject": "",
        "title": "小区门口路灯坏了三天", "description": "", "lng": lng, "lat": lat,
        "reporter_phone": "13900001111"})
    assert r.status_code == 302, r.content.decode()[:2000]
    order = WorkOrder.objects.get()
    assert Classification.objects.get(order=order).needs_triage
    assert 'id="subject-optional"' in client.get(reverse("dispatch:report")).content.decode()


def api(client, method, path, body=None, **headers):
    url = f"/api/v1/dispatch{path}"
    if method == "get":
        return client.get(url)
    return client.post(url, data=json.dumps(body or {}), content_type="application/json", headers=headers)


def test_api_create_without_subject_then_triage(world, stub):
    stub(pred("城乡建设", confidence=0.4, auto=False))
    lng, lat = world.point("a")
    r = api(login(world.users["resident"]), "post", "/orders",
            {"title": "路面塌陷", "description": "有车陷进去", "lng": lng, "lat": lat, "reporter_phone": "13812345678"},
            **{"Idempotency-Key": "api-1"})
    assert r.status_code == 201, r.content
    code = r.json()["code"]
    assert r.json()["state"] == "submitted" and r.json()["subject"] == "Q01"
    assert api(login(world.users["resident"]), "get", "/triage").status_code == 403
    op = login(world.users["operator"])
    listed = api(op, "get", "/triage").json()
    assert listed["count"] == 1
    row = listed["results"][0]
    assert row["code"] == code and row["label"] == "城乡建设" and row["reporter_phone"] == "138****5678"
    assert row["runners_up"][0] == ["交通运输", 0.15]
    stale = api(op, "post", f"/orders/{code}/triage/dispatch", {"version": row["version"] + 1, "label": "交通运输"})
    assert stale.status_code == 409
    done = api(op, "post", f"/orders/{code}/triage/dispatch", {"version": row["version"], "label": "交通运输"})
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "dispatched" and done.json()["subject"] == route_of("交通运输").subject.code
    assert api(op, "get", "/triage").json()["count"] == 0
    assert ClassifierCorrection.objects.get().corrected == "交通运输"
