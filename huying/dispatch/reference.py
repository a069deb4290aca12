"""Per-process caches of what intake reads for every order but an administrator rarely changes.

Subjects (with each one's chain of ancestors), request types, active routing rules, and the
territorial unit (块) covering each grid and division. Without them an order costs five extra
queries; with them intake reads nothing but its own writes.

Freshness, in the locator's style:
- a save or delete of a Subject, RequestType, RoutingRule or Unit in this process drops the
  affected cache at once (and again after commit, so a rebuild between the write and its commit
  cannot keep the old rows);
- changes made by other processes (another gunicorn worker, a bulk seed) are seen within
  `CHECK_SECONDS`: subjects, request types and rules are small and simply reloaded then; the
  territorial units, which number tens of thousands for the whole city, are reloaded only when
  a cheap signature (count, max id, sums of their territory ids) changed;
- a code the cache does not know is looked up in the database before it is refused, and a new
  one found there rebuilds the cache, so a subject added a moment ago elsewhere is accepted;
- intake drops every cache when a write fails on an integrity error and tries once more.

Cached model instances are shared between threads: callers read them and must not modify them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Max, Sum
from django.db.models.signals import post_delete, post_save

from huying.people.models import Unit, UnitKind

from .models import HandlingLevel, RequestType, RoutingRule, Subject
from .routing import RuleIndex

CHECK_SECONDS = 5.0
_clock = time.monotonic  # replaced in tests to move time on


@dataclass(frozen=True)
class _Classes:
    subjects: dict[str, Subject]  # every subject by code, active or not
    chains: dict[str, tuple[Subject, ...]]  # code → the node and its ancestors, nearest first
    request_types: dict[str, RequestType]  # every request type by code
    rules: tuple[RoutingRule, ...]  # active rules, in the order they are tried
    rule_index: RuleIndex  # the same rules, ready for matching
    built_at: float


@dataclass(frozen=True)
class _Units:
    by_grid: dict[int, int]  # grid id → the territorial unit covering it (smallest id)
    by_division: dict[str, int]  # division code → its territorial office (smallest id, no grid)
    signature: tuple
    checked_at: float


_lock = threading.Lock()
_classes: _Classes | None = None
_units: _Units | None = None


def reset(**_kwargs) -> None:
    """Forget every cache; the next read rebuilds from the database (tests call this between tests)."""
    _reset_classes()
    _reset_units()


def _reset_classes(**_kwargs) -> None:
    global _classes
    _classes = None


def _reset_units(**_kwargs) -> None:
    global _units
    _units = None
    _unit_rows.clear()


# -- subjects, request types, routing rules ---------------------------------------------------

def _build_classes() -> _Classes:
    subjects = {s.code: s for s in Subject.objects.all()}
    chains = {}
    for code in subjects:
        # Codes are prefixes of their children's codes (Q01 → Q0103 → Q010307): the same rule as
        # Subject.ancestors(), without a query per node.
        chains[code] = tuple(subjects[code[:i]] for i in range(len(code), 0, -1) if code[:i] in subjects)
    request_types = {r.code: r for r in RequestType.objects.all()}
    rules = tuple(RoutingRule.objects.filter(active=True).select_related("subject", "request_type"))
    return _Classes(subjects, chains, request_types, rules, RuleIndex(rules), _clock())


def _current_classes() -> _Classes:
    global _classes
    c = _classes
    if c is not None and _clock() - c.built_at < CHECK_SECONDS:
        return c
    with _lock:
        c = _classes
        if c is None or _clock() - c.built_at >= CHECK_SECONDS:
            c = _classes = _build_classes()
    return c


def subject(code: str) -> Subject | None:
    """The active subject with this code, None if there is none."""
    c = _current_classes()
    found = c.subjects.get(code)
    if found is None and Subject.objects.filter(code=code).exists():
        _reset_classes()  # added since the cache was built (another process, a bulk load)
        found = _current_classes().subjects.get(code)
    return found if found is not None and found.active else None


def subject_chain(node: Subject) -> list[Subject]:
    """The node and its ancestors, nearest first — Subject.ancestors() from the cache."""
    chain = _current_classes().chains.get(node.code)
    if chain is None or chain[0].pk != node.pk:
        return node.ancestors()
    return list(chain)


def request_type(code: str) -> RequestType | None:
    """The active request type with this code, None if there is none."""
    c = _current_classes()
    found = c.request_types.get(code)
    if found is None and RequestType.objects.filter(code=code).exists():
        _reset_classes()
        found = _current_classes().request_types.get(code)
    return found if found is not None and found.active else None


def routing_rules() -> list[RoutingRule]:
    """The active routing rules in the order they are tried (priority, then id)."""
    return list(_current_classes().rules)


def rule_index() -> RuleIndex:
    """The active routing rules as `routing.RuleIndex` (what routing an order matches against)."""
    return _current_classes().rule_index


# -- territorial units --------------------------------------------------------------------------

def _territorial():
    return Unit.objects.filter(kind=UnitKind.TERRITORIAL, active=True)


def _unit_signature() -> tuple:
    return tuple(_territorial().aggregate(n=Count("id"), top=Max("id"), d=Sum("division_id"),
                                          g=Sum("grid_id")).values())


def _build_units(signature: tuple) -> _Units:
    by_grid: dict[int, int] = {}
    by_division: dict[str, int] = {}
    for unit_id, grid_id, division_code in _territorial().order_by("id").values_list("id", "grid_id",
                                                                                      "division__code"):
        if grid_id:
            by_grid.setdefault(grid_id, unit_id)
        elif division_code:
            by_division.setdefault(division_code, unit_id)
    return _Units(by_grid, by_division, signature, _clock())


def _current_units() -> _Units:
    global _units
    u = _units
    if u is not None and _clock() - u.checked_at < CHECK_SECONDS:
        return u
    with _lock:
        u = _units
        if u is None or _clock() - u.checked_at >= CHECK_SECONDS:
            signature = _unit_signature()
            if u is not None and u.signature == signature:
                u = _Units(u.by_grid, u.by_division, signature, _clock())
            else:
                u = _build_units(signature)
            _units = u
    return u


def territorial_units(*, grid_id: int | None, district_code: str, street_code: str,
                      community_code: str) -> dict[str, int]:
    """Level → the territorial unit (块) covering that place at that level."""
    u = _current_units()
    found: dict[str, int] = {}
    if grid_id and grid_id in u.by_grid:
        found[str(HandlingLevel.GRID)] = u.by_grid[grid_id]
    for level, code in ((HandlingLevel.COMMUNITY, community_code), (HandlingLevel.STREET, street_code),
                        (HandlingLevel.DISTRICT, district_code)):
        if code and code in u.by_division:
            found[str(level)] = u.by_division[code]
    return found


# -- units by id, for their names in answers ---------------------------------------------------

NAME_SECONDS = 60.0
_unit_rows: dict[int, tuple[Unit, float]] = {}


def unit(unit_id: int) -> Unit | None:
    """The unit with this id, as a shared read-only row (the create answer names the lead unit).

    Kept per process for NAME_SECONDS; a save or delete of a unit in this process drops them all, so a
    renamed unit shows its new name here at once and in other processes within a minute.
    """
    now = _clock()
    hit = _unit_rows.get(unit_id)
    if hit is not None and now - hit[1] < NAME_SECONDS:
        return hit[0]
    row = Unit.objects.filter(pk=unit_id).first()
    if row is not None:
        if len(_unit_rows) > 100_000:
            _unit_rows.clear()
        _unit_rows[unit_id] = (row, now)
    return row


# -- invalidation ------------------------------------------------------------------------------

def _classes_changed(**_kwargs) -> None:
    _reset_classes()
    transaction.on_commit(_reset_classes)


def _units_changed(**_kwargs) -> None:
    _reset_units()
    transaction.on_commit(_reset_units)


def connect() -> None:
    """Drop the caches when their rows change in this process (called by `DispatchConfig.ready()`)."""
    for model in (Subject, RequestType, RoutingRule):
        post_save.connect(_classes_changed, sender=model, dispatch_uid=f"dispatch.reference.saved.{model.__name__}")
        post_delete.connect(_classes_changed, sender=model,
                            dispatch_uid=f"dispatch.reference.deleted.{model.__name__}")
    post_save.connect(_units_changed, sender=Unit, dispatch_uid="dispatch.reference.saved.Unit")
    post_delete.connect(_units_changed, sender=Unit, dispatch_uid="dispatch.reference.deleted.Unit")
