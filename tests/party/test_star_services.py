"""Stars computed from what was recorded (never typed in), under two rule sets; the review."""

from datetime import date
from decimal import Decimal as D

import pytest

from huying.core.audit import audit_trail
from huying.core.errors import DomainError
from huying.party import selectors
from huying.party import services as s
from huying.party.models import ActivityType, AttendanceStatus, NeedKind, ServiceKind, StarRating

from .conftest import at

BRANCH = dict(
    name="支部加减分制", period="quarter", base="100", max_total=None, report_required=False,
    thresholds=["115", "108", "100", "90"],
    items=[{"code": "meet", "source": "attendance", "points": "2", "cap": "6"},
           {"code": "miss", "source": "absence", "points": "5", "negative": True},
           {"code": "hours", "source": "service_hours", "points": "1"},
           {"code": "unrep", "source": "not_reported", "points": "10", "negative": True}])


@pytest.fixture
def year(city, members):
    """A year of alice's recorded activity, through the services, as the community would record it."""
    u, o, comm = city.user, city.org, city.div["440104003001"]
    alice = members.alice
    r = s.member_report_submit(alice, actor=alice.user, now=at(2024, 1, 10, 9))
    s.member_report_confirm(r, actor=u.lsj_secretary, now=at(2024, 1, 11, 9))

    def held(when, status_by_member):
        act = s.joint_activity_plan(community=comm, activity_type=ActivityType.THEME_DAY, title="主题党日",
                                    planners=[o["metro"].unit], planned_at=when, actor=u.lsj_secretary)
        s.joint_activity_record(act, attendance=status_by_member, minutes="记录", held_at=when,
                                actor=u.lsj_secretary, now=when)

    P, A = AttendanceStatus.PRESENT, AttendanceStatus.ABSENT
    held(at(2024, 1, 20, 9), {alice: P, members.carol: P})
    held(at(2024, 4, 15, 9), {alice: P, members.carol: P})
    held(at(2024, 4, 30, 9), {alice: A, members.carol: P})
    held(at(2024, 10, 1, 9), {alice: P, members.carol: P})
    wish = s.need_post(community=comm, kind=NeedKind.WISH, title="读报", actor=u.lsj_secretary, now=at(2024, 2, 1, 9))
    s.need_claim(wish, member=alice, actor=alice.user, now=at(2024, 2, 2, 9))
    s.need_complete(wish, hours="2.5", actor=u.lsj_secretary, now=at(2024, 2, 5, 18))
    s.service_record_add(member=alice, kind=ServiceKind.OTHER, hours=3, served_on=date(2024, 4, 6),
                         actor=u.lsj_secretary, now=at(2024, 4, 6, 20))
    # recorded by herself and never confirmed: does not count
    s.service_record_add(member=alice, kind=ServiceKind.OTHER, hours=8, served_on=date(2024, 5, 6),
                         actor=alice.user, now=at(2024, 5, 6, 20))
    s.grid_instructor_assign(city.grid["440104003001001"], member=alice, actor=u.lsj_secretary,
                             started_on=date(2024, 3, 15))
    s.half_year_returns_send(comm, period="2024H1", actor=u.lsj_secretary, now=at(2024, 7, 2, 9))
    return members


def test_default_rule_set_from_recorded_activity(city, year):
    u, alice = city.user, year.alice
    rating = s.star_rating_compute(alice, year=2024, actor=u.metro_secretary, now=at(2025, 1, 5, 9))
    lines = {ln["code"]: ln["points"] for ln in rating.explanation["periods"][0]["lines"]}
    # 3 sessions, 1 absence, reported, 1 return, 1 wish, 2 services of 5.5 h, grid instructor Mar–Dec
    assert lines == {"org_life": "3.0", "absence": "-2.0", "duty_report": "4.0", "duty_return": "2.0",
                     "promise": "5.0", "serve": "2.0", "hours": "2.8", "grid": "10.0"}
    assert (rating.computed_score, rating.score, rating.stars, rating.grade) == (D("26.8"), D("26.8"), 1,
                                                                                "unqualified")
    assert rating.rule_set.is_default and rating.reported
    assert audit_trail(rating).get().action == "party.rating.computed"


def test_branch_rule_set_from_the_same_record(city, year):
    u, alice = city.user, year.alice
    branch = s.star_rule_set_create(**BRANCH, actor=u.root)
    rating = s.star_rating_compute(alice, year=2024, actor=u.metro_secretary, rule_set=branch, now=at(2025, 1, 5, 9))
    # Q1 100+2+2.5, Q2 100+2−5+3, Q3 100, Q4 100+2 → mean 101.625
    assert [p["total"] for p in rating.explanation["periods"]] == ["104.5", "100.0", "100.0", "102.0"]
    assert (rating.score, rating.stars, rating.grade) == (D("101.6"), 3, "qualified")


