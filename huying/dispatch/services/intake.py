"""Intake (受理): every channel's submission becomes one work order, exactly once per idempotency key.

Two entry points share one path: `work_order_create` (one submission, one transaction) and
`work_orders_create_many` (a batch for bulk loads and the simulator, one transaction per batch).
Both validate, locate and route every submission before writing anything, then write each order
in a single INSERT already in its final state (submitted, or dispatched with both clocks when
auto-dispatch is on), and its assignment, timeline, audit and idempotency-key rows with one
INSERT per table.

The idempotency key row is written last, in the order's transaction, under a unique constraint:
a concurrent duplicate waits on that index, fails there, rolls back everything it wrote and
returns the winner's order. So the common case — a first submission — does not spend a query
looking the key up.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, router, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from huying.core import rows
from huying.core.audit import audit_row
from huying.core.errors import DomainError
from huying.core.models import AuditEntry
from huying.core.text import check_text, clean_text
from huying.core.worktime import get_calendar
from huying.people.models import RoleCode, Unit
from huying.people.scope import scope_for
from huying.territory import locator
from huying.territory.locator import locate_address, locate_point
from huying.territory.models import Division, Grid

from .. import reference
from .. import steps as step_rows
from ..deadlines import applicable_limits, plan_clocks
from ..deadlines import deadline_state as deadline_state_at
from ..models import (
    URGENCY_RANK,
    Assignment,
    Attachment,
    Channel,
    IdempotencyKey,
    LocationPrecision,
    RequestType,
    State,
    Subject,
    Transition,
    Urgency,
    WorkOrder,
)
from ..routing import Route
from ..signals import order_created, order_transitioned, send_many_on_commit
from ..triage import intake as classification
from ..workflow import transition_check
from .common import actor_label, has_any_role, now_or, unit_level
from .photos import Photo, photos_attach, photos_check
from .routing import place_units_q, route_for

PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{5,18}[0-9]$")


def _max(name: str) -> int:
    return WorkOrder._meta.get_field(name).max_length


# The order's text columns, checked here so that both databases answer the same (SQLite would store
# a longer value whole, PostgreSQL refuse it).
TITLE_MAX, ADDRESS_MAX = _max("title"), _max("address")
REPORTER_NAME_MAX, REPORTER_PHONE_MAX = _max("reporter_name"), _max("reporter_phone")
OVERRIDE_REASON_MAX = Assignment._meta.get_field("override_reason").max_length
KEY_MAX = IdempotencyKey._meta.get_field("key").max_length

# Who may submit through which channel; web and API take anyone the page or API let in.
CHANNEL_ROLES = {
    Channel.HOTLINE: (RoleCode.OPERATOR, RoleCode.DISPATCHER),
    Channel.PATROL: (RoleCode.GRID_WORKER, RoleCode.HANDLER),
}
# Who may name the handling unit at intake instead of the routing's proposal (with a reason).
OVERRIDE_ROLES = (RoleCode.OPERATOR, RoleCode.DISPATCHER)

# A write that fails on a unique or foreign-key constraint is tried again this many times in all:
# a tracking code drawn twice (1 in 10^10), or a cached row deleted meanwhile by another process.
ATTEMPTS = 3

# What a batch item may contain: `work_order_create`'s arguments except the batch-wide ones.
ITEM_FIELDS = frozenset({
    "channel", "subject", "title", "idempotency_key", "description", "request_type", "lng", "lat", "address",
    "reporter_name", "reporter_phone", "anonymous", "urgency", "photos", "auto_dispatch", "unit", "override_reason",
})


def subject_resolve(subject) -> Subject:
    if isinstance(subject, Subject):
        return subject
    code = check_text(subject, field="subject").strip()
    found = reference.subject(code) if code else None
    if found is None:
        raise DomainError("dispatch.unknown_subject", _("事项分类“%(code)s”不存在。") % {"code": code},
                          field="subject", status=400)
    return found


def request_type_resolve(request_type) -> RequestType | None:
    if request_type is None or request_type == "" or isinstance(request_type, RequestType):
        return request_type or None
    found = reference.request_type(check_text(request_type, field="request_type").strip())
    if found is None:
        raise DomainError("dispatch.unknown_request_type",
                          _("诉求类型“%(code)s”不存在。") % {"code": request_type}, field="request_type")
    return found


def _place(p):
    return (p.code, p.name) if p is not None else ("", "")


def _area_from_location(loc, *, lng=None, lat=None) -> dict:
    """The order's territorial fields from a locator Location."""
    district, street, community, grid = (getattr(loc, k, None) for k in ("district", "street", "community", "grid"))
    codes = [_place(p)[0] for p in (district, street, community, grid)]
    names = [_place(p)[1] for p in (district, street, community, grid) if p is not None]
    area = {
        "grid_id": getattr(loc, "grid_id", None),
        "community_id": getattr(loc, "community_id", None),
        "district_code": codes[0],
        "street_code": codes[1],
        "community_code": codes[2],
        "area_code": next((c for c in reversed(codes) if c), ""),
        "area_label": " ".join(names)[:200],
        "location_precision": _precision(area_grid=getattr(loc, "grid_id", None) or codes[3], codes=codes),
    }
    if lng is None or lat is None:
        # An address match may carry no point of its own: the grid's (else community's) centre.
        lng, lat = getattr(loc, "lng", None), getattr(loc, "lat", None)
        if lng is None and area["grid_id"]:
            lng, lat = Grid.objects.filter(pk=area["grid_id"]).values_list("lng", "lat").first() or (None, None)
        if lng is None and area["community_id"]:
            lng, lat = Division.objects.filter(pk=area["community_id"]).values_list("lng", "lat").first() or (None, None)
        if lng is None:
            lng, lat = _division_centre(codes[:3])
    area["lng"], area["lat"] = lng, lat
    return area


