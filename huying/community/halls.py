"""Deliberation halls (议事厅): matters, meetings, votes, resolutions and disputes (issue 15).

Who may do what (`selectors_halls` holds the checks): the hall's convener unit (its convener,
leader or community workers) manages the hall; people on the hall's roll (议事名册: residents and
Party members of the community) raise matters and vote; units working in the community raise
matters. A vote copies the hall's rules when it opens; its result is computed from the ballots
when it closes: quorum as a share of the eligible voters (persons, or households when the vote is
per household), passed when yes reaches the pass share of the counted yes/no/abstain ballots.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.people.models import RoleCode, Unit
from huying.territory.models import Division, Level

from . import selectors_halls as sel
from .models import (
    Attendance,
    Ballot,
    Choice,
    Dispute,
    DisputeStatus,
    Hall,
    HallVoter,
    Matter,
    MatterStatus,
    Meeting,
    RaiserKind,
    Resolution,
    ResolutionTask,
    Vote,
)


def _now(now):
    return now if now is not None else timezone.now()


def _forbid(message=None):
    raise DomainError("community.hall.forbidden", message or _("只有本社区议事厅的召集人可以进行此操作。"), status=403)


def _require_manager(actor, hall: Hall) -> None:
    if not sel.may_manage(actor, hall):
        _forbid()


def _share(value, field: str) -> Decimal:
    try:
        share = Decimal(str(value))
    except Exception:  # noqa: BLE001 - any unparsable input is the same refusal
        share = Decimal(-1)
    if not Decimal(0) < share <= Decimal(1):
        raise DomainError("community.hall.bad_share", _("比例应在 0 到 1 之间。"), field=field)
    return share


@transaction.atomic
def hall_create(division: Division, *, convener_unit: Unit, actor, name: str = "", quorum_share="0.5",
                pass_share="0.5", secret: bool = False, per_household: bool = True, now=None) -> Hall:
    """Open the community's hall (one per community), convened by its committee."""
    if division.level != Level.COMMUNITY:
        raise DomainError("community.hall.not_community", _("议事厅只能设在社区（村）。"), field="division")
    if not (actor and (actor.is_superuser or sel.scope_covers(actor, division.code))):
        _forbid(_("只有本社区或上级的工作人员可以设立议事厅。"))
    if Hall.objects.filter(division=division).exists():
        raise DomainError("community.hall.exists", _("该社区已设立议事厅。"), status=409)
    hall = Hall.objects.create(
        division=division, convener_unit=convener_unit,
        name=clean_text(name, field="name", max_length=120) or _("%(name)s议事厅") % {"name": division.name},
        quorum_share=_share(quorum_share, "quorum_share"), pass_share=_share(pass_share, "pass_share"),
        secret=secret, per_household=per_household, created_at=_now(now))
    audit_log(hall, "community.hall.created", actor=actor, new={"division": division.code})
    return hall


@transaction.atomic
def hall_rules_set(hall: Hall, *, actor, quorum_share, pass_share, secret: bool, per_household: bool) -> Hall:
    """Change the rules later votes copy (议事规则); open votes keep theirs."""
    _require_manager(actor, hall)
    hall = Hall.objects.select_for_update().get(pk=hall.pk)
    old = {"quorum_share": str(hall.quorum_share), "pass_share": str(hall.pass_share), "secret": hall.secret,
           "per_household": hall.per_household}
    hall.quorum_share, hall.pass_share = _share(quorum_share, "quorum_share"), _share(pass_share, "pass_share")
    hall.secret, hall.per_household = bool(secret), bool(per_household)
    hall.save(update_fields=["quorum_share", "pass_share", "secret", "per_household"])
    audit_log(hall, "community.hall.rules_set", actor=actor, old=old, new={
        "quorum_share": str(hall.quorum_share), "pass_share": str(hall.pass_share), "secret": hall.secret,
        "per_household": hall.per_household})
    return hall


