"""Pages: home, territory browser (htmx tree), map. Reads go through `territory.selectors`."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET

from huying.core.errors import DomainError
from huying.territory import selectors

from .templatetags.huying_web import COUNT_LABELS, KIND_LABELS

SEARCH_LIMIT = 20


def _map_labels() -> dict[str, str]:
    return {
        "counts": {k: str(v) for k, v in COUNT_LABELS.items()},
        "kinds": {k: str(v) for k, v in KIND_LABELS.items()},
        "code": _("代码"),
        "kind": _("类别"),
        "generated": _("系统生成"),
        "unofficial": _("非官方代码"),
        "children": _("下级"),
        "noShapes": _("该层级暂无边界数据，可在下方列表中继续查看。"),
        "noChildren": _("无下级"),
        "loading": _("加载中…"),
        "failed": _("加载失败："),
        "openTree": _("在辖区树中查看"),
        "grid": _("网格"),
        "high": _("多"),
        "low": _("少"),
        "noData": _("尚未导入区划数据。"),
    }


@login_required
def home(request):
    memberships = list(request.user.memberships.filter(active=True)
                       .select_related("role", "unit").order_by("role__code", "unit__code"))
    return render(request, "web/home.html", {"memberships": memberships,
                                             "shortcuts": home_shortcuts(request.user, memberships)})


# Each role's first screens, in the order the home page shows them: (url name, title, description).
ROLE_SHORTCUTS = {
    "resident": [("dispatch:report", _lazy("我要反映"), _lazy("报告问题，获取查询码")),
                 ("dispatch:track", _lazy("查询进度"), _lazy("凭查询码查看办理进度")),
                 ("community:halls", _lazy("社区议事厅"), _lazy("本社区议题、议事会、表决结果，参与投票")),
                 ("community:projects", _lazy("身边的共治项目"), _lazy("加装电梯表决、长者饭堂、微改造进度")),
                 ("community:volunteers_register", _lazy("当志愿者"), _lazy("登记加入本社区、本街道的志愿服务队"))],
    "operator": [("dispatch:intake", _lazy("来电受理"), _lazy("登记来电，自动定位与分派")),
                 ("dispatch:list", _lazy("工单列表"), _lazy("查找与跟踪工单"))],
    "dispatcher": [("dispatch:board", _lazy("派单台"), _lazy("待派、退单、延期申请、超期")),
                   ("insight:forecast", _lazy("来电量预测"), _lazy("未来14天预计来电与话务员处理能力")),
                   ("sensing:home", _lazy("感知设备"), _lazy("传感器、预警规则与感知预警")),
                   ("sensing:emergency", _lazy("应急指挥一张图"), _lazy("进行中的预警、处置单位与工单状态"))],
    "handler": [("dispatch:queue", _lazy("待办工单"), _lazy("按期限排列的本单位工单")),
                ("services:admission", _lazy("社区事务准入"), _lazy("准入清单、向社区交办任务、申请准入"))],
    "unit_leader": [("dispatch:reviews", _lazy("审核办理结果"), _lazy("本单位承办人办结待审核的工单")),
                    ("dispatch:queue", _lazy("本单位工单"), _lazy("办理进度与期限")),
                    ("insight:dashboard", _lazy("驾驶舱"), _lazy("本辖区运行态势")),
                    ("services:admission", _lazy("社区事务准入"), _lazy("准入清单、审核与交办")),
                    ("services:workers_staffing", _lazy("社区工作者配备"), _lazy("各社区人数与每300户1人的差距")),
                    ("services:setup", _lazy("服务阵地设置"), _lazy("开设服务阵地，设置开放时间、可办事项与预约")),
                    ("community:halls_setup", _lazy("设立议事厅"), _lazy("为本辖区社区设立议事厅、表决规则与议事名册")),
                    ("community:summary", _lazy("协同共治统计"), _lazy("议事厅、共治项目、志愿者，逐级汇总"))],
    "grid_worker": [("dispatch:patrol", _lazy("巡查上报"), _lazy("网格巡查发现问题即报")),
                    ("dispatch:checks", _lazy("现场核查"), _lazy("本网格已办结待核查的工单")),
                    ("dispatch:queue", _lazy("待办工单"), _lazy("派给本网格的工单"))],
    "community_worker": [("dispatch:queue", _lazy("待办工单"), _lazy("派给本社区的工单")),
                         ("services:admission_community", _lazy("部门交办任务"), _lazy("未准入事项可拒绝")),
                         ("community:projects_manage", _lazy("共治项目管理"), _lazy("加装电梯表决与分摊、长者饭堂、微改造")),
                         ("community:halls_setup", _lazy("设立议事厅"), _lazy("设立本社区议事厅，设置表决规则与议事名册")),
                         ("community:volunteers_setup", _lazy("志愿服务队"), _lazy("建队、登记志愿者、设置河段"))],
    "party_secretary": [("party:org", _lazy("党组织工作台"), _lazy("报到审核、服务记录、评星")),
                        ("party:summary", _lazy("党建统计"), _lazy("双报到与服务成效"))],
    "party_member": [("party:member", _lazy("我的党建"), _lazy("报到、服务、积分"))],
    "service_desk": [("services:desk_home", _lazy("服务窗口"), _lazy("今日预约、现场受理、首问办件与移交"))],
    "leader": [("insight:dashboard", _lazy("驾驶舱"), _lazy("一屏观天下：全辖区运行态势")),
               ("insight:rankings", _lazy("单位排名"), _lazy("三率与综合得分排名")),
               ("party:summary", _lazy("党建统计"), _lazy("双报到与服务成效")),
               ("community:summary", _lazy("协同共治统计"), _lazy("议事厅、共治项目、志愿者，逐级汇总")),
               ("insight:forecast", _lazy("来电量预测"), _lazy("未来14天预计来电与处理能力")),
               ("sensing:emergency", _lazy("应急指挥一张图"), _lazy("进行中的预警、处置单位与工单状态"))],
    "org_department": [("party:work", _lazy("党建工作体系"), _lazy("各级年度方案、措施清单、示范点、重点项目、联系点与联席会议"))],
    "convener": [("community:halls_manage_index", _lazy("主持议事厅"), _lazy("议题、议事会、表决、决议落实、纠纷调解")),
                 ("community:summary", _lazy("协同共治统计"), _lazy("本辖区议事、项目与志愿服务汇总"))],
    "volunteer": [("community:volunteers", _lazy("志愿服务"), _lazy("我的队伍、活动报名、服务时长")),
                  ("community:volunteers_patrol", _lazy("巡查上报"), _lazy("巡河、街坊巡查，发现问题即转工单"))],
}


def home_shortcuts(user, memberships) -> list[dict]:
    """The links a person's roles lead to first, each once, skipping pages that are not installed."""
    seen, out = set(), []
    for m in memberships:
        for name, title, description in ROLE_SHORTCUTS.get(m.role.code, []):
            if name in seen:
                continue
            seen.add(name)
            try:
                out.append({"url": reverse(name), "title": title, "description": description})
            except NoReverseMatch:
                continue
    return out