def _precision(*, area_grid, codes) -> str:
    """How deep the location reaches (网格 / 社区 / 街道 / 区): coarser ones are refined by the operator."""
    if area_grid:
        return LocationPrecision.GRID
    for code, precision in zip(codes[2::-1], (LocationPrecision.COMMUNITY, LocationPrecision.STREET,
                                              LocationPrecision.DISTRICT), strict=True):
        if code:
            return precision
    return LocationPrecision.DISTRICT


def _division_centre(codes) -> tuple[float | None, float | None]:
    """The centre of the deepest of these divisions that has one (a street may have no boundary yet:
    its district's centre stands in until the operator places the order)."""
    rows = Division.objects.filter(code__in=[c for c in codes if c], lng__isnull=False, lat__isnull=False)
    best = max(rows.values_list("code", "lng", "lat"), key=lambda r: len(r[0]), default=None)
    return (best[1], best[2]) if best else (None, None)


def parse_point(lng, lat) -> tuple[float, float] | None:
    """(lng, lat) as floats, None when neither is given; malformed or out of range is a 400."""
    if lng in (None, "") and lat in (None, ""):
        return None
    try:
        lng, lat = float(lng), float(lat)
    except (TypeError, ValueError):
        raise DomainError("dispatch.bad_location", _("经纬度格式不正确。"), field="location") from None
    if not (math.isfinite(lng) and math.isfinite(lat) and -180 <= lng <= 180 and -90 <= lat <= 90):
        raise DomainError("dispatch.bad_location", _("经纬度超出范围。"), field="location")
    return round(lng, 7), round(lat, 7)


def _outside_point() -> DomainError:
    return DomainError("dispatch.outside_city", _("该位置不在本市范围内，无法受理。"), field="location", status=422)


def locate(*, lng=None, lat=None, address: str = "") -> dict:
    """Place a submission in the city; refuse a missing or outside location before anything is stored."""
    point = parse_point(lng, lat)
    if point is not None:
        lng, lat = point
        loc = locate_point(lng, lat)
        if loc is None:
            raise _outside_point()
        return _area_from_location(loc, lng=lng, lat=lat)
    address = (address or "").strip()
    if not address:
        raise DomainError("dispatch.no_location", _("请在地图上选点或填写地址。"), field="location")
    match = locate_address(address)
    if getattr(match, "outside", False):
        raise DomainError("dispatch.outside_city", _("该地址不在本市范围内，无法受理。"), field="address", status=422)
    if not getattr(match, "found", False) or match.location is None:
        raise DomainError("dispatch.address_not_found",
                          _("未能识别该地址，请写明所在的区、街道（镇）或社区，或在地图上选点。"), field="address")
    area = _area_from_location(match.location)
    if area["lng"] is None:
        raise DomainError("dispatch.address_not_found", _("未能确定该地址的位置，请在地图上选点。"), field="address")
    return area


def locate_many(points: list[tuple[float, float]]) -> list[dict | None]:
    """`locate` for many parsed points at once through the locator's vectorised index.

    A point that falls in no grid gets None here; the caller asks `locate` for it, which answers
    from the division polygons or refuses it as outside the city.
    """
    if not points:
        return []
    ids = locator.locate_points([p[0] for p in points], [p[1] for p in points])
    out: list[dict | None] = []
    for (lng, lat), grid_id in zip(points, ids.tolist(), strict=True):
        loc = locator.location_of_grid(grid_id) if grid_id >= 0 else None
        out.append(_area_from_location(loc, lng=lng, lat=lat) if loc is not None else None)
    return out