@transaction.atomic
def voter_add(hall: Hall, *, user, household: str, actor, now=None) -> HallVoter:
    """Put a resident or Party member of this community on the hall's roll, in their household."""
    _require_manager(actor, hall)
    if not sel.lives_in(user, hall):
        raise DomainError("community.hall.not_resident", _("该人员不是本社区的居民或党员。"), field="user")
    household = clean_text(household, field="household", max_length=60)
    if not household:
        raise DomainError("community.hall.household_required", _("请填写户（如门牌号）。"), field="household")
    voter, created = HallVoter.objects.get_or_create(hall=hall, user=user,
                                                     defaults={"household": household, "added_at": _now(now)})
    if not created and voter.household != household:
        voter.household = household
        voter.save(update_fields=["household"])
    audit_log(voter, "community.hall.voter_added", actor=actor, new={"user": user.pk, "household": household})
    return voter


@transaction.atomic
def matter_raise(hall: Hall, *, title: str, body: str = "", actor, phone: str | None = None, now=None) -> Matter:
    """Raise a matter (提出议题): a person on the roll, or a unit working in the community."""
    title = clean_text(title, field="title", max_length=120)
    body = clean_text(body, field="body", max_length=4000, multiline=True)
    if not title:
        raise DomainError("community.matter.title_required", _("请填写议题。"), field="title")
    unit = sel.acting_unit(actor, hall)
    if unit is not None:
        kind = RaiserKind.UNIT
    elif sel.voter_of(actor, hall) is not None:
        kind = RaiserKind.PARTY_MEMBER if sel.has_role(actor, RoleCode.PARTY_MEMBER) else RaiserKind.RESIDENT
    else:
        _forbid(_("只有本社区的居民、党员和驻区单位可以提出议题。"))
    phone = clean_text(phone if phone is not None else (actor.phone or ""), field="phone", max_length=20)
    matter = Matter.objects.create(hall=hall, title=title, body=body, raiser=actor, raiser_kind=kind,
                                   raiser_unit=unit, raiser_phone=phone, created_at=_now(now))
    audit_log(matter, "community.matter.raised", actor=actor, new={"kind": kind})
    return matter


@transaction.atomic
def matter_from_hot_group(hall: Hall, *, group, actor, now=None) -> Matter:
    """Bring a hot-issue group (热点诉求, from dispatch's hot selectors) to the hall as a matter.

    Idempotent: the same group (by its earliest order) gives the same matter.
    """
    _require_manager(actor, hall)
    orders = sorted(getattr(group, "orders", []) or [], key=lambda o: o.pk)
    if not orders:
        raise DomainError("community.matter.empty_group", _("该热点没有可见的诉求。"))
    key = f"hot-{orders[0].pk}"
    existing = Matter.objects.filter(hall=hall, source_key=key).first()
    if existing:
        return existing
    codes = "、".join(o.code for o in orders[:10])
    matter = Matter.objects.create(
        hall=hall, title=clean_text(group.title, field="title")[:120], raiser=actor, raiser_kind=RaiserKind.HOT_ISSUE,
        raiser_unit=hall.convener_unit, source_key=key, created_at=_now(now),
        body=_("热点诉求 %(n)s 件：%(codes)s") % {"n": len(orders), "codes": codes})
    audit_log(matter, "community.matter.from_hot", actor=actor, new={"orders": [o.pk for o in orders]})
    return matter


@transaction.atomic
def matter_to_work_order(matter: Matter, *, subject, actor, lng=None, lat=None, address: str = "",
                         request_type=None, urgency=None, now=None) -> Matter:
    """Hand a matter to dispatch as a work order (工单) in this transaction; a retry gives the same order."""
    from huying.dispatch.services import work_order_create

    matter = Matter.objects.select_for_update(of=("self",)).select_related("hall__division").get(pk=matter.pk)
    _require_manager(actor, matter.hall)
    if matter.status in (MatterStatus.WORK_ORDER, MatterStatus.RESOLVED, MatterStatus.REJECTED):
        raise DomainError("community.matter.closed", _("该议题已办结。"), status=409)
    old = matter.status
    address = clean_text(address, field="address", max_length=200)
    order = work_order_create(
        channel="other", subject=subject, request_type=request_type, urgency=urgency, title=matter.title[:120],
        description=_("【议事厅·%(hall)s】%(text)s") % {"hall": matter.hall.name, "text": matter.body or matter.title},
        idempotency_key=f"community-hall-matter-{matter.pk}", lng=lng, lat=lat,
        address=address or matter.hall.division.name, actor=actor, now=_now(now))
    matter.status, matter.work_order_id, matter.work_order_code = MatterStatus.WORK_ORDER, order.pk, order.code
    matter.save(update_fields=["status", "work_order_id", "work_order_code"])
    audit_log(matter, "community.matter.to_order", actor=actor, old={"status": old},
              new={"status": matter.status, "work_order": order.code})
    return matter


