"""协同共治汇总: the co-governance figures of a territory, one row per child division, rolled up
street → district → city by code prefix.

Every figure is one aggregate query grouped by the first n characters of the place's code (the
child level's code length), so the page costs the same dozen queries for one street or for the
whole city, never a query per community. A record sits where its code says:
- halls, matters, disputes: the hall's community; canteens, meals, lifts, renovations: the project's
  community;
- volunteers: the unit that registered them (a committee or street office);
- hours: the unit of the team whose activity it was; patrols: the grid patrolled, else the
  stretch's community, else the patrolling team's unit;
- river stretches: their community, else the first grid they run through, else the unit of the
  first team that patrolled them.
A record whose code stops above the child level (a street's river-chief team seen from the street)
is counted in an "own level" row, so the rows always add up to the totals. Partner units are the
exception: one unit working in two areas is one unit in the total, so that total is a distinct count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import CharField, Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from huying.core.errors import DomainError
from huying.people.scope import scope_for
from huying.territory.models import Division, Level

from .models import (
    ActivitySignup,
    Canteen,
    CanteenMeal,
    Dispute,
    DisputeStatus,
    Hall,
    LiftOwner,
    LiftProject,
    LiftState,
    Matter,
    MatterStatus,
    OwnerVote,
    Patrol,
    PatrolFinding,
    Renovation,
    RenovationContribution,
    RiverStretch,
    VolunteerProfile,
)

# Length of a division code at each level (territory/models.py: codes are prefixes of their children's).
CODE_LENGTH = {Level.DISTRICT: 6, Level.STREET: 9, Level.COMMUNITY: 12}
CHILD_LEVEL = {Level.CITY: Level.DISTRICT, Level.DISTRICT: Level.STREET, Level.STREET: Level.COMMUNITY}
MAX_CODE = 15  # a grid code, the longest a scope can hold


@dataclass(frozen=True)
class Column:
    key: str
    label: object
    group: object
    hours: bool = False  # a Decimal shown with one decimal place


COLUMNS = (
    Column("halls", _l("议事厅"), _l("议事厅")),
    Column("matters", _l("议题"), _l("议事厅")),
    Column("matters_resolved", _l("形成决议"), _l("议事厅")),
    Column("disputes", _l("调解纠纷"), _l("议事厅")),
    Column("disputes_settled", _l("调解成功"), _l("议事厅")),
    Column("canteens", _l("长者饭堂"), _l("长者饭堂")),
    Column("meals", _l("本年助餐人次"), _l("长者饭堂")),
    Column("lifts_done", _l("电梯竣工"), _l("加装电梯")),
    Column("lifts_building", _l("电梯施工中"), _l("加装电梯")),
    Column("lifts_voted", _l("业主表决通过"), _l("加装电梯")),
    Column("renovations", _l("微改造"), _l("微改造与共建")),
    Column("partners", _l("共建单位"), _l("微改造与共建")),
    Column("volunteers", _l("志愿者"), _l("志愿服务")),
    Column("hours", _l("本年服务时长（小时）"), _l("志愿服务"), hours=True),
    Column("patrols", _l("巡查"), _l("志愿服务")),
    Column("findings_to_orders", _l("发现转工单"), _l("志愿服务")),
    Column("stretches", _l("河段"), _l("志愿服务")),
)
KEYS = tuple(c.key for c in COLUMNS)


def column_groups() -> list[tuple[str, int]]:
    """(group label, number of columns) in order, for a two-row table header."""
    out: list[tuple[str, int]] = []
    for c in COLUMNS:
        if out and out[-1][0] == str(c.group):
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((str(c.group), 1))
    return out


# -- which division ---------------------------------------------------------------------------------

def _city() -> Division | None:
    return Division.objects.filter(level=Level.CITY).order_by("code").first()


def summary_root(actor) -> Division | None:
    """Where the person's summary opens: the city for leaders (a whole-city scope), else their own
    district, street or community (a grid's community); None for someone without territory."""
    scope = scope_for(actor)
    if scope.whole_city:
        return _city()
    for code in scope.division_codes:
        found = Division.objects.filter(code=code[:CODE_LENGTH[Level.COMMUNITY]]).first()
        if found is not None:
            return found
    return None


def summary_check(actor, raw: str | None) -> Division:
    """The division `actor` asks about: 400 for a malformed code, 404 for one that does not exist or
    lies outside their scope (as if it did not exist)."""
    raw = raw if raw is not None else ""
    if raw == "":
        root = summary_root(actor)
        if root is None:
            raise DomainError("community.summary.no_territory", _("您没有可查看的辖区。"), status=404)
        return root
    code = raw.strip()
    if not code or len(code) > MAX_CODE or not (code.isascii() and code.isdigit()):
        raise DomainError("community.summary.bad_division", _("区划代码格式不正确，应为数字。"),
                          field="division", status=400)
    division = Division.objects.filter(code=code).first()
    scope = scope_for(actor)
    if division is None or not (scope.whole_city or (division.level != Level.CITY and scope.covers(code))):
        raise DomainError("community.summary.not_found", _("找不到该区划，或它不在您的管辖范围内。"),
                          field="division", status=404)
    return division


def breadcrumb(actor, division: Division) -> list[Division]:
    """From the person's root down to `division`."""
    chain = [division]
    while chain[0].parent_id is not None:
        chain.insert(0, Division.objects.get(pk=chain[0].parent_id))
    root = summary_root(actor)
    if root is not None and root in chain:
        chain = chain[chain.index(root):]
    return chain


# -- the figures ------------------------------------------------------------------------------------

def _filtered(qs, place, prefix: str):
    """`qs` annotated with its place code, narrowed to the places under `prefix` ("" = everywhere)."""
    qs = qs.annotate(_place=place)
    return qs.filter(_place__startswith=prefix) if prefix else qs


def _grouped(qs, place, *, prefix: str, n: int, **aggregates) -> dict[str | None, dict]:
    """One query: `aggregates` per the first `n` characters of the place code."""
    rows = (_filtered(qs, place, prefix).annotate(_key=Substr("_place", 1, n)).values("_key")
            .annotate(**aggregates).order_by())
    return {r["_key"]: r for r in rows}


def _unit_code(path: str):
    """The territory code of the unit at `path` ("" for the unit itself): its grid's code, else its division's."""
    at = f"{path}__" if path else ""
    return Coalesce(F(f"{at}grid__code"), F(f"{at}division__code"), output_field=CharField())


def _by_unit(per_unit, *, prefix: str, n: int) -> dict[str | None, dict]:
    """[(unit id, figure)] placed by each unit's territory code: the same keys as `_grouped`, but the
    big table is only grouped by its unit id and the few thousand units are looked up once."""
    per_unit = [(uid, v) for uid, v in per_unit]
    from huying.people.models import Unit

    codes = dict(Unit.objects.filter(pk__in=[uid for uid, _v in per_unit if uid is not None])
                 .annotate(c=_unit_code("")).values_list("pk", "c")) if per_unit else {}
    out: dict[str | None, dict] = {}
    for uid, v in per_unit:
        code = codes.get(uid)
        if prefix and not (code and code.startswith(prefix)):
            continue
        key = code[:n] if code else None
        out.setdefault(key, {"v": 0})["v"] += v or 0
    return out


def _stretch_place():
    first_grid = (RiverStretch.grids.through.objects.filter(riverstretch_id=OuterRef("pk")).order_by("grid__code")
                  .values("grid__code")[:1])
    first_team = (Patrol.objects.filter(stretch_id=OuterRef("pk")).order_by("pk")
                  .annotate(c=_unit_code("team__unit")).values("c")[:1])
    return Coalesce(F("community__code"), Subquery(first_grid), Subquery(first_team), output_field=CharField())


def _lifts_voted(prefix: str, n: int) -> dict[str | None, int]:
    """Lift projects whose owners' vote met art. 278: those past it (works, acceptance) and those still
    at design or approval whose tally already passes (one grouped query over their owners)."""
    from .projects import Tally, _ratio

    out: dict[str | None, int] = {}
    past = _grouped(LiftProject.objects.filter(state__in=(LiftState.WORKS, LiftState.ACCEPTANCE)),
                    F("community__code"), prefix=prefix, n=n, n_=Count("pk"))
    for key, r in past.items():
        out[key] = r["n_"]
    took_part = ~Q(vote=OwnerVote.NONE)
    agreed = Q(vote=OwnerVote.AGREE)
    rows = (_filtered(LiftOwner.objects.filter(project__state__in=(LiftState.DESIGN, LiftState.APPROVAL)),
                      F("project__community__code"), prefix)
            .annotate(_key=Substr("_place", 1, n)).values("project_id", "_key")
            .annotate(owners=Count("pk"), area=Sum("area_m2"), part=Count("pk", filter=took_part),
                      part_area=Sum("area_m2", filter=took_part), agree=Count("pk", filter=agreed),
                      agree_area=Sum("area_m2", filter=agreed)).order_by())
    zero = Decimal(0)
    for r in rows:
        area, part_area, agree_area = r["area"] or zero, r["part_area"] or zero, r["agree_area"] or zero
        tally = Tally(owners=r["owners"], area=area, participants=r["part"], participant_area=part_area,
                      agree=r["agree"], agree_area=agree_area,
                      participation_by_area=_ratio(part_area, area),
                      participation_by_number=_ratio(r["part"], r["owners"]),
                      consent_by_area=_ratio(agree_area, part_area), consent_by_number=_ratio(r["agree"], r["part"]))
        if tally.passed:
            out[r["_key"]] = out.get(r["_key"], 0) + 1
    return out


def _partners(prefix: str, n: int) -> tuple[dict[str | None, set[int]], set[int]]:
    """Units that joined: contributed to a micro-renovation or run a canteen; per key, and all of them."""
    per: dict[str | None, set[int]] = {}
    for qs, place, unit_field in (
            (RenovationContribution.objects.all(), F("renovation__community__code"), "unit_id"),
            (Canteen.objects.filter(operator__isnull=False), F("community__code"), "operator_id")):
        pairs = (_filtered(qs, place, prefix).annotate(_key=Substr("_place", 1, n))
                 .values_list("_key", unit_field).distinct().order_by())
        for key, unit_id in pairs:
            per.setdefault(key, set()).add(unit_id)
    everyone = set().union(*per.values()) if per else set()
    return per, everyone


def _year_start(now) -> date:
    return timezone.localdate(now).replace(month=1, day=1)


def figures(division: Division, *, now=None) -> dict[str | None, dict]:
    """{place key: {column key: figure}} for the places under `division`, keyed by the first n
    characters of their code, n the code length of `division`'s children (its own for a community)."""
    return _figures(division, now=now)[0]


def _figures(division: Division, *, now=None) -> tuple[dict[str | None, dict], set[int]]:
    """figures(), and every partner unit under `division` (for the distinct total)."""
    now = now or timezone.now()
    prefix = "" if division.level == Level.CITY else division.code
    n = CODE_LENGTH[CHILD_LEVEL.get(division.level, Level.COMMUNITY)]
    year = _year_start(now)
    out: dict[str | None, dict] = {}

    def put(grouped: dict, **columns: str) -> None:
        for key, r in grouped.items():
            row = out.setdefault(key, {})
            for column, field in columns.items():
                row[column] = row.get(column, 0) + (r[field] or 0)

    def g(qs, place, **aggregates):
        return _grouped(qs, place, prefix=prefix, n=n, **aggregates)

    put(g(Hall.objects.all(), F("division__code"), c=Count("pk")), halls="c")
    put(g(Matter.objects.all(), F("hall__division__code"), c=Count("pk"),
          r=Count("pk", filter=Q(status=MatterStatus.RESOLVED))), matters="c", matters_resolved="r")
    put(g(Dispute.objects.all(), F("hall__division__code"), c=Count("pk"),
          s=Count("pk", filter=Q(status=DisputeStatus.SETTLED))), disputes="c", disputes_settled="s")
    put(g(Canteen.objects.all(), F("community__code"), c=Count("pk")), canteens="c")
    put(g(CanteenMeal.objects.filter(served_on__gte=year, served_on__lte=timezone.localdate(now)),
          F("canteen__community__code"), c=Count("pk")), meals="c")
    put(g(LiftProject.objects.all(), F("community__code"), d=Count("pk", filter=Q(state=LiftState.ACCEPTANCE)),
          b=Count("pk", filter=Q(state=LiftState.WORKS))), lifts_done="d", lifts_building="b")
    put({k: {"v": v} for k, v in _lifts_voted(prefix, n).items()}, lifts_voted="v")
    put(g(Renovation.objects.all(), F("community__code"), c=Count("pk")), renovations="c")
    per, everyone = _partners(prefix, n)
    put({k: {"v": len(v)} for k, v in per.items()}, partners="v")
    # the two big tables (690k volunteers, ~1M sign-ups) are grouped by unit first, then placed
    profiles = VolunteerProfile.objects.all()
    signups = ActivitySignup.objects.filter(served_on__gte=year, served_on__lte=timezone.localdate(now))
    if prefix:
        from huying.people.models import Unit

        units = Unit.objects.filter(Q(division__code__startswith=prefix) | Q(grid__code__startswith=prefix))
        profiles = profiles.filter(registered_by_id__in=units.values("pk"))
        signups = signups.filter(activity__team__unit_id__in=units.values("pk"))
    put(_by_unit(profiles.values_list("registered_by_id").annotate(v=Count("pk")).order_by(), prefix=prefix, n=n),
        volunteers="v")
    put(_by_unit(signups.values_list("activity__team__unit_id").annotate(v=Sum("hours")).order_by(),
                 prefix=prefix, n=n), hours="v")
    patrol_place = Coalesce(F("grid__code"), F("stretch__community__code"), F("team__unit__grid__code"),
                            F("team__unit__division__code"), output_field=CharField())
    put(g(Patrol.objects.all(), patrol_place, c=Count("pk")), patrols="c")
    finding_place = Coalesce(F("patrol__grid__code"), F("patrol__stretch__community__code"),
                             F("patrol__team__unit__grid__code"), F("patrol__team__unit__division__code"),
                             output_field=CharField())
    put(g(PatrolFinding.objects.filter(work_order_id__isnull=False), finding_place, c=Count("pk")),
        findings_to_orders="c")
    put(g(RiverStretch.objects.all(), _stretch_place(), c=Count("pk")), stretches="c")
    return out, everyone


def _blank() -> dict:
    return {k: (Decimal(0) if c.hours else 0) for k, c in zip(KEYS, COLUMNS, strict=True)}


def summary_table(division: Division, *, now=None) -> dict:
    """The page's table: {division, rows: [{division, figures}], own: figures | None, totals: figures}.

    Rows are the child divisions (the community itself for a community); `own` holds what is placed
    at `division`'s own level or above its children (absent when all zero); totals add every row and
    `own`, except partners, which counts each unit once."""
    now = now or timezone.now()
    data, partners = _figures(division, now=now)
    if division.level == Level.COMMUNITY:
        children = [division]
    else:
        children = list(Division.objects.filter(parent=division).order_by("code"))
    child_codes = {c.code for c in children}
    rows = []
    for child in children:
        row = _blank()
        row.update(data.get(child.code, {}))
        rows.append({"division": child, "figures": row,
                     "drill": child.level != Level.COMMUNITY and child.pk != division.pk})
    own = _blank()
    for key, values in data.items():
        if key not in child_codes:
            for column, value in values.items():
                own[column] += value
    has_own = any(own.values())
    totals = _blank()
    for figs in [r["figures"] for r in rows] + ([own] if has_own else []):
        for column in KEYS:
            totals[column] += figs[column]
    totals["partners"] = len(partners)
    return {"division": division, "rows": rows, "own": own if has_own else None, "totals": totals,
            "year": _year_start(now).year}


# -- dashboard tile ---------------------------------------------------------------------------------

def summary_tile(*, prefix: str, now):
    """Dashboard tile 协同共治: the halls, canteens and volunteers of the territory, leading to the summary."""
    from django.urls import reverse

    from huying.core import tiles

    code = prefix[:CODE_LENGTH[Level.COMMUNITY]] if prefix else ""
    halls = Hall.objects.filter(division__code__startswith=code).count() if code else Hall.objects.count()
    canteens = (Canteen.objects.filter(community__code__startswith=code).count() if code
                else Canteen.objects.count())
    vols = VolunteerProfile.objects.all()
    if code:
        vols = vols.filter(Q(registered_by__division__code__startswith=code)
                           | Q(registered_by__grid__code__startswith=code))
    volunteers = vols.count()
    if not (halls or canteens or volunteers):
        return None
    url = reverse("community:summary") + (f"?division={code}" if code else "")
    return tiles.TileValue(value=str(halls), url=url, note=_("议事厅 · 长者饭堂 %(c)s 家 · 志愿者 %(v)s 人") % {
        "c": canteens, "v": volunteers})


def register_tiles() -> None:
    from huying.core import tiles

    tiles.register("community_summary", title=_l("协同共治"), fn=summary_tile, order=159)
