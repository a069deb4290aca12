"""Routing (四级响应), pure: which rule matches an order, and which unit it therefore goes to.

Inputs are plain values and already-loaded rows; the database work (loading rules and the
territorial units covering a point) is in `services.routing`. Rules are tried in order and the
first match wins. Without a match the subject's defaults decide: events go to the territory
first (先属地), components to their owner first (先属主), and the territory is the lowest level
that has a unit, climbing when a level has none (重心下移, 属地兜底).
"""

from dataclasses import dataclass, field
from datetime import datetime

from .models import LEVEL_ORDER, HandlingLevel, SubjectKind


@dataclass(frozen=True)
class RouteContext:
    subject_code: str
    subject_kind: str
    request_type_code: str | None
    area_code: str
    urgency: str
    local_time: datetime  # in the city's time zone


@dataclass
class Route:
    unit_id: int | None
    level: str  # a HandlingLevel, or "department"
    cohandler_ids: list[int] = field(default_factory=list)
    rule_id: int | None = None
    reason: str = ""

    def as_dict(self) -> dict:
        return {"unit_id": self.unit_id, "level": self.level, "cohandler_ids": self.cohandler_ids,
                "rule_id": self.rule_id, "reason": self.reason}


def _in_window(rule, t: datetime) -> bool:
    if rule.weekdays and str(t.isoweekday()) not in rule.weekdays:
        return False
    if rule.time_from is None and rule.time_to is None:
        return True
    now = t.time()
    start, end = rule.time_from, rule.time_to
    if start is None:
        return now < end
    if end is None:
        return now >= start
    if start <= end:
        return start <= now < end
    return now >= start or now < end  # overnight window, e.g. 18:00–08:00


def rule_matches(rule, ctx: RouteContext) -> bool:
    """Does `rule` (a RoutingRule with subject/request_type loaded) apply to `ctx`?"""
    if not rule.active:
        return False
    if rule.subject_id and not ctx.subject_code.startswith(rule.subject.code):
        return False
    if rule.request_type_id and (ctx.request_type_code or "") != rule.request_type.code:
        return False
    if rule.area_prefix and not ctx.area_code.startswith(rule.area_prefix):
        return False
    if rule.urgency and rule.urgency != ctx.urgency:
        return False
    return _in_window(rule, ctx.local_time)


class RuleIndex:
    """The active rules, in the order they are tried, ready for matching many orders.

    Matching the same as `rule_matches` rule by rule, but each rule's codes are read once (not
    through its related objects per order), and only the rules that can match a subject are
    tried for it: those without a subject and those whose subject code prefixes it, kept per
    subject code in their original order. With a hundred rules this is most of routing's cost.
    """

    def __init__(self, rules):
        self.rules = tuple(rules)
        self._compiled = [
            (rule, rule.subject.code if rule.subject_id else "",
             rule.request_type.code if rule.request_type_id else None, rule.area_prefix or "", rule.urgency or "",
             bool(rule.weekdays) or rule.time_from is not None or rule.time_to is not None)
            for rule in self.rules if rule.active]
        self._by_subject: dict[str, list[tuple]] = {}

    def __iter__(self):
        return iter(self.rules)

    def _for_subject(self, code: str) -> list[tuple]:
        found = self._by_subject.get(code)
        if found is None:
            found = [c[:1] + c[2:] for c in self._compiled if code.startswith(c[1])]
            self._by_subject[code] = found  # a dict write is atomic: threads may share the index
        return found

    def first(self, ctx: RouteContext):
        area, urgency, rt = ctx.area_code, ctx.urgency, ctx.request_type_code or ""
        for rule, rule_rt, prefix, rule_urgency, windowed in self._for_subject(ctx.subject_code):
            if rule_rt is not None and rt != rule_rt:
                continue
            if prefix and not area.startswith(prefix):
                continue
            if rule_urgency and rule_urgency != urgency:
                continue
            if windowed and not _in_window(rule, ctx.local_time):
                continue
            return rule
        return None


def first_match(rules, ctx: RouteContext):
    """The first rule of `rules` (a RuleIndex or any sequence of rules) that applies to `ctx`."""
    if isinstance(rules, RuleIndex):
        return rules.first(ctx)
    for rule in rules:
        if rule_matches(rule, ctx):
            return rule
    return None


# Each level and the levels above it, by name (every order is routed through here).
_CLIMB = {str(lvl): tuple(str(above) for above in LEVEL_ORDER[i:]) for i, lvl in enumerate(LEVEL_ORDER)}


def territorial_unit(territorial: dict[str, int], level: str, exclude: set[int]) -> tuple[int | None, str]:
    """The unit at `level` covering the point, climbing to the next level up when there is none."""
    climb = _CLIMB.get(level)
    if climb is None:
        climb = _CLIMB[str(HandlingLevel(level))]  # refuses an unknown level, as the enum does
    for lvl in climb:
        unit_id = territorial.get(lvl)
        if unit_id is not None and unit_id not in exclude:
            return unit_id, lvl
    return None, ""


def _subject_defaults(subject_chain) -> tuple[str, int | None]:
    level = next((s.default_level for s in subject_chain if s.default_level), "")
    dept = next((s.default_department_id for s in subject_chain if s.default_department_id), None)
    return level, dept


DEFAULT_LEVEL = {
    # Residents' calls go to the community first; patrol events to the grid that found them.
    SubjectKind.REQUEST: HandlingLevel.COMMUNITY,
    SubjectKind.EVENT: HandlingLevel.GRID,
    SubjectKind.COMPONENT: HandlingLevel.COMMUNITY,
}


def route(*, ctx: RouteContext, rules, subject_chain, territorial: dict[str, int],
          exclude: set[int] = frozenset()) -> Route:
    """Pick the handling unit: the first matching rule, else the subject's defaults.

    `territorial` maps a level to the territorial unit covering the order's location; `exclude`
    holds units that must not get it again (they returned it).
    """
    rule = first_match(rules, ctx)
    if rule is not None:
        if rule.target_unit_id and rule.target_unit_id not in exclude:
            co_level = rule.cohandler_level or HandlingLevel.COMMUNITY
            co, _lvl = territorial_unit(territorial, co_level, exclude)
            return Route(rule.target_unit_id, "department", [co] if co else [], rule.id, "rule")
        if rule.target_level:
            unit, lvl = territorial_unit(territorial, rule.target_level, exclude)
            if unit is not None:
                return Route(unit, lvl, [], rule.id, "rule")
    level, dept = _subject_defaults(subject_chain)
    if dept in exclude:
        dept = None
    kind = ctx.subject_kind
    owner_first = kind == SubjectKind.COMPONENT or (kind == SubjectKind.REQUEST and not level)
    base_level = level or DEFAULT_LEVEL.get(kind, HandlingLevel.COMMUNITY)
    if dept and owner_first:
        co, _lvl = territorial_unit(territorial, base_level, exclude)
        return Route(dept, "department", [co] if co else [], None, "owner_first")
    unit, lvl = territorial_unit(territorial, base_level, exclude)
    if unit is not None:
        return Route(unit, lvl, [dept] if dept else [], None, "territory_first")
    if dept:
        return Route(dept, "department", [], None, "owner_fallback")
    return Route(None, "", [], None, "no_unit")
