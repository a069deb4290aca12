"""拆分: one order split into child orders for several units; the parent resolves when all are done."""

from datetime import timedelta

import pytest

from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.dispatch.models import Assignment, DeadlineState, State, Transition, WorkOrder
from huying.dispatch.services import (
    work_order_accept,
    work_order_callback,
    work_order_dispatch,
    work_order_reject,
    work_order_resolve,
    work_order_return,
    work_order_split,
)

from .conftest import at

T0 = at(2026, 3, 2, 10, 0)
T1 = T0 + timedelta(hours=1)


def parts_for(world, *keys):
    return [{"unit": world.units[k], "title": f"分项-{k}", "description": f"由{k}处理"} for k in keys]


def close(world, child, unit_user, *, now):
    """The child's unit accepts and resolves it; the operator's satisfied callback closes it."""
    u = world.users
    work_order_accept(child, actor=u[unit_user], now=now)
    work_order_resolve(child, actor=u[unit_user], result=f"{child.title}已处理", now=now)
    return work_order_callback(child, actor=u["operator"], satisfaction="satisfied", now=now)


@pytest.fixture
def split3(world, report):
    parent = work_order_dispatch(report(), actor=world.users["dispatcher"], unit=world.units["community_a"],
                                 reason="社区先行", now=T0)
    children = work_order_split(parent, actor=world.users["dispatcher"],
                                parts=parts_for(world, "community_a", "street_a", "dept"),
                                reason="涉及多个部门", version=parent.version, now=T1)
    parent.refresh_from_db()
    return parent, children


def test_split_into_three_dispatches_each_child_with_its_own_clocks(world, split3):
    parent, children = split3
    assert [c.title for c in children] == ["分项-community_a", "分项-street_a", "分项-dept"]
    units = [world.units[k].pk for k in ("community_a", "street_a", "dept")]
    for child, unit_id in zip(children, units, strict=True):
        child.refresh_from_db()
        assert (child.parent_id, child.state, child.lead_unit_id) == (parent.pk, State.DISPATCHED, unit_id)
        assert child.dispatched_at == T1 and child.resolve_due > T1 and child.response_due > T1
        assert (child.subject_id, child.area_code, child.reporter_phone) == (
            parent.subject_id, parent.area_code, parent.reporter_phone)
        assert child.code != parent.code
        a = Assignment.objects.get(order=child)
        assert (a.unit_id, a.outcome, a.resolve_due) == (unit_id, Assignment.Outcome.ACTIVE, child.resolve_due)
        assert [t.action for t in Transition.objects.filter(order=child)] == ["created", "dispatched"]
    assert set(parent.children.values_list("pk", flat=True)) == {c.pk for c in children}
    # The parent waits in its state with its clocks stopped; its split is on the timeline and in the audit.
    assert parent.state == State.DISPATCHED
    assert parent.resolve_due is None and parent.deadline_state == DeadlineState.NONE
    assert Assignment.objects.get(order=parent).outcome == Assignment.Outcome.CANCELLED
    step = Transition.objects.filter(order=parent).last()
    assert (step.action, step.from_state, step.to_state) == ("split", "dispatched", "dispatched")
    assert [c["code"] for c in step.data["children"]] == [c.code for c in children]
    assert [a.action for a in audit_trail(parent)][-1] == "dispatch.order.split"


@pytest.mark.parametrize("case", ["one", "eleven", "no_title", "bad_unit", "no_reason", "stale", "resident",
                                  "closed", "nested", "twice"])
def test_split_refusals_store_nothing(world, report, case):
    u = world.users
    order = report()
    kw = dict(actor=u["dispatcher"], parts=parts_for(world, "street_a", "dept"), reason="多部门", now=T0)
    expected = {"one": "dispatch.split_count", "eleven": "dispatch.split_count", "no_title": "dispatch.required",
                "bad_unit": "dispatch.unknown_unit", "no_reason": "dispatch.required", "stale": "dispatch.stale",
                "resident": "dispatch.forbidden", "closed": "dispatch.split_state", "nested": "dispatch.split_nested",
                "twice": "dispatch.split_twice"}[case]
    if case == "one":
        kw["parts"] = parts_for(world, "dept")
    elif case == "eleven":
        kw["parts"] = parts_for(world, *(["dept", "street_a"] * 5 + ["district"]))
    elif case == "no_title":
        kw["parts"][1]["title"] = " "
    elif case == "bad_unit":
        kw["parts"][0]["unit"] = 987654
    elif case == "no_reason":
        kw["reason"] = ""
    elif case == "stale":
        kw["version"] = 9
    elif case == "resident":
        kw["actor"] = u["resident"]
    elif case == "closed":
        work_order_reject(order, actor=u["operator"], reason="非政府职责", now=T0)
    elif case in ("nested", "twice"):
        children = work_order_split(order, **{**kw, "parts": parts_for(world, "street_a", "dept")})
        if case == "nested":
            order = children[0]
    before = (WorkOrder.objects.count(), Transition.objects.count(), Assignment.objects.count())
    order.refresh_from_db()
    version = order.version
    with pytest.raises(DomainError) as exc:
        work_order_split(order, **kw)
    assert exc.value.code == expected and exc.value.message
    assert (WorkOrder.objects.count(), Transition.objects.count(), Assignment.objects.count()) == before
    order.refresh_from_db()
    assert order.version == version