@transaction.atomic
def meeting_schedule(hall: Hall, *, title: str, starts_at, actor, place: str = "", matters=()) -> Meeting:
    """Schedule a meeting (召开议事会) with its agenda of open matters."""
    _require_manager(actor, hall)
    title = clean_text(title, field="title", max_length=120)
    if not title:
        raise DomainError("community.meeting.title_required", _("请填写会议名称。"), field="title")
    meeting = Meeting.objects.create(hall=hall, title=title, starts_at=starts_at,
                                     place=clean_text(place, field="place", max_length=120))
    ids = [m.pk for m in matters]
    agenda = list(Matter.objects.filter(hall=hall, pk__in=ids))
    if len(agenda) != len(set(ids)):
        raise DomainError("community.meeting.foreign_matter", _("议程中有不属于本议事厅的议题。"), field="matters")
    meeting.matters.set(agenda)
    Matter.objects.filter(pk__in=ids, status=MatterStatus.OPEN).update(status=MatterStatus.SCHEDULED)
    audit_log(meeting, "community.meeting.scheduled", actor=actor, new={"matters": ids})
    return meeting


@transaction.atomic
def meeting_attendance(meeting: Meeting, *, actor, users=(), households=()) -> int:
    """Record who attended (persons on the roll, or households by name); returns the attendance count."""
    _require_manager(actor, meeting.hall)
    roll = {v.user_id: v.household for v in HallVoter.objects.filter(hall=meeting.hall, user__in=list(users))}
    for u in users:
        if u.pk not in roll:
            raise DomainError("community.meeting.not_on_roll", _("出席人不在本议事厅名册上。"), field="users")
        Attendance.objects.get_or_create(meeting=meeting, user=u, defaults={"household": roll[u.pk]})
    for h in households:
        h = clean_text(h, field="households", max_length=60)
        if h and not Attendance.objects.filter(meeting=meeting, household=h).exists():
            Attendance.objects.create(meeting=meeting, household=h)
    meeting.held = True
    meeting.save(update_fields=["held"])
    n = meeting.attendance.count()
    audit_log(meeting, "community.meeting.attendance", actor=actor, new={"attendance": n})
    return n


@transaction.atomic
def meeting_minutes(meeting: Meeting, *, minutes: str, actor) -> Meeting:
    _require_manager(actor, meeting.hall)
    meeting.minutes = clean_text(minutes, field="minutes", max_length=10000, multiline=True)
    meeting.held = True
    meeting.save(update_fields=["minutes", "held"])
    audit_log(meeting, "community.meeting.minutes", actor=actor)
    return meeting


@transaction.atomic
def vote_open(matter: Matter, *, question: str, actor, meeting: Meeting | None = None, now=None) -> Vote:
    """Open a vote on a matter, copying the hall's rules (法定人数、通过比例、记名方式、按户或按人)."""
    hall = Hall.objects.get(pk=matter.hall_id)  # the rules as they are now, not a caller's stale copy
    _require_manager(actor, hall)
    matter = Matter.objects.select_for_update().get(pk=matter.pk)
    if matter.status in (MatterStatus.WORK_ORDER, MatterStatus.RESOLVED, MatterStatus.REJECTED):
        raise DomainError("community.matter.closed", _("该议题已办结。"), status=409)
    if Vote.objects.filter(matter=matter, is_open=True).exists():
        raise DomainError("community.vote.already_open", _("该议题已有正在进行的表决。"), status=409)
    question = clean_text(question, field="question", max_length=200) or matter.title
    vote = Vote.objects.create(hall=hall, matter=matter, meeting=meeting, question=question,
                               quorum_share=hall.quorum_share, pass_share=hall.pass_share, secret=hall.secret,
                               per_household=hall.per_household, opened_at=_now(now))
    audit_log(vote, "community.vote.opened", actor=actor, new={
        "quorum_share": str(vote.quorum_share), "pass_share": str(vote.pass_share), "secret": vote.secret,
        "per_household": vote.per_household})
    return vote


