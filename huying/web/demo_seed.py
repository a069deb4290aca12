"""The demo's work around its logins, app by app, in one place.

`huying demo` runs this on Guangzhou after the territory, units, logins and dispatch rules; the
every-role tests run it on the small test city, so what a role finds in the demo is what the tests
open. Each app's seed is idempotent; this module only orders them and adds the few pieces of work
that connect two apps (a department's tasks to the demo committee, the desk's first callers).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from huying.core.errors import DomainError


def _note(progress, text: str) -> None:
    if progress is not None and hasattr(progress, "note"):
        progress.note(text)


def _user(username: str):
    from huying.people.models import User

    return User.objects.filter(username=username).first()


def admission_demo_work(*, now: datetime) -> dict:
    """The district 城管 department gives the demo committee one admitted and one unadmitted task, and
    applies for a new item: the community worker has something to accept or refuse, the reviewer a queue."""
    from huying.services import selectors_admission as sel
    from huying.services.admission import admission_apply, community_task_send
    from huying.services.models import AdmissionApplication, CommunityTask

    handler, worker = _user("depthandler"), _user("communityworker")
    if handler is None or worker is None or CommunityTask.objects.exists():
        return {"tasks": 0, "applications": 0}
    department = sel.department_units(handler).first()
    community = sel.community_units(worker).first()
    item = sel.items_in_force().order_by("code").first()
    if department is None or community is None:
        return {"tasks": 0, "applications": 0}
    today = timezone.localdate(now)
    made = {"tasks": 0, "applications": 0}
    for title, cited in (("协助开展门前三包责任制检查", item), ("填报辖区商铺油烟治理台账（每周一报）", None)):
        try:
            community_task_send(department=department, community=community, title=title,
                                due_on=today + timedelta(days=14), actor=handler, item=cited,
                                detail="请于期限内反馈办理情况。", now=now)
            made["tasks"] += 1
        except DomainError:
            pass
    if not AdmissionApplication.objects.exists():
        try:
            admission_apply(department=department, category="城市管理", name="协助开展共享单车停放秩序巡查",
                            legal_basis="《广州市互联网租赁自行车管理办法》", funding="区财政保障",
                            actor=handler, reason="共享单车乱停放投诉多，需社区协助巡查。", now=now)
            made["applications"] += 1
        except DomainError:
            pass
    return made


def desk_demo_work(*, now: datetime) -> dict:
    """The street centre's desk gets a walk-in matter taken by the demo desk login."""
    from huying.services import selectors_desk
    from huying.services.desk import matter_take
    from huying.services.models import DeskMatter

    staff = _user("deskstaff")
    if staff is None or DeskMatter.objects.exists():
        return {"matters": 0}
    position = selectors_desk.desk_positions(staff).order_by("kind", "pk").first()
    item = position.items.order_by("pk").first() if position is not None else None
    if position is None or item is None:
        return {"matters": 0}
    try:
        matter_take(position, item=item, actor=staff, applicant_name="陈先生", applicant_phone="13912345678",
                    note="现场咨询并递交材料", now=now)
    except DomainError:
        return {"matters": 0}
    return {"matters": 1}


def apps_demo_seed(*, now: datetime | None = None, progress=None) -> dict:
    """Party, the work system, services, admission, community workers, halls, projects and volunteers
    around the demo logins."""
    from huying.party.demo import party_demo_seed
    from huying.party.demo_worksystem import work_system_demo_seed
    from huying.services.admission import admission_demo_seed
    from huying.services.demo import services_demo_seed
    from huying.services.demo_workers import workers_demo_seed

    now = now or timezone.now()
    done: dict = {}
    _note(progress, "党组织与党员")
    done["party"] = party_demo_seed(now=now)
    _note(progress, "党建工作体系")
    done["work_system"] = work_system_demo_seed(now=now)
    # 党群服务阵地: a centre per street and community, stations in crowded places, the catalogue;
    # the admission list (准入) and what was cut from communities' burden; the community workers
    _note(progress, "党群服务阵地、准入清单与社区工作者")
    done["services"] = services_demo_seed()
    done["admission"] = admission_demo_seed()
    done["admission"].update(admission_demo_work(now=now))
    done["workers"] = workers_demo_seed(today=timezone.localdate(now))
    done["desk"] = desk_demo_work(now=now)
    # 协同共治: the demo community's 议事厅, its co-governance projects, its volunteer teams and river chief
    from huying.community.demo_projects import projects_demo_seed
    from huying.community.halls_demo import halls_demo_seed
    from huying.community.volunteers_demo import volunteers_demo_seed

    _note(progress, "议事厅、共治项目与志愿服务")
    done["halls"] = halls_demo_seed(now=now)
    done["projects"] = projects_demo_seed(now=now)
    done["volunteers"] = volunteers_demo_seed(now=now)
    # 感知预警: sensors across the demo city with their rules and an hour of readings (one over its limit)
    from huying.sensing.demo import sensing_demo_seed

    _note(progress, "感知设备与预警规则")
    done["sensing"] = sensing_demo_seed(now=now)
    return done