def test_organisation_rule_set_and_the_reporting_rule(city, year):
    """carol attended four times but never reported: the rule set decides whether that caps her."""
    u, carol = city.user, year.carol
    strict = s.star_rule_set_create(name="严格", period="year", base="90", max_total="100", thresholds=[90, 80, 70, 60],
                                    items=[{"code": "a", "source": "attendance", "points": "1"}], actor=u.root)
    lenient = s.star_rule_set_create(name="宽松", period="year", base="90", max_total="100", report_required=False,
                                     thresholds=[90, 80, 70, 60],
                                     items=[{"code": "a", "source": "attendance", "points": "1"}], actor=u.root)
    hospital = city.org["hospital"]
    hospital.rule_set = strict
    hospital.save(update_fields=["rule_set"])
    r = s.star_rating_compute(carol, year=2024, actor=u.hosp_secretary, now=at(2025, 1, 5, 9))
    assert (r.score, r.stars, r.grade, r.reported) == (D("94"), 2, "basic", False)
    assert r.explanation["report_capped"]
    r = s.star_rating_compute(carol, year=2024, actor=u.hosp_secretary, rule_set=lenient, now=at(2025, 1, 6, 9))
    assert (r.score, r.stars, r.grade) == (D("94"), 5, "excellent")
    assert StarRating.objects.filter(member=carol).count() == 1  # recomputed, not duplicated


def test_review_adjusts_with_a_reason_and_survives_recomputation(city, year):
    u, alice = city.user, year.alice
    rating = s.star_rating_compute(alice, year=2024, actor=u.metro_secretary, now=at(2025, 1, 5, 9))
    with pytest.raises(DomainError) as e:
        s.star_rating_adjust(rating, adjustment=40, reason="", actor=u.metro_secretary)
    assert e.value.code == "party.rating.reason_required"
    with pytest.raises(DomainError) as e:
        s.star_rating_adjust(rating, adjustment=40, reason="x", actor=u.hosp_secretary)
    assert e.value.status == 403
    with pytest.raises(DomainError) as e:
        s.star_rating_adjust(rating, adjustment=60, reason="x", actor=u.metro_secretary)
    assert e.value.code == "party.rating.bad_adjustment"
    rating = s.star_rating_adjust(rating, adjustment="35", reason="抗疫志愿服务未在系统登记，经支部评议补记",
                                  actor=u.metro_secretary, now=at(2025, 1, 10, 9))
    assert (rating.computed_score, rating.score, rating.stars, rating.grade) == (D("26.8"), D("61.8"), 2, "basic")
    entry = audit_trail(rating).last()
    assert entry.action == "party.rating.adjusted" and entry.reason.startswith("抗疫")
    assert entry.old["score"] == "26.8" and entry.new["score"] == "61.8"
    # a late-confirmed record raises the computed score; the review's adjustment stays on top
    rec = s.service_record_add(member=alice, kind=ServiceKind.OTHER, hours=10, served_on=date(2024, 12, 1),
                               actor=u.lsj_secretary, now=at(2025, 1, 11, 9))
    assert rec.confirmed
    rating = s.star_rating_compute(alice, year=2024, actor=u.metro_secretary, now=at(2025, 1, 12, 9))
    assert (rating.computed_score, rating.adjustment, rating.score) == (D("32.8"), D("35"), D("67.8"))
    # how the score was made: for alice and her secretaries only
    explained = selectors.rating_explain(rating, actor=alice.user)
    assert explained["review_reason"].startswith("抗疫") and explained["final"]["score"] == "67.8"
    assert selectors.rating_explain(rating, actor=u.metro_secretary)["stars"] == 2
    with pytest.raises(DomainError):
        selectors.rating_explain(rating, actor=u.lsj_secretary)


def test_thresholds_are_the_administrators(city, year):
    u = city.user
    rs = s.star_rule_set_default()
    with pytest.raises(DomainError) as e:
        s.star_rule_set_thresholds_set(rs, thresholds=[40, 30, 20, 10], actor=u.metro_secretary)
    assert e.value.status == 403
    s.star_rule_set_thresholds_set(rs, thresholds=[40, 30, 20, 10], actor=u.root, reason="试行")
    assert s.star_ratings_compute(city.org["metro"], year=2024, actor=u.metro_secretary, now=at(2025, 1, 5, 9)) == 3
    stars = dict(StarRating.objects.values_list("member__user__username", "stars"))
    # alice 26.8 → 3★; bob and dave recorded nothing and never reported → 1★
    assert stars == {"alice": 3, "bob": 1, "dave": 1}
    # once it has rated someone the rule set is history: its thresholds can no longer move
    with pytest.raises(DomainError) as e:
        s.star_rule_set_thresholds_set(rs, thresholds=[90, 80, 70, 60], actor=u.root, reason="改线")
    assert e.value.code == "party.rules.in_use" and e.value.status == 409
