"""`huying simulate services --scale small` on the test town: the printed counts match the database,
a second run refuses without adding anything, and the simulated matters' states, deadlines, overdue
flags, owners and hand-overs are consistent with each other and with the desk's rules."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from .conftest import at

pytestmark = pytest.mark.django_db

END = at(2025, 12, 31, 18)
KEYS = {"centres", "stations", "items", "admission_items", "workers", "matters", "seconds"}


def _run(*extra) -> dict:
    out = StringIO()
    call_command("simulate_services", "--scale", "small", "--end", END.isoformat(), *extra, stdout=out,
                 stderr=StringIO())
    return json.loads(out.getvalue())


def _db_counts() -> dict:
    from huying.services.models import (
        AdmissionItem,
        CommunityWorker,
        DeskMatter,
        PositionKind,
        ServiceItem,
        ServicePosition,
    )

    return {"centres": ServicePosition.objects.exclude(kind=PositionKind.STATION).count(),
            "stations": ServicePosition.objects.filter(kind=PositionKind.STATION).count(),
            "items": ServiceItem.objects.count(),
            "admission_items": AdmissionItem.objects.filter(admission_list__status="in_force").count(),
            "workers": CommunityWorker.objects.count(), "matters": DeskMatter.objects.count()}


def test_the_cli_prints_the_counts_of_the_database(town, capsys, monkeypatch):
    import django.core.management

    from huying.cli import main
    from huying.people.models import User
    from huying.services import selectors_desk as sel
    from huying.services.models import DeskMatter

    # `huying simulate services` runs simulate_services (run here with call_command: running the
    # command from argv would close the test's database connection at its end)
    monkeypatch.setattr(django.core.management, "execute_from_command_line",
                        lambda argv: call_command(*argv[1:], stderr=StringIO()))
    main(["huying", "simulate", "services", "--scale", "small", "--end", END.isoformat()])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result) == KEYS
    assert {k: v for k, v in result.items() if k != "seconds"} == _db_counts()
    # 北京街 and 六榕街 and 流水井 (the only community with a committee) get centres; two stations
    assert result["centres"] == 3 and result["stations"] == 2
    assert result["items"] == 140 and result["admission_items"] == 76
    # 流水井's buildings hold 60 households: the norm asks for one worker, a committee has at least three
    assert result["workers"] == 3
    assert 300 < result["matters"] < 3000
    # owners are desk staff of the position, recorded without a usable password
    owners = User.objects.filter(pk__in=DeskMatter.objects.values("owner_id"))
    assert owners.exists() and not any(u.has_usable_password() for u in owners)
    for matter in DeskMatter.objects.select_related("position", "owner")[:200]:
        assert sel.is_desk_staff(matter.owner, matter.position)


def test_a_second_run_refuses_and_adds_nothing(town):
    first = _run()
    with pytest.raises(CommandError, match="已有服务阵地的模拟数据"):
        _run()
    assert _db_counts() == {k: v for k, v in first.items() if k != "seconds"}


def test_the_same_seed_gives_the_same_year(town):
    from huying.services.models import DeskMatter

    _run("--seed", "7")
    rows = list(DeskMatter.objects.order_by("taken_at", "position_id", "item_id")
                .values_list("taken_at", "position_id", "item_id", "state"))
    assert rows and len({r[0] for r in rows}) > len(rows) // 2


def test_states_deadlines_and_overdue_flags_are_consistent(town):
    from huying.core.worktime import get_calendar
    from huying.services.desk import matter_due
    from huying.services.hours import BEIJING
    from huying.services.models import DeskMatter, MatterHandover, MatterState, OpeningHours

    _run()
    calendar = get_calendar()
    hours = {}
    for pid, day, opens, closes in OpeningHours.objects.values_list("position_id", "day", "opens", "closes"):
        hours.setdefault((pid, day), []).append((opens, closes))
    matters = list(DeskMatter.objects.select_related("item"))
    states = {m.state for m in matters}
    assert {MatterState.DONE, MatterState.REFUSED} <= states
    assert states & {MatterState.ACCEPTED, MatterState.IN_PROGRESS}  # the last days still have open matters
    assert any(m.overdue and m.finished_at for m in matters)  # finished late
    assert any(not m.overdue and m.finished_at for m in matters)
    assert END - min(m.taken_at for m in matters) > timedelta(days=300)  # a year, not a few days
    for m in matters:
        local = m.taken_at.astimezone(BEIJING)
        assert m.taken_at <= END and calendar.is_workday(local.date())
        # a working weekend day (调休) at a position closed on that weekday: its Monday hours
        spans = hours.get((m.position_id, local.weekday())) or hours[(m.position_id, 0)]
        assert any(a <= local.time() < b for a, b in spans)
        assert m.due_at == matter_due(m.taken_at, m.item.time_limit_days, calendar)
        if m.state in (MatterState.ACCEPTED, MatterState.IN_PROGRESS):
            assert m.finished_at is None and m.finished_by_id is None
            assert m.overdue == (m.due_at < END)
        else:
            assert m.taken_at < m.finished_at <= END and m.finished_by_id == m.owner_id
            assert m.overdue == (m.finished_at > m.due_at)
        if m.state == MatterState.TRANSFERRED:
            assert m.work_order_id is None and "未生成工单" in m.result
    done = [m for m in matters if m.state == MatterState.DONE]
    assert sum(m.overdue for m in done) < 0.15 * len(done)  # most finished within the limit
    handovers = list(MatterHandover.objects.select_related("matter"))
    assert handovers
    for h in handovers:
        m = h.matter
        assert h.from_user_id == m.taken_by_id != h.to_user_id == m.owner_id
        assert m.taken_at < h.at <= (m.finished_at or END)
