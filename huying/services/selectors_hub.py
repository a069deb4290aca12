"""The services hub: which of the app's pages this person may open, for /services/ and the menu."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _lazy

from . import selectors, selectors_admission, selectors_desk, selectors_setup, selectors_workers


@dataclass(frozen=True)
class Section:
    key: str
    url: str
    title: str
    note: str


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def hub_sections(user) -> list[Section]:
    """Each page of the services app that `user` may open, in the order a person looks for them.

    The tests for each section's own page hold its rule; this only asks the same selectors."""
    out = [Section("near", reverse("services:near"), _lazy("附近能办什么事"),
                   _lazy("按步行时间找党群服务中心和服务站，看现在是否开放、能办哪些事"))]
    if not _signed_in(user):
        return out
    out.append(Section("bookings", reverse("services:my_bookings"), _lazy("我的预约与办件"),
                       _lazy("在服务中心的预约和办理进度")))
    if selectors_desk.desk_positions(user).exists():
        out.append(Section("desk", reverse("services:desk_home"), _lazy("服务窗口"),
                           _lazy("今日预约、现场受理、首问办件与移交")))
    if selectors.coverage_communities(actor=user).exists():
        out.append(Section("coverage", reverse("services:coverage_index"), _lazy("15分钟服务圈"),
                           _lazy("各社区步行15分钟内可达服务阵地的住户比例、缺口与建议新设站点")))
    if selectors_admission.is_staff_user(user):
        out.append(Section("admission", reverse("services:admission"), _lazy("社区事务准入"),
                           _lazy("准入清单、部门交办任务、准入申请与审核、减负台账")))
    if selectors_admission.community_units(user).exists():
        out.append(Section("tasks", reverse("services:admission_community"), _lazy("部门交办任务"),
                           _lazy("向本社区交办的任务；未准入事项可拒绝")))
    prefixes = selectors_workers.view_prefixes(user)
    if prefixes is None or prefixes:
        out.append(Section("workers", reverse("services:workers_staffing"), _lazy("社区工作者配备"),
                           _lazy("各社区人数与每300户1人的差距、花名册与等级")))
    if selectors_setup.may_set_up(user) or selectors_workers.manage_prefixes(user) != []:
        out.append(Section("setup", reverse("services:setup"), _lazy("服务阵地设置"),
                           _lazy("服务阵地、开放时间、可办事项、预约容量")))
    return out