@transaction.atomic
def ballot_cast(vote: Vote, *, choice: str, actor, now=None) -> Ballot:
    """Cast one ballot; per household, the household's first ballot is its vote."""
    vote = Vote.objects.select_for_update().get(pk=vote.pk)
    if not vote.is_open:
        raise DomainError("community.vote.closed", _("表决已结束。"), status=409)
    if choice not in Choice.values:
        raise DomainError("community.vote.bad_choice", _("请选择赞成、反对或弃权。"), field="choice")
    voter = sel.voter_of(actor, vote.hall)
    if voter is None:
        _forbid(_("只有本议事厅名册上的居民和党员可以投票。"))
    if Ballot.objects.filter(vote=vote, voter=actor).exists():
        raise DomainError("community.vote.already_cast", _("您已投过票。"), status=409)
    if vote.per_household and Ballot.objects.filter(vote=vote, household=voter.household).exists():
        raise DomainError("community.vote.household_cast", _("本户已有人投票（按户表决，每户一票）。"), status=409)
    ballot = Ballot.objects.create(vote=vote, voter=actor, household=voter.household, choice=choice,
                                   cast_at=_now(now))
    # a secret ballot's audit row does not carry the choice
    audit_log(vote, "community.vote.cast", actor=actor, data={} if vote.secret else {"choice": choice})
    return ballot


def tally(vote: Vote) -> dict:
    """The result from the ballots as they stand (pure reading: used at closing and for open votes)."""
    ballots = list(vote.ballots.order_by("cast_at", "pk").values("household", "choice", "voter_id"))
    roll = HallVoter.objects.filter(hall_id=vote.hall_id)
    if vote.per_household:
        eligible = roll.values("household").distinct().count()
        seen, counted = set(), []
        for b in ballots:
            if b["household"] not in seen:
                seen.add(b["household"])
                counted.append(b)
    else:
        eligible, counted = roll.count(), ballots
    n = len(counted)
    yes = sum(1 for b in counted if b["choice"] == Choice.YES)
    no = sum(1 for b in counted if b["choice"] == Choice.NO)
    abstain = n - yes - no
    quorum_met = eligible > 0 and Decimal(n) >= vote.quorum_share * eligible
    # passed: yes reaches the pass share of the counted ballots and outnumbers no (so 0.5 is a true majority)
    passed = bool(quorum_met and n and Decimal(yes) >= vote.pass_share * n and yes > no)
    return {"eligible": eligible, "counted": n, "yes": yes, "no": no, "abstain": abstain,
            "quorum_met": bool(quorum_met), "passed": passed}


@transaction.atomic
def vote_close(vote: Vote, *, actor, now=None) -> Vote:
    """Close the vote and store its result; the matter is rejected when it fails (it may be raised again)."""
    vote = Vote.objects.select_for_update().get(pk=vote.pk)
    _require_manager(actor, vote.hall)
    if not vote.is_open:
        raise DomainError("community.vote.closed", _("表决已结束。"), status=409)
    result = tally(vote)
    for k, v in result.items():
        setattr(vote, k, v)
    vote.is_open, vote.closed_at = False, _now(now)
    vote.save()
    if not result["passed"]:
        Matter.objects.filter(pk=vote.matter_id).update(status=MatterStatus.REJECTED)
    audit_log(vote, "community.vote.closed", actor=actor, new=result)
    return vote


