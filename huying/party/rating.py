"""Star rating (评星定级) as a pure calculator: a rule set and a member's activity records in, a
score, stars, a grade and the explanation of every point out. No database here.

How a year is scored:
- the year is cut into the rule set's periods (year, half or quarter);
- in each period every item counts the records of its source, times its points, up to its cap
  (a negative item deducts, down to minus its cap); the period total is base + items, kept
  between 0 and `max_total` (no upper bound when it is None, the "branch variant");
- the year's score is the mean of its period totals, so a quarterly rule set and a yearly one
  both land on the same scale;
- stars follow the administrator's thresholds (default ≥90/80/70/60: 5★ … 2★, below: 1★);
- the 民主评议 grade follows the stars (5★ 优秀, 4–3★ 合格, 2★ 基本合格, 1★ 不合格). If the rule
  set requires reporting and an in-service member had not reported by the year's end, the grade
  is at most 基本合格 and the stars at most 2 (DOMAIN.md §3, 佛山 2020).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from huying.core import facts
from huying.core.errors import DomainError

# What the calculator can count. Each is produced from recorded activity (see party.services.rating).
SOURCES = {
    "attendance": "出席组织生活/联合活动（次）",
    "absence": "无故缺席（次）",
    "reported": "到居住社区报到（已确认）",
    "not_reported": "在职党员未报到",
    "half_year_return": "社区半年反馈（份）",
    "needs_done": "认领并完成微心愿/社区需求（件）",
    "service_count": "服务记录（次）",
    "service_hours": "服务时长（小时）",
    "grid_instructor": "担任网格指导员（月）",
}
# Sources that are a state in the period (counted once), not a tally of events.
FLAG_SOURCES = frozenset({"reported", "not_reported"})
PERIODS = ("year", "half", "quarter")

GRADE_EXCELLENT, GRADE_QUALIFIED, GRADE_BASIC, GRADE_UNQUALIFIED = "excellent", "qualified", "basic", "unqualified"
GRADE_ORDER = (GRADE_UNQUALIFIED, GRADE_BASIC, GRADE_QUALIFIED, GRADE_EXCELLENT)
GRADE_BY_STARS = {5: GRADE_EXCELLENT, 4: GRADE_QUALIFIED, 3: GRADE_QUALIFIED, 2: GRADE_BASIC, 1: GRADE_UNQUALIFIED}
# The most a member who must report but did not can get.
UNREPORTED_MAX_STARS = 2
UNREPORTED_MAX_GRADE = GRADE_BASIC

ONE_DECIMAL = Decimal("0.1")


def _dec(value, what: str) -> Decimal:
    try:
        out = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise DomainError("party.rules.bad_number", _("%(what)s 应为数字。") % {"what": what}, field=what) from None
    if not out.is_finite():
        raise DomainError("party.rules.bad_number", _("%(what)s 应为数字。") % {"what": what}, field=what)
    return out


def q1(value: Decimal) -> Decimal:
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Item:
    code: str
    label: str
    source: str
    points: Decimal  # per unit of the source (per session, per hour, once for a flag)
    cap: Decimal | None = None  # per period; None: no cap
    negative: bool = False

    def as_dict(self) -> dict:
        return {"code": self.code, "label": self.label, "source": self.source, "points": str(self.points),
                "cap": None if self.cap is None else str(self.cap), "negative": self.negative}


@dataclass(frozen=True)
class Rules:
    """A validated rule set."""

    name: str
    period: str
    base: Decimal
    max_total: Decimal | None
    items: tuple[Item, ...]
    thresholds: tuple[Decimal, Decimal, Decimal, Decimal]  # minimum for 5★, 4★, 3★, 2★
    report_required: bool = True

    @classmethod
    def build(cls, *, name: str, period: str, base, max_total, items: Iterable[Mapping], thresholds,
              report_required: bool = True) -> Rules:
        """Validate rule-set data (as stored in StarRuleSet) and build it; DomainError names what is wrong."""
        if period not in PERIODS:
            raise DomainError("party.rules.bad_period", _("计分周期应为年度、半年或季度。"), field="period")
        built: list[Item] = []
        seen: set[str] = set()
        for raw in items or ():
            code = str(raw.get("code") or "").strip()
            if not code or code in seen:
                raise DomainError("party.rules.bad_item_code", _("每个计分项目需要唯一的代码。"), field="items")
            seen.add(code)
            source = raw.get("source")
            if source not in SOURCES and source not in facts.sources():
                raise DomainError("party.rules.bad_source", _("计分项目 %(code)s 的数据来源无效。") % {"code": code},
                                  field="items")
            points = _dec(raw.get("points"), "points")
            cap = None if raw.get("cap") in (None, "") else _dec(raw.get("cap"), "cap")
            if points < 0 or (cap is not None and cap < 0):
                raise DomainError("party.rules.negative_points",
                                  _("分值和上限填正数；扣分项目用“扣分”标记。"), field="items")
            default_label = SOURCES[source] if source in SOURCES else str(facts.sources()[source].label)
            built.append(Item(code=code, label=str(raw.get("label") or default_label), source=source,
                              points=points, cap=cap, negative=bool(raw.get("negative"))))
        if not built:
            raise DomainError("party.rules.no_items", _("至少需要一个计分项目。"), field="items")
        ts = [_dec(t, "thresholds") for t in (thresholds or ())]
        if len(ts) != 4 or any(a <= b for a, b in zip(ts, ts[1:], strict=False)):
            raise DomainError("party.rules.bad_thresholds",
                              _("星级分数线需要四个从高到低的分数（五星、四星、三星、二星）。"), field="thresholds")
        max_total = None if max_total in (None, "") else _dec(max_total, "max_total")
        return cls(name=name, period=period, base=_dec(base or 0, "base"), max_total=max_total,
                   items=tuple(built), thresholds=tuple(ts), report_required=bool(report_required))

    @classmethod
    def from_model(cls, rs) -> Rules:
        return cls.build(name=rs.name, period=rs.period, base=rs.base, max_total=rs.max_total, items=rs.items,
                         thresholds=rs.thresholds, report_required=rs.report_required)


# The default from DOMAIN.md §3 (example scheme, 100-point scale): 组织生活/学习 30 at 1 point a
# session; 履行义务 8 (here the two duties we record: reporting and the half-year returns);
# 承诺践诺 20; 服务群众 10; the rest of the 100 on what this system records (hours, grid posts).
DEFAULT_RULES = {
    "name": "默认评星规则（百分制）",
    "period": "year",
    "base": "0",
    "max_total": "100",
    "items": [
        {"code": "org_life", "label": "组织生活/学习（每次 1 分）", "source": "attendance", "points": "1", "cap": "30"},
        {"code": "absence", "label": "无故缺席组织生活（每次扣 2 分）", "source": "absence", "points": "2",
         "cap": "10", "negative": True},
        {"code": "duty_report", "label": "履行义务：到居住社区报到", "source": "reported", "points": "4", "cap": "4"},
        {"code": "duty_return", "label": "履行义务：社区半年反馈（每份 2 分）", "source": "half_year_return",
         "points": "2", "cap": "4"},
        {"code": "promise", "label": "承诺践诺：认领并完成微心愿/社区需求（每件 5 分）", "source": "needs_done",
         "points": "5", "cap": "20"},
        {"code": "serve", "label": "服务群众（每次 1 分）", "source": "service_count", "points": "1", "cap": "10"},
        {"code": "hours", "label": "志愿服务时长（每小时 0.5 分）", "source": "service_hours", "points": "0.5",
         "cap": "20"},
        {"code": "grid", "label": "担任网格指导员（每月 1 分）", "source": "grid_instructor", "points": "1", "cap": "12"},
    ],
    "thresholds": ["90", "80", "70", "60"],
    "report_required": True,
}


@dataclass(frozen=True)
class Record:
    """One recorded fact: `quantity` of `source` on day `on` (e.g. 2.5 service hours on 3 May)."""

    source: str
    on: date
    quantity: Decimal = Decimal(1)


@dataclass(frozen=True)
class Facts:
    """A member's recorded activity for the calculator."""

    records: tuple[Record, ...] = ()
    reported_on: date | None = None  # the day their report to the community was confirmed
    in_service: bool = True


