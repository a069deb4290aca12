"""Star rating (评星定级): rule sets, yearly scores computed from recorded activity, the review.

Scores are never typed in: `member_facts` reads what was recorded (attendance, service, wishes
done, reporting, half-year returns, grid posts) and `party.rating.score_year` turns it into a
score. The organisation can only adjust the result, with a reason, and the audit keeps both.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, Min, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core import facts
from huying.core.audit import audit_log
from huying.core.errors import DomainError

from .. import access
from ..models import (
    ActivityStatus,
    Attendance,
    AttendanceStatus,
    GridInstructor,
    HalfYearReturn,
    Member,
    MemberReport,
    MemberStatus,
    Need,
    NeedStatus,
    PartyOrganisation,
    ReportStatus,
    ServiceRecord,
    StarRating,
    StarRuleSet,
)
from ..rating import DEFAULT_RULES, Facts, Record, Rules, adjusted, score_year
from .common import forbid, now_or, require_org_manager

MAX_ADJUSTMENT = Decimal(50)


# -- rule sets ---------------------------------------------------------------------------------
def _rule_set_dict(rs: StarRuleSet) -> dict:
    return {"name": rs.name, "period": rs.period, "base": str(rs.base),
            "max_total": None if rs.max_total is None else str(rs.max_total), "items": rs.items,
            "thresholds": rs.thresholds, "report_required": rs.report_required, "is_default": rs.is_default}


@transaction.atomic
def star_rule_set_create(
    *,
    name: str,
    items: list[dict],
    thresholds: list,
    actor,
    period: str = "year",
    base=0,
    max_total=100,
    report_required: bool = True,
    is_default: bool = False,
) -> StarRuleSet:
    """An administrator defines a rule set; the data is validated as the calculator will read it."""
    if actor is not None and not access.is_admin(actor):
        forbid(_("只有管理员可以制定评星规则。"))
    name = (name or "").strip()
    if not name:
        raise DomainError("party.rules.name_required", _("请填写规则名称。"), field="name")
    if StarRuleSet.objects.filter(name=name).exists():
        raise DomainError("party.rules.name_taken", _("规则名称已被使用。"), field="name", status=409)
    rules = Rules.build(name=name, period=period, base=base, max_total=max_total, items=items,
                        thresholds=thresholds, report_required=report_required)
    if is_default:
        StarRuleSet.objects.filter(is_default=True).update(is_default=False)
    rs = StarRuleSet.objects.create(
        name=name, period=rules.period, base=rules.base, max_total=rules.max_total,
        items=[i.as_dict() for i in rules.items], thresholds=[str(t) for t in rules.thresholds],
        report_required=rules.report_required, is_default=is_default)
    audit_log(rs, "party.rules.created", actor=actor, new=_rule_set_dict(rs))
    return rs


def star_rule_set_default() -> StarRuleSet:
    """The default rule set (DOMAIN.md §3), created on first use."""
    rs = StarRuleSet.objects.filter(is_default=True).first()
    if rs is not None:
        return rs
    existing = StarRuleSet.objects.filter(name=DEFAULT_RULES["name"]).first()
    if existing is not None:
        return existing
    return star_rule_set_create(**DEFAULT_RULES, actor=None, is_default=True)


@transaction.atomic
def star_rule_set_thresholds_set(rule_set: StarRuleSet, *, thresholds: list, actor, reason: str = "") -> StarRuleSet:
    """The administrator sets the star thresholds (minimum for 5★, 4★, 3★, 2★)."""
    if not access.is_admin(actor):
        forbid(_("只有管理员可以设置星级分数线。"))
    rs = StarRuleSet.objects.select_for_update(of=("self",)).get(pk=rule_set.pk)
    if StarRating.objects.filter(rule_set=rs).exists():
        # stars already given must stay explainable by the rules that gave them: change a new version
        raise DomainError("party.rules.in_use", _("该规则已用于评星，不能修改；请新建一个版本。"), status=409)
    rules = Rules.build(name=rs.name, period=rs.period, base=rs.base, max_total=rs.max_total, items=rs.items,
                        thresholds=thresholds, report_required=rs.report_required)
    old = {"thresholds": rs.thresholds}
    rs.thresholds = [str(t) for t in rules.thresholds]
    rs.save(update_fields=["thresholds"])
    audit_log(rs, "party.rules.thresholds_set", actor=actor, old=old, new={"thresholds": rs.thresholds},
              reason=reason)
    return rs


def rule_set_for(organisation: PartyOrganisation) -> StarRuleSet:
    return organisation.rule_set if organisation.rule_set_id else star_rule_set_default()


# -- the facts ---------------------------------------------------------------------------------
def _month(value) -> date:
    if hasattr(value, "date") and callable(value.date):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.date().replace(day=1)
    return value.replace(day=1)


def member_facts(member_ids: list[int], *, year: int) -> dict[int, Facts]:
    """The recorded activity of these members in `year`, tallied per month, ready for the calculator.

    A handful of grouped queries whatever the number of members, so a whole organisation (or the
    city, in the simulation) is scored without a query per member.
    """
    start, end = date(year, 1, 1), date(year, 12, 31)
    records: dict[int, list[Record]] = defaultdict(list)

    def add(rows, source, key):
        for r in rows:
            records[r[key]].append(Record(source, _month(r["m"]), Decimal(r["n"] or 0)))

    att = Attendance.objects.filter(member_id__in=member_ids, activity__status=ActivityStatus.HELD,
                                    activity__held_at__date__gte=start, activity__held_at__date__lte=end)
    for status, source in ((AttendanceStatus.PRESENT, "attendance"), (AttendanceStatus.ABSENT, "absence")):
        add(att.filter(status=status).annotate(m=TruncMonth("activity__held_at")).values("member_id", "m")
            .annotate(n=Count("id")).order_by(), source, "member_id")
    services = (ServiceRecord.objects.filter(member_id__in=member_ids, confirmed=True, served_on__gte=start,
                                             served_on__lte=end)
                .annotate(m=TruncMonth("served_on")).values("member_id", "m")
                .annotate(n=Count("id"), h=Sum("hours")).order_by())
    for r in services:
        records[r["member_id"]].append(Record("service_count", _month(r["m"]), Decimal(r["n"])))
        records[r["member_id"]].append(Record("service_hours", _month(r["m"]), Decimal(r["h"] or 0)))
    add(Need.objects.filter(claimed_by_member_id__in=member_ids, status=NeedStatus.DONE, done_at__date__gte=start,
                            done_at__date__lte=end)
        .annotate(m=TruncMonth("done_at")).values("claimed_by_member_id", "m").annotate(n=Count("id")).order_by(),
        "needs_done", "claimed_by_member_id")
    for mid, period in HalfYearReturn.objects.filter(member_id__in=member_ids, period__startswith=str(year)
                                                     ).values_list("member_id", "period"):
        records[mid].append(Record("half_year_return", date(year, 6, 1) if period.endswith("H1") else date(year, 12, 1)))
    for mid, s, e in GridInstructor.objects.filter(member_id__in=member_ids, started_on__lte=end).exclude(
            ended_on__lt=start).values_list("member_id", "started_on", "ended_on"):
        first = max(s, start).replace(day=1)
        last = min(e or end, end).replace(day=1)
        month = first
        while month <= last:
            records[mid].append(Record("grid_instructor", month))
            month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    # sources other apps register (community's volunteer hours …): counted when a rule set names them
    user_of = dict(Member.objects.filter(pk__in=member_ids).values_list("user_id", "pk"))
    for source in facts.sources().values():
        for uid, month, quantity in source.fn(list(user_of), start=start, end=end):
            records[user_of[uid]].append(Record(source.code, _month(month), Decimal(quantity or 0)))
    reported = {mid: timezone.localtime(at).date() if timezone.is_aware(at) else at.date()
                for mid, at in MemberReport.objects.filter(member_id__in=member_ids, status=ReportStatus.CONFIRMED)
                .values("member_id").annotate(at=Min("decided_at")).values_list("member_id", "at") if at}
    in_service = dict(Member.objects.filter(pk__in=member_ids).values_list("pk", "in_service"))
    return {mid: Facts(records=tuple(records.get(mid, ())), reported_on=reported.get(mid),
                       in_service=in_service.get(mid, True)) for mid in member_ids}


# -- ratings -----------------------------------------------------------------------------------
def _apply(rating: StarRating, rules: Rules, result, *, member: Member, now) -> None:
    rating.computed_score = result.score
    rating.reported = result.reported
    rating.explanation = result.explanation(rules)
    rating.computed_at = now
    score, stars, grade, capped = adjusted(rules, result.score, rating.adjustment or Decimal(0),
                                           must_report=member.in_service, reported=result.reported)
    rating.score, rating.stars, rating.grade = score, stars, grade
    rating.explanation["adjustment"] = str(rating.adjustment or 0)
    rating.explanation["final"] = {"score": str(score), "stars": stars, "grade": grade, "report_capped": capped}


def _rating_dict(r: StarRating) -> dict:
    return {"year": r.year, "rule_set": r.rule_set.name, "computed_score": str(r.computed_score),
            "adjustment": str(r.adjustment), "score": str(r.score), "stars": r.stars, "grade": r.grade,
            "reported": r.reported}


def _compute(members: list[Member], *, year: int, rule_set: StarRuleSet | None, actor, now) -> list[StarRating]:
    facts = member_facts([m.pk for m in members], year=year)
    existing = {r.member_id: r for r in StarRating.objects.select_for_update(of=("self",)).filter(
        member__in=members, year=year)}
    out = []
    for member in members:
        rs = rule_set or rule_set_for(member.organisation)
        rules = Rules.from_model(rs)
        result = score_year(rules, facts[member.pk], year=year)
        rating = existing.get(member.pk) or StarRating(member=member, year=year)
        old = _rating_dict(rating) if rating.pk else None
        rating.rule_set = rs
        _apply(rating, rules, result, member=member, now=now)
        rating.save()
        audit_log(rating, "party.rating.computed", actor=actor, old=old, new=_rating_dict(rating))
        out.append(rating)
    return out


@transaction.atomic
def star_rating_compute(member: Member, *, year: int, actor, now=None, rule_set: StarRuleSet | None = None
                        ) -> StarRating:
    """Compute (or recompute) a member's stars for `year` from what was recorded; a review's
    adjustment is kept and applied again."""
    now = now_or(now)
    member = Member.objects.select_related("organisation__unit", "organisation__rule_set", "user").get(pk=member.pk)
    require_org_manager(actor, member.organisation)
    if member.status != MemberStatus.ACTIVE:
        raise DomainError("party.rating.not_rated", _("该党员免评或已转出，不参加评星。"), status=409)
    return _compute([member], year=year, rule_set=rule_set, actor=actor, now=now)[0]


@transaction.atomic
def star_ratings_compute(organisation: PartyOrganisation, *, year: int, actor, now=None) -> int:
    """Compute the stars of every rated member of an organisation; returns how many."""
    now = now_or(now)
    require_org_manager(actor, organisation)
    members = list(Member.objects.filter(organisation=organisation, status=MemberStatus.ACTIVE)
                   .select_related("organisation__rule_set", "user"))
    return len(_compute(members, year=year, rule_set=None, actor=actor, now=now))


@transaction.atomic
def star_rating_adjust(rating: StarRating, *, adjustment, reason: str, actor, now=None) -> StarRating:
    """The organisation reviews (民主评议) and adjusts the computed score, giving its reason."""
    now = now_or(now)
    rating = StarRating.objects.select_for_update(of=("self",)).select_related(
        "member__organisation__unit", "rule_set").get(pk=rating.pk)
    require_org_manager(actor, rating.member.organisation)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("party.rating.reason_required", _("调整评星结果必须填写理由。"), field="reason")
    try:
        adjustment = Decimal(str(adjustment)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError, TypeError):
        raise DomainError("party.rating.bad_adjustment", _("调整分值应为数字。"), field="adjustment") from None
    if abs(adjustment) > MAX_ADJUSTMENT:
        raise DomainError("party.rating.bad_adjustment", _("调整分值不能超过 ±50 分。"), field="adjustment")
    rules = Rules.from_model(rating.rule_set)
    old = _rating_dict(rating)
    score, stars, grade, capped = adjusted(rules, rating.computed_score, adjustment,
                                           must_report=rating.member.in_service, reported=rating.reported)
    rating.adjustment, rating.score, rating.stars, rating.grade = adjustment, score, stars, grade
    rating.review_reason, rating.reviewed_by, rating.reviewed_at = reason, actor, now
    rating.explanation = {**rating.explanation, "adjustment": str(adjustment), "review_reason": reason,
                          "final": {"score": str(score), "stars": stars, "grade": grade, "report_capped": capped}}
    rating.save()
    audit_log(rating, "party.rating.adjusted", actor=actor, old=old, new=_rating_dict(rating), reason=reason)
    return rating
