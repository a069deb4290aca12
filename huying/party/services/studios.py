"""Representatives' studios (党代表工作室): five-level Party representatives take turns on a
community studio's duty roster; a resident's visit is recorded, answered there, or handed to
dispatch as a work order through `dispatch.services.work_order_create` — the same path a
co-building problem takes (`cobuilding.problem_to_work_order`).

Public: `representative_register`, `representative_retire`, `studio_create`, `studio_duty_schedule`,
`studio_duty_cancel`, `studio_visit_record`, `studio_visit_reply`, `studio_visit_to_work_order`.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.people.models import UnitKind, User
from huying.territory.models import Division, Level

from .. import access
from ..models import (
    PartyOrganisation,
    Representative,
    RepresentativeLevel,
    Studio,
    StudioDuty,
    StudioVisit,
    VisitStatus,
)
from .common import forbid, now_or, open_work_order, require_territory
from .organisations import party_unit_code

MAX_DUTY_HOURS = 12


def _text(value: str, field: str, message: str, limit: int) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit:
        raise DomainError("party.studio.required", message, field=field)
    return value


def may_register_representatives(actor) -> bool:
    """Administrators, and staff of a street or a higher division: the street 党工委 keeps the
    liaison with the representatives who serve its communities."""
    if access.is_admin(actor):
        return True
    codes = access.staff_territory_codes(actor)
    if "" in codes:
        return True
    return Division.objects.filter(code__in=codes, level__in=[Level.CITY, Level.DISTRICT, Level.STREET]).exists()


def on_duty(studio: Studio, at) -> StudioDuty | None:
    """The (first) representative's turn at `studio` covering the moment `at`."""
    return (StudioDuty.objects.filter(studio=studio, cancelled=False, starts_at__lte=at, ends_at__gt=at)
            .select_related("representative__user").order_by("starts_at", "id").first())


def may_handle_visit(actor, visit: StudioVisit) -> bool:
    """The studio's community staff, or the representative who received the visit."""
    if access.can_act_for_territory(actor, visit.studio.community.code):
        return True
    return visit.representative_id is not None and visit.representative.user_id == getattr(actor, "pk", None)


# -- representatives ---------------------------------------------------------------------------
@transaction.atomic
def representative_register(user: User, *, level: str, actor, term: str = "", constituency: str = "",
                            now=None) -> Representative:
    """Record that `user` serves as a Party representative of `level` (全国/省/市/区/镇街)."""
    now = now_or(now)
    if not may_register_representatives(actor):
        forbid(_("只有管理员或街道以上党组织可以登记党代表。"))
    if level not in RepresentativeLevel.values:
        raise DomainError("party.representative.bad_level", _("党代表层级无效。"), field="level")
    if Representative.objects.filter(user=user, level=level, active=True).exists():
        raise DomainError("party.representative.exists", _("%(user)s 已登记为该层级党代表。") % {"user": user},
                          field="user", status=409)
    rep = Representative.objects.create(user=user, level=level, term=(term or "").strip()[:40],
                                        constituency=(constituency or "").strip()[:120], registered_at=now)
    audit_log(rep, "party.representative.registered", actor=actor,
              new={"user": user.username, "level": level, "term": rep.term})
    return rep


@transaction.atomic
def representative_retire(rep: Representative, *, actor, reason: str) -> Representative:
    """The term ends; future duties are the roster-keeper's to cancel, past visits stay theirs."""
    if not may_register_representatives(actor):
        forbid(_("只有管理员或街道以上党组织可以登记党代表。"))
    reason = _text(reason, "reason", _("请填写原因。"), 255)
    rep = Representative.objects.select_for_update().get(pk=rep.pk)
    if not rep.active:
        raise DomainError("party.representative.retired", _("该党代表已离任。"), status=409)
    rep.active = False
    rep.save(update_fields=["active"])
    audit_log(rep, "party.representative.retired", actor=actor, old={"active": True}, new={"active": False},
              reason=reason)
    return rep


