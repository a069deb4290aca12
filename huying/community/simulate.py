"""huying simulate community: halls, co-governance projects, volunteers and a year of their activity.

Each part simulates itself (halls_demo.simulate_halls, demo_projects.simulate_projects,
volunteers_demo.simulate_volunteers, all bulk); this puts them in one run and one JSON line with at
least the keys the issue names: halls, canteens, lifts, volunteers, disputes, seconds."""

from __future__ import annotations

import time

from django.utils.translation import gettext as _

from huying.core.errors import DomainError
from huying.core.progress import Progress

BATCH = 5000


def bulk(model, rows: list, *, returning: bool = False, batch: int = BATCH) -> list:
    """bulk_create in batches; the created rows (with keys where the database returns them) if asked."""
    out = []
    for i in range(0, len(rows), batch):
        made = model.objects.bulk_create(rows[i:i + batch], batch_size=batch)
        if returning:
            out.extend(made)
    return out


def check_scale(scale: str, scales) -> None:
    if scale not in scales:
        raise DomainError("community.simulate.bad_scale", _("规模应为 %(names)s 之一。") % {
            "names": ", ".join(scales)}, field="scale")


def sim_communities(*, one_district: bool) -> list:
    """The communities a simulation spreads over: all, or the first district's (the small scale)."""
    from huying.territory.models import Division, Level

    communities = list(Division.objects.filter(level=Level.COMMUNITY).order_by("code"))
    if not communities:
        raise DomainError("community.simulate.no_territory",
                          _("请先导入区划（huying demo 或 huying import divisions）。"), status=409)
    if one_district:
        first = communities[0].code[:6]
        communities = [c for c in communities if c.code.startswith(first)]
    return communities


class Steps:
    """step(name): one more of `total` steps done, told to `progress` if there is one."""

    def __init__(self, progress: Progress | None, total: int):
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self, name: str) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(name, self.done, self.total)


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