def _expand_path(roots: list, path_codes: list[str]) -> None:
    """Open the tree along `path_codes` (district, street, …, focused node): each opened node gets
    its children rendered in place, so the page shows the focused node without any clicks."""
    level_nodes = roots
    for code in path_codes:
        node = next((n for n in level_nodes if n.code == code), None)
        if node is None or node.is_leaf:
            return
        node.expanded_children = selectors.node_children(node)
        level_nodes = node.expanded_children


@login_required
@require_GET
def territory(request):
    query = request.GET.get("q", "").strip()
    focus = request.GET.get("focus", "").strip()
    results = selectors.territory_search(query, limit=SEARCH_LIMIT) if query else None
    if results is not None and len(results) == 1:
        return redirect(f"{reverse('territory')}?focus={results[0][0].code}")
    roots = selectors.territory_roots()
    focus_node, path = None, []
    if focus:
        try:
            focus_node = selectors.node_get(focus)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            path = selectors.node_ancestors([focus])[focus]
            _expand_path(roots, [a.code for a in path if a.level != "city"] + [focus_node.code])
    return render(request, "web/territory/page.html", {
        "stats": selectors.territory_stats(),
        "roots": roots,
        "query": query,
        "results": results,
        "search_limit": SEARCH_LIMIT,
        "focus": focus_node,
        "path": path,
    })


@login_required
@require_GET
def territory_children(request, code: str):
    """htmx partial: the children of one node (a grid's: the first page of its buildings)."""
    try:
        node = selectors.node_get(code)
    except DomainError as exc:
        raise Http404(exc.message) from None
    if node.is_leaf:
        return territory_buildings(request, code)
    return render(request, "web/territory/_children.html", {"children": selectors.node_children(node)})


@login_required
@require_GET
def territory_buildings(request, code: str):
    """htmx partial: one page of a grid's buildings."""
    try:
        grid = selectors.grid_get(code)
    except DomainError as exc:
        raise Http404(exc.message) from None
    page = selectors.grid_buildings(code, page=request.GET.get("page", 1))
    return render(request, "web/territory/_buildings.html", {"grid": grid, "page": page})


@login_required
@require_GET
def territory_map(request):
    config = {
        "api": reverse("api:api-root") + "territory",
        "root": selectors.city_code(),
        "focus": request.GET.get("focus", "").strip(),
        "territoryUrl": reverse("territory"),
        "labels": _map_labels(),
    }
    return render(request, "web/map.html", {"config": config})