# -- studios and their roster ------------------------------------------------------------------
@transaction.atomic
def studio_create(*, community: Division, name: str, actor, opened_on: date, address: str = "",
                  host: PartyOrganisation | None = None) -> Studio:
    """A community opens a representatives' studio; by default its 大党委 hosts it."""
    if community.level != Level.COMMUNITY:
        raise DomainError("party.studio.not_community", _("党代表工作室设在社区。"), field="community")
    require_territory(actor, community)
    name = _text(name, "name", _("请填写工作室名称（不超过 120 字）。"), 120)
    if host is None:
        host = PartyOrganisation.objects.filter(unit__code=party_unit_code(community.code),
                                                unit__kind=UnitKind.PARTY).first()
    studio = Studio.objects.create(name=name, community=community, host=host, address=(address or "").strip()[:255],
                                   opened_on=opened_on)
    audit_log(studio, "party.studio.created", actor=actor, new={
        "name": name, "community": community.code, "host": host.unit.code if host else None})
    return studio


@transaction.atomic
def studio_duty_schedule(studio: Studio, *, representative: Representative, starts_at, ends_at, actor
                         ) -> StudioDuty:
    """Put a representative on the studio's roster; one person cannot be on two turns at once."""
    require_territory(actor, studio.community)
    if not studio.active:
        raise DomainError("party.studio.closed", _("该工作室已停用。"), status=409)
    rep = Representative.objects.select_for_update().get(pk=representative.pk)
    if not rep.active:
        raise DomainError("party.studio.rep_retired", _("该党代表已离任。"), field="representative")
    if starts_at is None or ends_at is None or ends_at <= starts_at:
        raise DomainError("party.studio.bad_time", _("结束时间应晚于开始时间。"), field="ends_at")
    if (ends_at - starts_at).total_seconds() > MAX_DUTY_HOURS * 3600:
        raise DomainError("party.studio.too_long", _("单次值班不超过 %(n)s 小时。") % {"n": MAX_DUTY_HOURS},
                          field="ends_at")
    # The same person across all their posts (levels) and studios.
    clash = StudioDuty.objects.filter(representative__user_id=rep.user_id, cancelled=False, starts_at__lt=ends_at,
                                      ends_at__gt=starts_at).select_related("studio").first()
    if clash is not None:
        raise DomainError("party.studio.duty_overlap", _("该党代表在此时段已安排在“%(studio)s”值班。")
                          % {"studio": clash.studio.name}, field="starts_at", status=409)
    duty = StudioDuty.objects.create(studio=studio, representative=rep, starts_at=starts_at, ends_at=ends_at,
                                     scheduled_by=actor)
    audit_log(duty, "party.studio.duty_scheduled", actor=actor, new={
        "studio": studio.pk, "representative": rep.user.username, "level": rep.level,
        "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()})
    return duty


@transaction.atomic
def studio_duty_cancel(duty: StudioDuty, *, actor, reason: str) -> StudioDuty:
    duty = StudioDuty.objects.select_for_update(of=("self",)).select_related("studio__community").get(pk=duty.pk)
    require_territory(actor, duty.studio.community)
    reason = _text(reason, "reason", _("请填写原因。"), 255)
    if duty.cancelled:
        raise DomainError("party.studio.duty_cancelled", _("该值班已取消。"), status=409)
    duty.cancelled, duty.cancel_reason = True, reason
    duty.save(update_fields=["cancelled", "cancel_reason"])
    audit_log(duty, "party.studio.duty_cancelled", actor=actor, old={"cancelled": False}, new={"cancelled": True},
              reason=reason)
    return duty


# -- visits ------------------------------------------------------------------------------------
@transaction.atomic
def studio_visit_record(
    studio: Studio,
    *,
    topic: str,
    actor,
    content: str = "",
    visitor_name: str = "",
    visitor_phone: str = "",
    address: str = "",
    lng: float | None = None,
    lat: float | None = None,
    received_at=None,
    now=None,
) -> StudioVisit:
    """Record a resident's visit. The representative on duty records it themself, or the community's
    staff do; the visit is tied to the turn on duty at `received_at` (default: now)."""
    now = now_or(now)
    received_at = received_at or now
    if received_at > now:
        raise DomainError("party.studio.future", _("来访时间不能晚于现在。"), field="received_at")
    topic = _text(topic, "topic", _("请填写反映事项（不超过 120 字）。"), 120)
    duty = on_duty(studio, received_at)
    uid = getattr(actor, "pk", None)
    rep = None
    if duty is not None and duty.representative.user_id == uid:
        rep = duty.representative
    elif access.can_act_for_territory(actor, studio.community.code):
        rep = duty.representative if duty is not None else None
    else:
        forbid(_("只有当班党代表或社区工作人员可以登记来访。"))
    if (lng is None) != (lat is None):
        raise DomainError("party.studio.bad_point", _("请同时填写经度和纬度。"), field="lng")
    visit = StudioVisit.objects.create(
        studio=studio, duty=duty if rep is not None else None, representative=rep,
        visitor_name=(visitor_name or "").strip()[:60], visitor_phone=(visitor_phone or "").strip()[:20],
        topic=topic, content=(content or "").strip(), address=(address or "").strip()[:255], lng=lng, lat=lat,
        received_at=received_at, recorded_by=actor)
    # The audit log is read more widely than the visit: no name or phone in it.
    audit_log(visit, "party.studio.visit_recorded", actor=actor, new={
        "studio": studio.pk, "topic": topic, "representative": rep.user.username if rep else None,
        "received_at": received_at.isoformat()})
    return visit


def _locked_open_visit(visit: StudioVisit, actor) -> StudioVisit:
    visit = (StudioVisit.objects.select_for_update(of=("self",))
             .select_related("studio__community", "representative").get(pk=visit.pk))
    if not may_handle_visit(actor, visit):
        forbid(_("只有接待的党代表或社区工作人员可以处理来访。"))
    if visit.status != VisitStatus.OPEN:
        raise DomainError("party.studio.visit_closed", _("该来访已处理。"), status=409)
    return visit


@transaction.atomic
def studio_visit_reply(visit: StudioVisit, *, reply: str, actor, now=None) -> StudioVisit:
    """The representative answered the resident directly (当场答复); nothing goes to dispatch."""
    now = now_or(now)
    visit = _locked_open_visit(visit, actor)
    reply = _text(reply, "reply", _("请填写答复内容。"), 4000)
    visit.status, visit.reply, visit.closed_at = VisitStatus.ANSWERED, reply, now
    visit.save(update_fields=["status", "reply", "closed_at"])
    audit_log(visit, "party.studio.visit_answered", actor=actor, old={"status": VisitStatus.OPEN},
              new={"status": visit.status})
    return visit


@transaction.atomic
def studio_visit_to_work_order(visit: StudioVisit, *, subject, actor, request_type=None, urgency=None,
                               now=None) -> StudioVisit:
    """Hand a visit to dispatch as a work order (工单), in this same transaction; the resident is the
    reporter so the callback reaches them. Idempotent through dispatch's key; a refusal by dispatch
    (no location, unknown subject …) is raised unchanged and nothing is stored."""
    now = now_or(now)
    visit = _locked_open_visit(visit, actor)
    description = visit.content or visit.topic
    order = open_work_order(
        subject=subject, request_type=request_type, urgency=urgency,
        title=visit.topic, description=_("【党代表工作室·%(studio)s】%(text)s") % {
            "studio": visit.studio.name, "text": description},
        key=f"party-studio-visit-{visit.pk}", lng=visit.lng, lat=visit.lat, address=visit.address,
        reporter_name=visit.visitor_name, reporter_phone=visit.visitor_phone, actor=actor, now=now)
    visit.status, visit.closed_at = VisitStatus.WORK_ORDER, now
    visit.work_order_id, visit.work_order_code = order.pk, order.code
    visit.save(update_fields=["status", "closed_at", "work_order_id", "work_order_code"])
    audit_log(visit, "party.studio.visit_to_order", actor=actor, old={"status": VisitStatus.OPEN},
              new={"status": visit.status, "work_order": order.code})
    return visit
