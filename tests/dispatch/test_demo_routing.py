"""The demo's 条块 routing and its handlers: district departments with routing rules lead, the street
co-handles; the community worker and the department handler finish their own orders."""

import pytest

from huying.dispatch.models import Assignment, State, Subject
from huying.dispatch.seed import dispatch_seed, district_routing_seed
from huying.dispatch.services import (
    work_order_accept,
    work_order_create,
    work_order_dispatch,
    work_order_resolve,
)
from huying.people.demo import demo_org_seed
from huying.people.models import Unit, User
from tests.people.conftest import territory  # noqa: F401  (the small test city)

pytestmark = pytest.mark.django_db
PASSWORD = "demo-pass-2026"
# inside the test city's grid squares (every grid has the same shape; the address names the community)
POINT = {"lng": 113.268, "lat": 23.121, "address": "广州市越秀区北京街道流水井社区北京路100号"}


@pytest.fixture
def demo(territory):  # noqa: F811
    demo_org_seed(password=PASSWORD)
    dispatch_seed()
    made = district_routing_seed()
    return made, {u: User.objects.get(username=u) for u in
                  ("operator", "dispatcher", "communityworker", "depthandler", "handler")}


def _order(users, subject, key):
    order = work_order_create(channel="hotline", subject=subject, title="反映问题", description="请尽快处理",
                              idempotency_key=key, reporter_name="吴女士", reporter_phone="13800001111",
                              actor=users["operator"], **POINT)
    return work_order_dispatch(order, actor=users["dispatcher"])


def test_every_district_department_has_rules_once(demo):
    made, _users = demo
    # 2 districts × (1 + 3 + 1 + 2 + 2) subjects
    assert made == 18
    assert district_routing_seed() == 0
    assert Unit.objects.get(code="dept-cgzf-440104").name == "越秀区城市管理和综合执法局"
    assert Unit.objects.get(code="dept-gaj-440104").name == "广州市公安局越秀区分局"


def test_department_leads_and_the_street_co_handles(demo):
    _made, users = demo
    subject = Subject.objects.filter(parent__name="城市建设和市政管理", parent__parent__name="城乡建设").first()
    order = _order(users, subject, "dept-1")
    assert order.lead_unit.code == "dept-cgzf-440104"
    active = Assignment.objects.get(order=order, outcome=Assignment.Outcome.ACTIVE)
    assert active.unit.code == "dept-cgzf-440104" and active.level == "department"
    assert list(Unit.objects.filter(pk__in=active.cohandler_ids).values_list("code", flat=True)) == ["gov-440104003"]
    order = work_order_accept(order, actor=users["depthandler"])
    order = work_order_resolve(order, actor=users["depthandler"], result="已安排执法队清理")
    assert order.state == State.RESOLVED


def test_community_worker_accepts_and_resolves_an_order_routed_to_the_committee(demo):
    _made, users = demo
    subject = Subject.objects.filter(kind="request", depth=3, parent__parent__name="民政").order_by("code").first()
    order = _order(users, subject, "comm-1")
    assert order.lead_unit.code == "gov-440104003001"
    order = work_order_accept(order, actor=users["communityworker"])
    order = work_order_resolve(order, actor=users["communityworker"], result="社区已上门核实并解决")
    assert order.state == State.RESOLVED