@transaction.atomic
def resolution_adopt(matter: Matter, *, text: str, actor, vote: Vote | None = None, tasks=(), now=None
                     ) -> Resolution:
    """Adopt a resolution (形成决议) with its tasks [{"title", "owner_unit", "owner_name"}]; a vote given must have passed."""
    _require_manager(actor, matter.hall)
    if vote is not None and not vote.passed:
        raise DomainError("community.resolution.not_passed", _("表决未通过，不能形成决议。"), status=409)
    text = clean_text(text, field="text", max_length=4000, multiline=True)
    if not text:
        raise DomainError("community.resolution.text_required", _("请填写决议内容。"), field="text")
    res = Resolution.objects.create(hall=matter.hall, matter=matter, vote=vote, text=text, created_at=_now(now))
    for t in tasks:
        task_add(res, title=t["title"], owner_unit=t.get("owner_unit"), owner_name=t.get("owner_name", ""),
                 actor=actor)
    Matter.objects.filter(pk=matter.pk).update(status=MatterStatus.RESOLVED)
    audit_log(res, "community.resolution.adopted", actor=actor, new={"matter": matter.pk, "tasks": len(tasks)})
    return res


@transaction.atomic
def task_add(resolution: Resolution, *, title: str, actor, owner_unit: Unit | None = None,
             owner_name: str = "") -> ResolutionTask:
    _require_manager(actor, resolution.hall)
    title = clean_text(title, field="title", max_length=120)
    if not title:
        raise DomainError("community.task.title_required", _("请填写任务。"), field="title")
    task = ResolutionTask.objects.create(resolution=resolution, title=title, owner_unit=owner_unit,
                                         owner_name=clean_text(owner_name, field="owner_name", max_length=60))
    if resolution.done:  # a new task reopens a finished resolution
        Resolution.objects.filter(pk=resolution.pk).update(done=False, done_at=None)
    audit_log(task, "community.task.added", actor=actor, new={"title": title})
    return task


@transaction.atomic
def task_progress(task: ResolutionTask, *, progress: int, actor, note: str = "", now=None) -> ResolutionTask:
    """Report a task's progress; at 100 it is done, and the resolution is done when all its tasks are."""
    task = ResolutionTask.objects.select_for_update().select_related("resolution__hall").get(pk=task.pk)
    _require_manager(actor, task.resolution.hall)
    try:
        progress = int(progress)
    except (TypeError, ValueError):
        progress = -1
    if not 0 <= progress <= 100:
        raise DomainError("community.task.bad_progress", _("进度应在 0 到 100 之间。"), field="progress")
    if progress < task.progress:
        raise DomainError("community.task.progress_back", _("进度不能倒退。"), field="progress")
    now = _now(now)
    old = task.progress
    task.progress, task.note = progress, clean_text(note, field="note", max_length=200)
    task.done_at = now if progress == 100 else None
    task.save(update_fields=["progress", "note", "done_at"])
    res = task.resolution
    all_done = not res.tasks.filter(done_at__isnull=True).exists()
    if all_done and not res.done:
        res.done, res.done_at = True, now
        res.save(update_fields=["done", "done_at"])
        audit_log(res, "community.resolution.done", actor=actor)
    audit_log(task, "community.task.progress", actor=actor, old={"progress": old}, new={"progress": progress})
    return task


@transaction.atomic
def dispute_open(hall: Hall, *, title: str, parties: str, actor, description: str = "", now=None) -> Dispute:
    """Take in a dispute for mediation (矛盾纠纷调解)."""
    _require_manager(actor, hall)
    title = clean_text(title, field="title", max_length=120)
    parties = clean_text(parties, field="parties", max_length=200)
    if not title or not parties:
        raise DomainError("community.dispute.required", _("请填写纠纷和当事人。"), field="title" if not title else "parties")
    d = Dispute.objects.create(hall=hall, title=title, parties=parties, opened_at=_now(now),
                               description=clean_text(description, field="description", max_length=4000,
                                                      multiline=True))
    audit_log(d, "community.dispute.opened", actor=actor)
    return d


@transaction.atomic
def dispute_close(dispute: Dispute, *, settled: bool, outcome: str, actor, now=None) -> Dispute:
    dispute = Dispute.objects.select_for_update().get(pk=dispute.pk)
    _require_manager(actor, dispute.hall)
    if dispute.status != DisputeStatus.OPEN:
        raise DomainError("community.dispute.closed", _("该纠纷已办结。"), status=409)
    outcome = clean_text(outcome, field="outcome", max_length=4000, multiline=True)
    if not outcome:
        raise DomainError("community.dispute.outcome_required", _("请填写调解结果。"), field="outcome")
    dispute.status = DisputeStatus.SETTLED if settled else DisputeStatus.FAILED
    dispute.outcome, dispute.closed_at = outcome, _now(now)
    dispute.save(update_fields=["status", "outcome", "closed_at"])
    audit_log(dispute, "community.dispute.closed", actor=actor, new={"status": dispute.status})
    return dispute