def test_parent_refuses_moving_while_children_are_open(world, split3):
    u = world.users
    parent, children = split3
    for call in (lambda: work_order_accept(parent, actor=u["comm_a"], now=T1),
                 lambda: work_order_callback(parent, actor=u["operator"], satisfaction="satisfied", now=T1),
                 lambda: work_order_dispatch(parent, actor=u["dispatcher"], unit=world.units["dept"],
                                             reason="改派", now=T1)):
        with pytest.raises(DomainError) as exc:
            call()
        assert exc.value.code == "dispatch.split_children_open" and exc.value.status == 409
        assert children[0].code in exc.value.message
    parent.refresh_from_db()
    assert parent.state == State.DISPATCHED


def test_closing_the_last_child_resolves_the_parent_for_its_callback(world, split3):
    u = world.users
    parent, (c1, c2, c3) = split3
    t = T1 + timedelta(hours=2)
    close(world, c1, "comm_a", now=t)
    close(world, c3, "dept", now=t)
    parent.refresh_from_db()
    assert parent.state == State.DISPATCHED  # one child still open
    last = close(world, c2, "street_a", now=t + timedelta(minutes=5))
    assert last.state == State.CLOSED
    parent.refresh_from_db()
    assert parent.state == State.RESOLVED and parent.resolved_at == t + timedelta(minutes=5)
    assert c1.code in parent.resolution and "分项-street_a已处理" in parent.resolution
    step = Transition.objects.filter(order=parent).last()
    assert (step.action, step.from_state, step.to_state, step.data["last"]) == (
        "split_resolved", "dispatched", "resolved", c2.code)
    assert [a.action for a in audit_trail(parent)][-1] == "dispatch.order.split_resolved"
    # The resident's one callback happens on the parent, and closes it.
    closed = work_order_callback(parent, actor=u["operator"], satisfaction="satisfied", now=t + timedelta(hours=1))
    assert closed.state == State.CLOSED


def test_a_rejected_child_counts_as_done(world, report):
    u = world.users
    parent = report()
    c1, c2 = work_order_split(parent, actor=u["dispatcher"], parts=parts_for(world, "street_a", "dept"),
                              reason="多部门", now=T0)
    work_order_return(c2, actor=u["dept"], reason="非本部门职责", legal_basis="三定方案", now=T1)
    work_order_reject(c2, actor=u["operator"], reason="不属政府职责", now=T1)
    parent.refresh_from_db()
    assert parent.state == State.SUBMITTED
    close(world, c1, "street_a", now=T1)
    parent.refresh_from_db()
    assert parent.state == State.RESOLVED
    assert Transition.objects.filter(order=parent).last().from_state == "submitted"


# --- the page hook -------------------------------------------------------------------------------

def test_detail_page_split_form_for_dispatchers(client, world, report):
    from django.urls import reverse

    order = report()
    client.force_login(world.users["dispatcher"])
    detail = reverse("dispatch:detail", args=[order.pk])
    html = client.get(detail).content.decode()
    assert '<details class="action" data-action="split"' in html and 'name="split-unit_10"' in html and 'name="split-unit_11"' not in html
    url = reverse("dispatch:act", args=[order.pk, "split"])
    one = {"split-version": order.version, "split-reason": "多部门", "split-unit_1": world.units["dept"].pk,
           "split-title_1": "清运"}
    r = client.post(url, one)
    assert r.status_code == 400 and "拆分须为 2 至 10 个子工单" in r.content.decode()
    assert not WorkOrder.objects.filter(parent=order).exists()
    r = client.post(url, {**one, "split-unit_2": world.units["street_a"].pk, "split-title_2": "修复"})
    assert r.status_code == 302
    assert sorted(WorkOrder.objects.filter(parent=order).values_list("title", flat=True)) == ["修复", "清运"]
    html = client.get(detail).content.decode()
    assert '<details class="action" data-action="split"' not in html and 'id="no-actions"' in html
    assert "拆分工单" in html  # the timeline step, labelled
    client.force_login(world.users["comm_a"])  # not a dispatcher: no split form
    child = WorkOrder.objects.filter(parent=order).first()
    html = client.get(reverse("dispatch:detail", args=[child.pk])).content.decode()
    assert 'id="order-actions"' in html and '<details class="action" data-action="split"' not in html
