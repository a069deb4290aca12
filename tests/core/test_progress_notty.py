"""Progress off a terminal: lines a log can show (tqdm alone is silent there), bars on a terminal."""

import io

import pytest
from django.core.management import call_command

from huying.core.progress import Progress
from tests.people.conftest import territory  # noqa: F401  (the small test city)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_line_at_the_start_at_each_tenth_and_at_the_end():
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, every_seconds=1e9, clock=clock)
    assert progress.tty is False
    for done in range(0, 1001, 5):
        clock.now += 0.1
        progress("网格划分", done, 1000)
    progress.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == "网格划分: 0/1000"
    assert [ln.split(" ")[1] for ln in lines[1:]] == [f"{k * 100}/1000" for k in range(1, 11)]
    assert lines[-1] == "网格划分: 1000/1000 (100%) 20.0 s"


def test_a_slow_step_still_says_something_every_so_many_seconds():
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, every_seconds=30, clock=clock)
    for done in range(1, 9):  # 8 of 1000, one every 20 s: never a tenth, but a line once 30 s have passed
        clock.now += 20
        progress("模拟工单", done, 1000)
    assert out.getvalue().splitlines()[1:] == [
        "模拟工单: 3/1000 (0%) 40.0 s", "模拟工单: 5/1000 (0%) 80.0 s", "模拟工单: 7/1000 (0%) 120.0 s"]
    progress.close()  # the count moved since the last line: the step's last line
    assert out.getvalue().splitlines()[-1] == "模拟工单: 8/1000 (0%) 140.0 s"
    progress.close()
    assert len(out.getvalue().splitlines()) == 5


def test_steps_without_a_count_and_a_new_step_close_the_last():
    out = io.StringIO()
    progress = Progress(out)
    progress.note("数据库迁移")
    progress("单位与登录账号", 3, 6)
    progress("模拟工单", 10, 10)
    progress.note("党组织与党员")
    assert [ln.split(" (")[0] for ln in out.getvalue().splitlines()] == [
        "数据库迁移", "单位与登录账号: 0/6", "单位与登录账号: 3/6", "模拟工单: 0/10", "模拟工单: 10/10", "党组织与党员"]


def test_a_terminal_keeps_the_bar():
    out = io.StringIO()
    progress = Progress(out, tty=True)
    progress("网格划分", 50, 100)
    progress.close()
    assert "网格划分:  50%|" in out.getvalue() and "\r" in out.getvalue()


@pytest.mark.django_db
def test_the_demo_command_prints_its_steps_off_a_terminal(territory, monkeypatch):  # noqa: F811
    from huying.web.management.commands import demo

    monkeypatch.setenv("HUYING_SECRET_KEY", "test-" + "k" * 50)
    monkeypatch.setattr(demo, "call_command", lambda *a, **kw: None)  # migrate: the test database is ready
    from huying.insight import simulate

    def simulate_year(opts, *, progress):  # the real one is tested in tests/insight; here only its reports
        done = 0
        while done < opts.orders:
            done = min(done + opts.batch, opts.orders)
            progress(done, opts.orders)
        return {"orders": opts.orders}

    monkeypatch.setattr(simulate, "simulate_year", simulate_year)
    out, err = io.StringIO(), io.StringIO()
    # --force: this test runs on PostgreSQL too; the small city is there, so divisions and grids are kept.
    call_command("demo", "--no-serve", "--orders", "40", "--force", stdout=out, stderr=err)
    lines = err.getvalue().splitlines()
    for expected in ("数据库迁移", "单位与登录账号: 0/6", "单位与登录账号: 6/6 (100%)", "派单规则与诉求分类",
                     "党组织与党员", "模拟工单: 0/40", "模拟工单: 40/40 (100%)", "定位索引"):
        assert any(ln.startswith(expected) for ln in lines), (expected, lines)
    assert "\r" not in err.getvalue()
    assert "ready in" in out.getvalue()