# ---- the roll from a file (议事名册导入) ------------------------------------------------------------

# column → the header names accepted for it (the first is what the template writes)
ROLL_COLUMNS = {
    "username": ("账号", "用户名"),
    "phone": ("手机号", "手机号码", "联系电话"),
    "household": ("户", "户（如门牌号）", "户号", "门牌号"),
}
ROLL_TEMPLATE_HEADER = [names[0] for names in ROLL_COLUMNS.values()]
ROLL_MAX_ROWS = 5000


@transaction.atomic
def voters_import(hall: Hall, source, *, actor, filename: str = "", now=None) -> dict:
    """Put everyone listed in an .xlsx/.csv file (or a list of rows) on the hall's roll, or no one.

    Read with the shared reader of `party.services.imports`; a file with any bad row is refused whole,
    naming each bad row as the spreadsheet numbers it (header = row 1). A person is found by account,
    else by mobile number, and must live in the community (`voter_add`). Returns {"added": n, "file": name}.
    """
    from huying.party.services.imports import _cell_text, filename_of, read_rows, refuse_rows, table_of
    from huying.people.models import User

    _require_manager(actor, hall)
    filename = filename_of(source, filename)
    rows, cols = read_rows(table_of(source, filename), ROLL_COLUMNS, ("household",),
                           no_rows=_("文件中没有名册数据。"),
                           too_many=_("一次最多导入 %(n)s 人。") % {"n": ROLL_MAX_ROWS}, max_rows=ROLL_MAX_ROWS)
    if "username" not in cols and "phone" not in cols:
        raise DomainError("community.roll.missing_column", _("第 1 行（表头）缺少列：账号或手机号。"), field="file",
                          rows=[{"row": 1, "field": _("账号"), "message": _("缺少该列")}])
    errors: list[dict] = []
    good: list[tuple[int, object, str]] = []
    seen: dict[int, int] = {}

    def bad(n, key, message):
        errors.append({"row": n, "field": ROLL_COLUMNS[key][0], "message": str(message)})

    for row in rows:
        n, text, before = row.number, {}, len(errors)
        for key in ROLL_COLUMNS:
            try:
                text[key] = clean_text(_cell_text(row.values.get(key)), field=key, max_length=60)
            except DomainError as exc:
                bad(n, key, exc.message)
                text[key] = ""
        if len(errors) > before:
            continue
        if not text["household"]:
            bad(n, "household", _("必填"))
        user = None
        if text["username"]:
            user = User.objects.filter(username=text["username"], is_active=True).first()
            if user is None:
                bad(n, "username", _("找不到该账号"))
        elif text["phone"]:
            found = list(User.objects.filter(phone=text["phone"].replace(" ", "").replace("-", ""),
                                             is_active=True)[:2])
            if len(found) != 1:
                bad(n, "phone", _("找不到该手机号对应的唯一账号") if found else _("找不到该手机号对应的账号"))
            else:
                user = found[0]
        else:
            bad(n, "username", _("请填写账号或手机号"))
        if user is not None and not sel.lives_in(user, hall):
            bad(n, "username" if text["username"] else "phone", _("该人员不是本社区的居民或党员"))
        if len(errors) > before:
            continue
        if user.pk in seen:
            bad(n, "username" if text["username"] else "phone", _("与第 %(row)s 行重复") % {"row": seen[user.pk]})
            continue
        seen[user.pk] = n
        good.append((n, user, text["household"]))
    if errors:
        refuse_rows(errors, _("导入被拒绝，名册未做任何改动：第 %(rows)s 行有错误（共 %(n)s 行），请改正后重新导入。"))
    for _n, user, household in good:
        voter_add(hall, user=user, household=household, actor=actor, now=now)
    audit_log(hall, "community.hall.roll_imported", actor=actor, data={"count": len(good), "file": filename})
    return {"added": len(good), "file": filename}
