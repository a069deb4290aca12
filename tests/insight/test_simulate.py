"""The simulated year's call instants: drawn once for the run, handed out oldest first, inside the window."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.django_db
def test_the_batches_go_through_the_window_in_time_order():
    from huying.insight.simulate import Options, Simulator
    from huying.territory.testing import load_territory

    load_territory(districts=("440104",))
    end = datetime(2026, 6, 30, 20, 0, tzinfo=TZ)
    sim = Simulator(Options(orders=3000, days=90, end=end, seed=5))
    sim.schedule(3000)
    batches = [sim.draw_times(1000) for _ in range(3)]
    before_today = [t for b in batches for t in b if t.date() < end.date()]
    assert before_today == sorted(before_today) and len(before_today) > 2900
    assert all(b[0] <= b[-1] or b[-1].date() == end.date() for b in batches)
    flat = [t for b in batches for t in b]
    assert min(flat).date() == sim.start_day and max(flat) < end
    # The window's cycles survive the ordering: weekdays busier than Sundays, daytime than night.
    weekday = sum(1 for t in flat if t.weekday() == 1)
    sunday = sum(1 for t in flat if t.weekday() == 6)
    assert weekday > sunday * 1.2
    assert sum(1 for t in flat if 9 <= t.hour < 17) > 5 * sum(1 for t in flat if 0 <= t.hour < 6)
    # A fresh schedule is drawn when the old one is used up.
    assert len(sim.draw_times(10)) == 10