@dataclass(frozen=True)
class Line:
    code: str
    label: str
    source: str
    quantity: Decimal
    raw: Decimal
    points: Decimal
    capped: bool

    def as_dict(self) -> dict:
        return {"code": self.code, "label": self.label, "source": self.source, "quantity": str(self.quantity),
                "raw": str(self.raw), "points": str(self.points), "capped": self.capped}


@dataclass(frozen=True)
class PeriodScore:
    label: str
    start: date
    end: date  # inclusive
    base: Decimal
    lines: tuple[Line, ...]
    total: Decimal
    clamped: bool

    def as_dict(self) -> dict:
        return {"label": self.label, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "base": str(self.base), "lines": [ln.as_dict() for ln in self.lines], "total": str(self.total),
                "clamped": self.clamped}


@dataclass(frozen=True)
class Result:
    score: Decimal
    stars: int
    grade: str
    reported: bool
    report_capped: bool
    periods: tuple[PeriodScore, ...] = field(default_factory=tuple)

    def explanation(self, rules: Rules) -> dict:
        """What the member sees: every period, every item, and why the stars are what they are."""
        return {
            "rule_set": rules.name,
            "period": rules.period,
            "thresholds": [str(t) for t in rules.thresholds],
            "report_required": rules.report_required,
            "periods": [p.as_dict() for p in self.periods],
            "score": str(self.score),
            "stars": self.stars,
            "grade": self.grade,
            "reported": self.reported,
            "report_capped": self.report_capped,
        }


