"""Demo data for community workers and the 6+1 street offices: `workers_demo_seed()`.

Runs after the territory, people and services demos. For the demo street (people.demo's): the pay
scale loaded, a roster per community sized around the 1:300 norm (every third community short of
it), three years of assessments with progression applied, and the street's 6+1 offices with their
duty lists. Idempotent: a street whose committees already have workers gets none added.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from huying.people.demo import _demo_street, territorial_unit_code
from huying.people.models import Unit, UnitKind, User

from . import selectors_workers as sel
from .models import AssessmentResult, CommunityWorker, Education, SocialWorkQualification, WorkerPost
from .offices import offices_demo_seed

# The seed acts as the system (no actor to check): it calls the services' unchecked cores.
from .workers import _assess, _grade_apply, _register, pay_scale_load

RESULTS = [AssessmentResult.EXCELLENT, AssessmentResult.COMPETENT, AssessmentResult.BASIC,
           AssessmentResult.INCOMPETENT]
RESULT_P = [0.2, 0.7, 0.08, 0.02]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def _posts(n: int) -> list[str]:
    head = [WorkerPost.SECRETARY, WorkerPost.DEPUTY, WorkerPost.MEMBER, WorkerPost.MEMBER]
    return (head + [WorkerPost.STAFF] * n)[:n]


@transaction.atomic
def workers_demo_seed(*, actor=None, today: date | None = None, seed: int = 2018) -> dict[str, int]:
    """Roster, assessments over the last three years and the 6+1 offices for the demo street."""
    today = today or timezone.localdate()
    scale = pay_scale_load(actor=actor)
    street = _demo_street()
    counts = {"workers": 0, "assessments": 0, "offices": 0}
    if street is None:
        return counts
    street_office = Unit.objects.filter(code=territorial_unit_code(street.code)).first()
    if street_office is None:
        return counts
    counts["offices"] = offices_demo_seed(streets=[street_office], actor=actor)
    committees = list(Unit.objects.filter(kind=UnitKind.TERRITORIAL, parent=street_office, grid__isnull=True,
                                          division__isnull=False).select_related("division").order_by("code"))
    if CommunityWorker.objects.filter(unit__in=committees).exclude(user__username="communityworker").exists():
        return counts
    rows = {r.community.pk: r for r in sel.staffing(actor=_Everyone(), street=street.code)}
    rng = np.random.default_rng(seed)
    unusable = make_password(None)
    years = [today.year - 3, today.year - 2, today.year - 1]
    demo_login = User.objects.filter(username="communityworker").first()
    for i, unit in enumerate(committees):
        row = rows.get(unit.division_id)
        need = max(row.required if row else 0, 3)
        n = max(2, need - max(2, need // 3)) if i % 3 == 1 else need + int(rng.integers(0, 2))
        for j, post in enumerate(_posts(n)):
            if i == 0 and j == n - 1 and demo_login is not None:
                user = demo_login
                if CommunityWorker.objects.filter(user=user, unit=unit).exists():
                    continue
            else:
                name = SURNAMES[int(rng.integers(len(SURNAMES)))] + GIVEN[int(rng.integers(len(GIVEN)))]
                user = User.objects.create(username=f"cw-{unit.division.code}-{j:02d}", password=unusable,
                                           display_name=name, phone=f"139{unit.division.code[-5:]}{j:03d}"[:11])
            started = int(rng.integers(2008, today.year - 2))
            first = years[0]
            worker = _register(
                user=user, unit=unit, post=post, started_on=date(started, int(rng.integers(1, 13)), 1),
                education=str(rng.choice([Education.COLLEGE, Education.BACHELOR, Education.BACHELOR,
                                          Education.GRADUATE])),
                qualification=str(rng.choice([SocialWorkQualification.NONE, SocialWorkQualification.ASSISTANT,
                                              SocialWorkQualification.SOCIAL_WORKER])),
                entry_grade=min(6, 1 + max(0, first - started) // 3), entry_year=max(first, started), actor=actor)
            counts["workers"] += 1
            for year in years:
                if year >= worker.started_on.year:
                    _assess(worker, year=year, result=str(rng.choice(RESULTS, p=RESULT_P)), actor=actor)
                    counts["assessments"] += 1
            _grade_apply(worker, year=years[-1], actor=actor)
    counts["scale"] = scale.pk
    return counts


class _Everyone:
    """The seed reads the staffing of the demo street as a superuser would."""

    is_superuser = True
    is_active = True
    is_authenticated = True
    pk = None