def _request_hash(body: dict) -> str:
    # surrogatepass: a lone surrogate hashes instead of crashing (the same bytes as before for any other text).
    text = json.dumps(body, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _draw_codes(now: datetime, n: int) -> list[str]:
    """Tracking codes residents can read out on the phone: date + 10 random digits.

    Not looked up first: the unique index refuses the one-in-10^10 repeat and the write is tried again.
    """
    day = f"{now.astimezone(ZoneInfo(settings.TIME_ZONE)):%y%m%d}"
    codes: set[str] = set()
    while len(codes) < n:
        codes.add(f"{day}{secrets.randbelow(10**10):010d}")
    return list(codes)


def _replay(existing: IdempotencyKey, request_hash: str) -> WorkOrder:
    if existing.request_hash != request_hash or existing.order_id is None:
        raise _mismatch()
    return WorkOrder.objects.get(pk=existing.order_id)


def _mismatch() -> DomainError:
    return DomainError("dispatch.idempotency_mismatch", _("该幂等键已用于另一份不同内容的提交，请勿重复使用。"),
                       field="idempotency_key", status=422)


@dataclass
class _Draft:
    """A submission that passed every check: everything its rows need, nothing written yet."""

    channel: str
    subject: Subject | None  # None until the classifier names it (classification.classify_drafts)
    chain: list[Subject]
    request_type: RequestType | None
    body: dict
    scope: str
    key: str
    request_hash: str
    photos: list[Photo]
    point: tuple[float, float] | None
    auto_dispatch: bool
    area: dict | None = None
    urgency: str = Urgency.NORMAL
    route: Route | None = None
    unit: Unit | None = None  # named at intake by an operator: dispatched there at once
    override_reason: str = ""
    auto_requested: bool | None = None  # the caller's own auto_dispatch, before the setting's default
    classified: classification.Classified | None = None


def _named_unit(unit, actor) -> Unit:
    if not has_any_role(actor, *OVERRIDE_ROLES):
        raise DomainError("dispatch.forbidden", _("只有话务员或派单员可以在受理时指定承办单位。"), field="unit",
                          status=403)
    pk = getattr(unit, "pk", unit)
    try:
        found = Unit.objects.select_related("division").filter(pk=int(pk), active=True).first()
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise DomainError("dispatch.unknown_unit", _("承办单位不存在或已停用。"), field="unit")
    return found


def _check(*, channel, subject, title, idempotency_key, description="", request_type=None, lng=None, lat=None,
           address="", reporter_name="", reporter_phone="", anonymous=False, urgency=None, photos=(),
           auto_dispatch=None, unit=None, override_reason="", actor=None) -> _Draft:
    """Every check that needs no location, in the order the single path has always made them."""
    try:
        channel = Channel(channel)
    except ValueError:
        raise DomainError("dispatch.bad_channel", _("未知的来源渠道。"), field="channel") from None
    if channel in CHANNEL_ROLES and not has_any_role(actor, *CHANNEL_ROLES[channel]):
        raise DomainError("dispatch.forbidden", _("您没有通过该渠道录入工单的权限。"), status=403)
    # The key is the caller's opaque token: refused if unstorable, never rewritten.
    key = check_text(idempotency_key, field="idempotency_key").strip()
    if not key or len(key) > KEY_MAX:
        raise DomainError("dispatch.idempotency_key_required", _("缺少幂等键（1–100 个字符）。"),
                          field="idempotency_key")
    # Every channel's text is cleaned here, once, before it is checked, hashed or stored.
    title = clean_text(title, field="title", max_length=TITLE_MAX)
    if not title:
        raise DomainError("dispatch.required", _("请填写标题。"), field="title")
    description = clean_text(description, field="description", multiline=True)
    address = clean_text(address, field="address", max_length=ADDRESS_MAX)
    reporter_name = clean_text(reporter_name, field="reporter_name", max_length=REPORTER_NAME_MAX)
    reporter_phone = clean_text(reporter_phone, field="reporter_phone", max_length=REPORTER_PHONE_MAX)
    if reporter_phone and not PHONE_RE.match(reporter_phone):
        raise DomainError("dispatch.bad_phone", _("联系电话格式不正确。"), field="reporter_phone")
    if urgency not in (None, ""):
        try:
            urgency = Urgency(urgency)
        except ValueError:
            raise DomainError("dispatch.bad_urgency", _("未知的紧急程度。"), field="urgency") from None
    named = _named_unit(unit, actor) if unit not in (None, "") else None
    override_reason = (clean_text(override_reason, field="override_reason", max_length=OVERRIDE_REASON_MAX)
                       if named else "")
    subject = None if classification.wants_classification(channel, subject) else subject_resolve(subject)
    request_type = request_type_resolve(request_type)
    checked = photos_check(photos)
    point = parse_point(lng, lat)
    if point is None and not address:
        raise DomainError("dispatch.no_location", _("请在地图上选点或填写地址。"), field="location")

    body = {
        "channel": channel, "subject": subject.code if subject else "",
        "request_type": request_type.code if request_type else None,
        "title": title, "description": description, "lng": point[0] if point else None,
        "lat": point[1] if point else None, "address": address,
        "reporter_name": reporter_name, "reporter_phone": reporter_phone,
        "anonymous": bool(anonymous), "urgency": urgency or "", "photos": [p.sha256 for p in checked],
    }
    if named is not None:
        # Only when named, so the keys stored before intake could name a unit keep their hashes.
        body.update(unit=named.pk, override_reason=override_reason)
    auto_requested = auto_dispatch
    if auto_dispatch is None:
        auto_dispatch = settings.HUYING_DISPATCH_AUTO
    return _Draft(
        channel=channel, subject=subject, chain=reference.subject_chain(subject) if subject else [],
        request_type=request_type,
        body=body, scope=f"user:{actor.pk}" if getattr(actor, "pk", None) else f"channel:{channel}", key=key,
        request_hash=_request_hash(body), photos=checked, point=point, auto_dispatch=bool(auto_dispatch),
        unit=named, override_reason=override_reason, auto_requested=auto_requested,
    )


def _check_patrol_place(area: dict, actor) -> None:
    """A patrol reports what it finds in its own territory (a grid worker, their grid).

    Staff of a unit without territory (a citywide department's inspectors) patrol the whole city.
    """
    scope = scope_for(actor)
    if scope.whole_city or not scope.division_codes or scope.covers(area.get("area_code")):
        return
    raise DomainError("dispatch.outside_territory", _("该位置不在您负责的网格（辖区）内，请核对位置后再上报。"),
                      field="location", status=403)


def _check_named_unit(d: _Draft, area: dict, actor) -> None:
    """The unit an operator names must serve the located place, and naming another unit than the
    routing's proposal is an override that needs a reason."""
    if not (getattr(actor, "is_superuser", False) or scope_for(actor).covers(area.get("area_code"))):
        raise DomainError("dispatch.forbidden", _("该位置不在您的管辖范围内，不能指定承办单位。"), field="unit",
                          status=403)
    here = place_units_q(district_code=area.get("district_code", ""), street_code=area.get("street_code", ""),
                         community_code=area.get("community_code", ""), grid_id=area.get("grid_id"))
    if not Unit.objects.filter(here, pk=d.unit.pk).exists():
        raise DomainError("dispatch.unit_not_here", _("所选承办单位不负责该位置，请另选单位。"), field="unit")
    if d.unit.pk != d.route.unit_id and not d.override_reason:
        raise DomainError("dispatch.override_reason_required", _("改变系统建议的承办单位时，请填写理由。"),
                          field="override_reason")


def _territory_names(codes) -> str:
    found = dict(Division.objects.filter(code__in=list(codes)).values_list("code", "name"))
    found.update(Grid.objects.filter(code__in=[c for c in codes if c not in found]).values_list("code", "name"))
    return "、".join(found.get(c, c) for c in codes)


def _check_hotline_place(area: dict, actor) -> None:
    """A hotline call is taken for the caller's place by a seat whose territory holds it: the 12345
    centre (a city-level command unit, whole city) takes calls from anywhere, a district or street
    seat only from its own district or street. A seat with no territory takes none: the order would
    land outside everything it may see."""
    scope = scope_for(actor)
    if getattr(actor, "is_superuser", False) or scope.whole_city or scope.covers(area.get("area_code")):
        return
    place = area.get("area_label") or area.get("area_code") or _("该位置")
    if not scope.division_codes:
        message = _("您所在的单位没有辖区，不能受理“%(place)s”的热线来电，请转市 12345 热线中心受理。") % {"place": place}
    else:
        message = _("“%(place)s”不在您的辖区（%(mine)s）内，不能受理该地的热线来电，请转市 12345 热线中心"
                    "或当地受理。") % {"place": place, "mine": _territory_names(scope.division_codes)}
    raise DomainError("dispatch.outside_territory", message, field="location", status=403)


def _route(d: _Draft, area: dict, now, actor) -> None:
    """Place, route and check a draft against its location; raises before anything is written."""
    if d.channel == Channel.PATROL:
        _check_patrol_place(area, actor)
    d.area = area
    subject_urgency = next((s.urgency for s in d.chain if s.urgency), Urgency.NORMAL)
    d.urgency = max([d.body["urgency"] or Urgency.NORMAL, subject_urgency], key=lambda u: URGENCY_RANK[Urgency(u)])
    d.route = route_for(subject=d.subject, subject_chain=d.chain, request_type=d.request_type, urgency=d.urgency,
                        area=area, now=now)
    classification.apply_route(d)
    if d.unit is not None:
        _check_named_unit(d, area, actor)
    if d.channel == Channel.HOTLINE:
        _check_hotline_place(area, actor)


class _MemoCalendar:
    """The working calendar with its answers remembered: limits are compared by when each would end,
    then the winner's end is computed again, and a batch's orders share one start."""

    def __init__(self, cal):
        self._cal = cal
        self._add: dict = {}
        self._between: dict = {}

    def add(self, start, *, hours: float = 0, days: float = 0):
        k = (start, hours, days)
        if k not in self._add:
            self._add[k] = self._cal.add(start, hours=hours, days=days)
        return self._add[k]

    def working_seconds_between(self, start, end):
        k = (start, end)
        if k not in self._between:
            self._between[k] = self._cal.working_seconds_between(start, end)
        return self._between[k]


@dataclass
class _Dispatch:
    """Auto-dispatch of a fresh order (what `lifecycle.dispatch_to` does for a submitted one)."""

    unit_id: int
    cohandler_ids: list[int]
    level: str
    limits: object
    plan: object
    by_actor: bool = False  # an operator named the unit; else the system dispatched by the proposal
    override_reason: str = ""


def _order(d: _Draft, code: str, *, actor, now, cal, plans: dict) -> tuple[WorkOrder, _Dispatch | None]:
    """The order row in its final state: submitted, or dispatched with both clocks running."""
    a, route, body = d.area, d.route, d.body
    who = actor if getattr(actor, "pk", None) else None
    order = WorkOrder(
        code=code, channel=d.channel, request_type=d.request_type, subject=d.subject, title=body["title"],
        description=body["description"], urgency=d.urgency,
        reporter=who if d.channel in (Channel.WEB, Channel.API) else None, reporter_name=body["reporter_name"],
        reporter_phone=body["reporter_phone"], anonymous=body["anonymous"], created_by=who,
        lng=a["lng"], lat=a["lat"], address=body["address"], grid_id=a["grid_id"],
        community_id=a["community_id"], district_code=a["district_code"], street_code=a["street_code"],
        area_code=a["area_code"], area_label=a["area_label"],
        location_precision=a.get("location_precision", LocationPrecision.GRID), state=State.SUBMITTED, version=1,
        proposed_unit_id=route.unit_id, routing=route.as_dict(), created_at=now, updated_at=now,
    )
    if d.unit is None and not (d.auto_dispatch and route.unit_id is not None):
        return order, None
    transition_check(State.SUBMITTED, State.DISPATCHED)
    key = (d.request_type.pk if d.request_type else None, order.emergency, tuple(s.pk for s in d.chain))
    if key not in plans:
        limits = applicable_limits(request_type=d.request_type, subject_chain=d.chain, emergency=order.emergency,
                                   start=now, cal=cal)
        plans[key] = (limits, plan_clocks(start=now, limits=limits, cal=cal))
    limits, plan = plans[key]
    if d.unit is not None:
        unit_id, level, cohandlers = d.unit.pk, unit_level(d.unit), []
    else:
        unit_id, level = route.unit_id, route.level
        cohandlers = [c for c in dict.fromkeys(route.cohandler_ids or ()) if c and c != unit_id]
    order.state = State.DISPATCHED
    order.version = 2  # created (1), then dispatched (2): what the two-step path has always recorded
    if d.unit is not None:
        order.lead_unit = d.unit  # loaded already: whoever answers the submission reads its name
    order.lead_unit_id = unit_id
    order.handling_level = level
    order.dispatched_at = now
    order.response_due, order.resolve_due, order.warn_at = plan.response_due, plan.resolve_due, plan.warn_at
    order.deadline_state = deadline_state_at(now=now, warn_at=plan.warn_at, resolve_due=plan.resolve_due)
    override = d.override_reason if d.unit is not None and unit_id != route.unit_id else ""
    return order, _Dispatch(unit_id, cohandlers, level, limits, plan, by_actor=d.unit is not None,
                            override_reason=override)


def _audit(order: WorkOrder, built: dict, *, actor) -> dict:
    """The audit row of a step built by `dispatch.steps` (its time is when it is written)."""
    a = built["audit"]
    return audit_row(order, a["action"], actor=actor, old=a["old"], new=a["new"], data=a["data"], reason=a["reason"])


def _prefetched(order: WorkOrder, name: str, objs: list) -> None:
    """Leave `objs` in Django's prefetch cache of `order.<name>`, as prefetch_related would."""
    qs = getattr(order, name).all()
    qs._result_cache = objs
    qs._prefetch_done = True
    order._prefetched_objects_cache[name] = qs


def _remember(orders: list[WorkOrder], made: list, steps: list[dict], step_ids: list[int]) -> None:
    """Hand the rows just written back on the orders (their timeline and co-handlers), so whoever
    answers the submission — the API's create response — reads nothing back."""
    by_order: dict[int, list] = {o.pk: [] for o in orders}
    for step, pk in zip(steps, step_ids, strict=True):
        t = Transition(id=pk, **step)
        t._state.adding, t._state.db = False, orders[0]._state.db
        by_order[step["order_id"]].append(t)
    for order, (_o, dx) in zip(orders, made, strict=True):
        order._prefetched_objects_cache = {}
        _prefetched(order, "transitions", by_order[order.pk])
        # Only their ids are known here: the rest of each row loads if someone reads it (deferred fields).
        units = [Unit.from_db(order._state.db, ["id"], (c,)) for c in (dx.cohandler_ids if dx else ())]
        _prefetched(order, "cohandlers", units)
        _prefetched(order, "children", [])  # a new order has not been split
        if order.lead_unit_id and not WorkOrder.lead_unit.is_cached(order):
            order.lead_unit = reference.unit(order.lead_unit_id)  # its name, for the answer


def _write(drafts: list[_Draft], *, actor, now, remember: bool = False) -> list[WorkOrder]:
    """Insert the drafts' orders and all their rows, one INSERT per table; the caller holds the transaction.

    With `remember`, the orders come back carrying their timeline and co-handlers (see `_remember`).
    """
    cal = _MemoCalendar(get_calendar())
    plans: dict = {}
    made = [_order(d, code, actor=actor, now=now, cal=cal, plans=plans)
            for d, code in zip(drafts, _draw_codes(now, len(drafts)), strict=True)]
    # PostgreSQL: one pipeline for the whole write, so only the statements whose ids the next ones
    # need (orders, assignments, steps) wait for an answer; the rest travel with them and the commit.
    using = router.db_for_write(WorkOrder)
    with rows.pipelined(using):
        return _write_rows(drafts, made, actor=actor, now=now, remember=remember)


def _write_rows(drafts: list[_Draft], made: list, *, actor, now, remember: bool) -> list[WorkOrder]:
    orders = rows.insert_objects([o for o, _x in made])

    dispatched = [(o, dx) for o, dx in made if dx is not None]
    who = actor.pk if getattr(actor, "pk", None) else None
    assignment_ids = rows.insert_rows(Assignment, [
        {**step_rows.dispatched_assignment(unit_id=dx.unit_id, cohandler_ids=dx.cohandler_ids, level=dx.level,
                                           plan=dx.plan, limits=dx.limits.as_dict(), at=now,
                                           override_reason=dx.override_reason),
         "order_id": o.pk, "dispatched_by_id": who if dx.by_actor else None}
        for o, dx in dispatched
    ])
    assignment_of = {o.pk: a for (o, _dx), a in zip(dispatched, assignment_ids, strict=True)}
    rows.insert_rows(WorkOrder.cohandlers.through, [
        {"workorder_id": o.pk, "unit_id": c} for o, dx in dispatched for c in dx.cohandler_ids
    ], returning=False)

    steps: list[dict] = []
    audits = []
    signals: list[tuple] = []
    carried: list[tuple[dict, int, WorkOrder]] = []  # dispatch announcements that carry their step
    label, system = actor_label(actor), actor_label(None)
    auto_note = _("自动派单")
    for (order, dx), d in zip(made, drafts, strict=True):
        if d.photos:
            photos_attach(order, d.photos, kind=Attachment.Kind.REPORT, actor=actor, now=now)
        built = step_rows.created(at=now, channel=d.channel, routing=d.route.as_dict(), photos=len(d.photos))
        steps.append({"order_id": order.pk, "actor_id": who, "actor_label": label, **built["transition"]})
        audits.append(_audit(order, built, actor=actor))
        signals.append((order_transitioned, {"order_id": order.pk, "action": "created", "from_state": "",
                                             "to_state": State.SUBMITTED, "unit_id": None}))
        signals.append((order_created, {"order_id": order.pk, "code": order.code, "state": State.SUBMITTED,
                                        "channel": d.channel}))
        if dx is None:
            continue
        # The operator named the unit while taking the call (受理即派): their step, their reason.
        note, step_actor = (d.override_reason, actor) if dx.by_actor else (auto_note, None)
        built = step_rows.dispatched(from_state=State.SUBMITTED.value, version=2, at=now, unit_id=dx.unit_id,
                                     level=dx.level, plan=dx.plan, limits=dx.limits.as_dict(),
                                     cohandler_ids=dx.cohandler_ids, assignment_id=assignment_of[order.pk],
                                     override_reason=dx.override_reason, note=note)
        if dx.by_actor:
            built["transition"]["data"].update(at_intake=True, proposed_unit_id=d.route.unit_id)
        steps.append({"order_id": order.pk, "actor_id": who if dx.by_actor else None,
                      "actor_label": label if dx.by_actor else system, **built["transition"]})
        audits.append(_audit(order, built, actor=step_actor))
        announced = {"order_id": order.pk, "action": "dispatched", "from_state": State.SUBMITTED,
                     "to_state": State.DISPATCHED, "unit_id": dx.unit_id}
        signals.append((order_transitioned, announced))
        carried.append((announced, len(steps) - 1, order))
    audits += classification.record(orders, drafts, now=now)
    step_ids = rows.insert_rows(Transition, steps)
    for announced, index, order in carried:
        # What the outbox would otherwise read back (notify.services._STEP_FIELDS): it has it in hand.
        announced["step"] = {"step": step_ids[index], "at": now, "code": order.code, "title": order.title,
                             "lead_unit_id": order.lead_unit_id, "response_due": order.response_due,
                             "resolve_due": order.resolve_due, "reporter_id": order.reporter_id,
                             "reporter_phone": order.reporter_phone}
    if remember:
        _remember(orders, made, steps, step_ids)
    rows.insert_rows(AuditEntry, audits, returning=False)
    rows.insert_rows(IdempotencyKey, [
        {"scope": d.scope, "key": d.key, "request_hash": d.request_hash, "order_id": o.pk, "created_at": now}
        for o, d in zip(orders, drafts, strict=True)
    ], returning=False)
    # Through send_many_on_commit, so whatever it does inside the transaction (the notify outbox's
    # order_event) happens for intake exactly as for every other change.
    send_many_on_commit(signals)
    return orders


def work_order_create(
    *,
    channel: str,
    subject,
    title: str,
    idempotency_key: str,
    description: str = "",
    request_type=None,
    lng: float | None = None,
    lat: float | None = None,
    address: str = "",
    reporter_name: str = "",
    reporter_phone: str = "",
    anonymous: bool = False,
    urgency: str | None = None,
    actor=None,
    photos=(),
    auto_dispatch: bool | None = None,
    unit=None,
    override_reason: str = "",
    now=None,
    answer: bool = False,
) -> WorkOrder:
    """Take in one call (受理) from any channel; a retry with the same key returns the same order.

    Validates everything before writing: an unknown subject or request type, no location, a
    location outside the city, a bad photo or a key reused for another body each raise
    DomainError (4xx) and store nothing. The order is routed at once (its proposed unit);
    with `auto_dispatch` (default: setting HUYING_DISPATCH_AUTO, off) it is also dispatched.

    `unit` (a Unit or its id): a hotline operator or dispatcher names the handling unit while
    taking the call, and the order is dispatched there at once, by them. The unit must serve the
    located place; another unit than the routing's proposal is an override and needs
    `override_reason`, kept on the assignment, the timeline step and the audit row.
    A patrol report (channel "patrol") must lie in the reporter's own territory.
    Without `subject`, a web, API or other system's submission is classified (dispatch/triage/intake.py):
    it gets the subject mapped to the predicted family and is dispatched at once when the classifier is
    sure enough, else it waits for an operator's triage; its Classification row is written with it.
    With `answer` (the API's create, which answers with the order's detail), a new order comes back
    with its timeline steps and co-handlers in Django's prefetch cache (`order.transitions.all()`,
    `order.cohandlers.all()`) and its lead unit's name, so answering reads nothing back;
    `refresh_from_db()` drops them, as it drops any prefetch. Callers that only redirect or store
    the order skip building them.
    Atomic: inside a caller's transaction it is a savepoint, otherwise its own transaction, and
    it returns after that commits.
    """
    now = now_or(now)
    args = dict(channel=channel, subject=subject, title=title, idempotency_key=idempotency_key,
                description=description, request_type=request_type, lng=lng, lat=lat, address=address,
                reporter_name=reporter_name, reporter_phone=reporter_phone, anonymous=anonymous, urgency=urgency,
                photos=photos, auto_dispatch=auto_dispatch, unit=unit, override_reason=override_reason)
    d = _check(actor=actor, **args)
    if d.photos:
        # Photos are written to storage before the rows; a replay should not write them again.
        existing = IdempotencyKey.objects.filter(scope=d.scope, key=d.key).first()
        if existing is not None:
            return _replay(existing, d.request_hash)
    point = d.point
    area = locate(lng=point[0] if point else None, lat=point[1] if point else None, address=d.body["address"])
    classification.classify_drafts([d])
    for attempt in range(1, ATTEMPTS + 1):
        if attempt > 1:
            # A cached row may be gone (deleted by another process): check again with fresh caches.
            reference.reset()
            d = _check(actor=actor, **args)
            classification.classify_drafts([d])
        _route(d, area, now, actor)
        try:
            with transaction.atomic():
                return _write([d], actor=actor, now=now, remember=answer)[0]
        except IntegrityError:
            existing = IdempotencyKey.objects.filter(scope=d.scope, key=d.key).first()
            if existing is not None:
                return _replay(existing, d.request_hash)
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _in_batch(index: int, exc: DomainError) -> DomainError:
    exc.details = {**exc.details, "index": index}
    return exc


def work_orders_create_many(items, *, actor, now=None) -> list[WorkOrder]:
    """Take in many submissions at once (bulk loads, other systems' backlogs, the simulator).

    Each item is a dict of `work_order_create`'s arguments (without `actor` and `now`, which hold
    for the whole batch) and goes through the same checks, locating, routing, deadlines, timeline
    and audit; the batch is written in one transaction with one INSERT per table. One bad item
    refuses the whole batch: its DomainError carries the item's position as `details["index"]`,
    and nothing is stored. Returns the orders in the items' order; an item whose idempotency key
    was already used with the same body (earlier, or earlier in this batch) gets that order.
    """
    now = now_or(now)
    items = list(items)
    for i, item in enumerate(items):
        unknown = set(item) - ITEM_FIELDS
        if unknown:
            raise TypeError(f"batch item {i} has unknown fields: {sorted(unknown)}")
    drafts = _check_all(items, actor=actor)
    if not drafts:
        return []

    # Points go through the vectorised locator together; addresses and points between grids one by one.
    with_point = [i for i, d in enumerate(drafts) if d.point is not None]
    areas: dict[int, dict | None] = dict(zip(with_point, locate_many([drafts[i].point for i in with_point]),
                                             strict=True))
    for i, d in enumerate(drafts):
        if areas.get(i) is None:
            try:
                areas[i] = locate(lng=d.point[0] if d.point else None, lat=d.point[1] if d.point else None,
                                  address=d.body["address"])
            except DomainError as exc:
                raise _in_batch(i, exc) from None
    classification.classify_drafts(drafts)  # one classifier call for the whole batch

    for attempt in range(1, ATTEMPTS + 1):
        if attempt > 1:
            # A key taken meanwhile by another process is found by this attempt's look-up; a cached
            # row deleted meanwhile is read again.
            reference.reset()
            drafts = _check_all(items, actor=actor)
            classification.classify_drafts(drafts)
        for i, d in enumerate(drafts):
            try:
                _route(d, areas[i], now, actor)
            except DomainError as exc:
                raise _in_batch(i, exc) from None
        try:
            with transaction.atomic():
                return _create_batch(drafts, actor=actor, now=now)
        except IntegrityError:
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _check_all(items: list[dict], *, actor) -> list[_Draft]:
    drafts = []
    for i, item in enumerate(items):
        try:
            drafts.append(_check(actor=actor, **item))
        except DomainError as exc:
            raise _in_batch(i, exc) from None
    return drafts


def _create_batch(drafts: list[_Draft], *, actor, now) -> list[WorkOrder]:
    """Replays and repeats resolved, the rest written; in the caller's transaction."""
    by_scope: dict[str, set[str]] = {}
    for d in drafts:
        by_scope.setdefault(d.scope, set()).add(d.key)
    q = Q(pk__in=[])
    for scope, keys in by_scope.items():
        q |= Q(scope=scope, key__in=sorted(keys))
    stored = {(k.scope, k.key): k for k in IdempotencyKey.objects.filter(q)}
    earlier = WorkOrder.objects.in_bulk([k.order_id for k in stored.values() if k.order_id])

    first: dict[tuple[str, str], int] = {}  # (scope, key) → the position of its first draft here
    new: list[_Draft] = []
    for i, d in enumerate(drafts):
        ident = (d.scope, d.key)
        k = stored.get(ident)
        if k is not None:
            if k.request_hash != d.request_hash or k.order_id not in earlier:
                raise _in_batch(i, _mismatch())
        elif ident in first:
            if drafts[first[ident]].request_hash != d.request_hash:
                raise _in_batch(i, _mismatch())
        else:
            first[ident] = i
            new.append(d)
    made = dict(zip((id(d) for d in new), _write(new, actor=actor, now=now), strict=True)) if new else {}
    out = []
    for d in drafts:
        ident = (d.scope, d.key)
        if ident in stored:
            out.append(earlier[stored[ident].order_id])
        else:
            out.append(made[id(drafts[first[ident]])])
    return out
