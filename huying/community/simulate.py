"""huying simulate community: halls, co-governance projects, volunteers and a year of their activity.

Each part simulates itself (halls_demo.simulate_halls, demo_projects.simulate_projects,
volunteers_demo.simulate_volunteers, all bulk); this puts them in one run and one JSON line with at
least the keys the issue names: halls, canteens, lifts, volunteers, disputes, seconds."""

from __future__ import annotations

import time

from huying.core.progress import Progress


def simulate_community(*, scale: str = "small", seed: int = 2024, progress: Progress | None = None) -> dict:
    from .demo_projects import simulate_projects
    from .halls_demo import simulate_halls
    from .volunteers_demo import simulate_volunteers

    started = time.monotonic()
    out: dict = {}
    for part in (simulate_halls, simulate_projects, simulate_volunteers):
        counts = part(scale=scale, seed=seed, progress=progress)
        out.update({k: v for k, v in counts.items() if k != "seconds"})
    out["seconds"] = round(time.monotonic() - started, 1)
    return out