def periods_of(year: int, period: str) -> list[tuple[str, date, date]]:
    if period == "year":
        return [(str(year), date(year, 1, 1), date(year, 12, 31))]
    months = 6 if period == "half" else 3
    out = []
    for i, first in enumerate(range(1, 13, months)):
        last = first + months - 1
        label = f"{year}H{i + 1}" if period == "half" else f"{year}Q{i + 1}"
        out.append((label, date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])))
    return out


def stars_for(score: Decimal, thresholds) -> int:
    for stars, minimum in zip((5, 4, 3, 2), thresholds, strict=True):
        if score >= minimum:
            return stars
    return 1


def grade_and_stars(score: Decimal, rules: Rules, *, must_report: bool, reported: bool) -> tuple[int, str, bool]:
    """Stars and grade for a score; the third value says the reporting rule lowered them."""
    stars = stars_for(score, rules.thresholds)
    grade = GRADE_BY_STARS[stars]
    if rules.report_required and must_report and not reported:
        capped_stars = min(stars, UNREPORTED_MAX_STARS)
        capped_grade = min(grade, UNREPORTED_MAX_GRADE, key=GRADE_ORDER.index)
        return capped_stars, capped_grade, (capped_stars, capped_grade) != (stars, grade)
    return stars, grade, False


def _period_score(rules: Rules, facts: Facts, label: str, start: date, end: date) -> PeriodScore:
    tallies: dict[str, Decimal] = {}
    for r in facts.records:
        if start <= r.on <= end:
            tallies[r.source] = tallies.get(r.source, Decimal(0)) + Decimal(r.quantity)
    reported = facts.reported_on is not None and facts.reported_on <= end
    tallies["reported"] = Decimal(1 if reported else 0)
    tallies["not_reported"] = Decimal(1 if (facts.in_service and not reported) else 0)
    lines = []
    total = rules.base
    for item in rules.items:
        qty = tallies.get(item.source, Decimal(0))
        if item.source in FLAG_SOURCES:
            qty = min(qty, Decimal(1))
        raw = qty * item.points
        pts = raw if item.cap is None else min(raw, item.cap)
        capped = pts != raw
        if item.negative:
            pts = -pts
            raw = -raw
        pts = q1(pts)
        lines.append(Line(item.code, item.label, item.source, qty, q1(raw), pts, capped))
        total += pts
    clamped_total = max(total, Decimal(0))
    if rules.max_total is not None:
        clamped_total = min(clamped_total, rules.max_total)
    return PeriodScore(label, start, end, rules.base, tuple(lines), q1(clamped_total), clamped_total != total)


def score_year(rules: Rules, facts: Facts, *, year: int) -> Result:
    """Score one member's year under `rules` from their recorded activity."""
    periods = tuple(_period_score(rules, facts, label, s, e) for label, s, e in periods_of(year, rules.period))
    score = q1(sum((p.total for p in periods), Decimal(0)) / len(periods))
    reported = facts.reported_on is not None and facts.reported_on <= date(year, 12, 31)
    stars, grade, capped = grade_and_stars(score, rules, must_report=facts.in_service, reported=reported)
    return Result(score=score, stars=stars, grade=grade, reported=reported, report_capped=capped, periods=periods)


def adjusted(rules: Rules, computed: Decimal, adjustment: Decimal, *, must_report: bool,
             reported: bool) -> tuple[Decimal, int, str, bool]:
    """The organisation's review: the computed score plus an adjustment; the reporting rule still holds."""
    score = q1(max(Decimal(0), computed + adjustment))
    if rules.max_total is not None:
        score = min(score, rules.max_total)
    stars, grade, capped = grade_and_stars(score, rules, must_report=must_report, reported=reported)
    return score, stars, grade, capped
