"""Street offices in the "6+1" model (六办一队) and their lists of powers and duties (权责清单).

Each street office (街道办事处) gets six offices and the comprehensive administrative enforcement
team as sub-units (people Units, parent = the street office), with their duty lists loaded from
data/street_offices.json. The sub-units carry no territory of their own: the street office stays
the one territorial unit of its Division, so routing's place → unit map and the dashboards do not
see seven more offices per street; staff reach a sub-unit through its parent.

`duty_for(street, subject)` answers "which office of this street is responsible for this matter"
from the duty lists, for routing and the admission list to cite.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.people.models import Unit, UnitKind
from huying.people.services import unit_create
from huying.territory.models import Division, Level

from .models import DutyKind, OfficeDuty, StreetOffice

DATA_FILE = Path(__file__).parent / "data" / "street_offices.json"


def offices_data(path: Path = DATA_FILE) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _street_unit(street: Unit | Division | str) -> Unit | None:
    """The street office for a Unit, a street Division or its code."""
    if isinstance(street, Unit):
        return street
    code = street.code if isinstance(street, Division) else str(street)
    return (Unit.objects.filter(kind=UnitKind.TERRITORIAL, division__code=code, division__level=Level.STREET,
                                grid__isnull=True).order_by("id").first())


@transaction.atomic
def street_offices_create(street: Unit, *, actor, path: Path = DATA_FILE) -> list[StreetOffice]:
    """Create the 6+1 sub-units of one street office with their duty lists; offices it already has are kept."""
    street = Unit.objects.select_related("division").get(pk=street.pk)
    if street.kind != UnitKind.TERRITORIAL or street.division_id is None or street.division.level != Level.STREET:
        raise DomainError("services.office.not_street", _("只能为街道办事处（镇人民政府）设置内设机构。"), field="street")
    data = offices_data(path)
    have = set(street.street_offices.values_list("code", flat=True))
    made = []
    for order, spec in enumerate(data["offices"], start=1):
        if spec["code"] in have:
            continue
        unit = unit_create(code=f"{street.code}-{spec['code']}"[:40], name=f"{street.division.name}{spec['name']}",
                           kind=UnitKind.TERRITORIAL, parent=street, actor=actor)
        office = StreetOffice.objects.create(unit=unit, street=street, code=spec["code"], name=spec["name"],
                                             also_named=spec.get("also_named", ""), order=order)
        OfficeDuty.objects.bulk_create([
            OfficeDuty(office=office, item=d["item"], kind=d["kind"], legal_basis=d["legal_basis"],
                       subjects=d.get("subjects", []), order=i) for i, d in enumerate(spec["duties"], start=1)])
        audit_log(office, "services.office.created", actor=actor,
                  new={"street": street.code, "code": office.code, "name": office.name,
                       "duties": len(spec["duties"])})
        made.append(office)
    return made


def offices_of(street: Unit | Division | str) -> QuerySet[StreetOffice]:
    unit = _street_unit(street)
    if unit is None:
        return StreetOffice.objects.none()
    return StreetOffice.objects.filter(street=unit).select_related("unit").prefetch_related("duties")


@dataclass(frozen=True)
class DutyMatch:
    office: StreetOffice
    duty: OfficeDuty
    matched: str  # the subject name (the one asked, or an ancestor's) found in the duty list


def _names(subject) -> list[str]:
    """The names to look up, nearest first: a plain name, or a dispatch Subject and its ancestors."""
    if isinstance(subject, str):
        return [subject.strip()] if subject.strip() else []
    names, node, seen = [], subject, 0
    while node is not None and seen < 12:
        names.append(node.name)
        node, seen = node.parent, seen + 1
    return names


def duty_match(street: Unit | Division | str, subject) -> DutyMatch | None:
    """The duty-list entry of a street covering `subject` (a name, or a dispatch Subject walked up its
    ancestors): the nearest name wins; for the same name a power (权力, e.g. the enforcement team's
    penalty) comes before a responsibility (责任, e.g. the office that reports), then office order."""
    offices = list(offices_of(street))
    if not offices:
        return None
    for name in _names(subject):
        found = [(duty.kind != DutyKind.POWER, office.order, duty.order, office, duty)
                 for office in offices for duty in office.duties.all() if name in duty.subjects]
        if found:
            found.sort(key=lambda f: f[:3])
            return DutyMatch(found[0][3], found[0][4], name)
    return None


def duty_for(street: Unit | Division | str, subject) -> StreetOffice | None:
    """The office of this street responsible for `subject` by its 权责清单, or None if no list names it."""
    match = duty_match(street, subject)
    return match.office if match else None


def offices_demo_seed(*, streets: list[Unit], actor=None) -> int:
    """Create the 6+1 offices for the given street offices; returns how many offices were made."""
    return sum(len(street_offices_create(s, actor=actor)) for s in streets)
