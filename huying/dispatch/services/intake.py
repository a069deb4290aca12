"""Intake (受理): every channel's submission becomes one work order, exactly once per idempotency key."""

import hashlib
import json
import math
import re
import secrets
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from huying.core.errors import DomainError
from huying.people.models import RoleCode
from huying.territory.models import Division, Grid

from .. import spine
from ..models import (
    URGENCY_RANK,
    Attachment,
    Channel,
    IdempotencyKey,
    RequestType,
    State,
    Subject,
    Urgency,
    WorkOrder,
)
from ..signals import order_created, send_on_commit
from .common import has_any_role, now_or, record
from .photos import photos_attach, photos_check
from .routing import route_for

PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{5,18}[0-9]$")

# Who may submit through which channel; web and API take anyone the page or API let in.
CHANNEL_ROLES = {
    Channel.HOTLINE: (RoleCode.OPERATOR, RoleCode.DISPATCHER),
    Channel.PATROL: (RoleCode.GRID_WORKER, RoleCode.HANDLER),
}


def subject_resolve(subject) -> Subject:
    if isinstance(subject, Subject):
        return subject
    code = str(subject or "").strip()
    found = Subject.objects.filter(code=code, active=True).first() if code else None
    if found is None:
        raise DomainError("dispatch.unknown_subject", _("事项分类“%(code)s”不存在。") % {"code": code},
                          field="subject", status=400)
    return found


def request_type_resolve(request_type) -> RequestType | None:
    if request_type is None or request_type == "" or isinstance(request_type, RequestType):
        return request_type or None
    found = RequestType.objects.filter(code=str(request_type).strip(), active=True).first()
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
    }
    if lng is None or lat is None:
        # An address match may carry no point of its own: the grid's (else community's) centre.
        lng, lat = getattr(loc, "lng", None), getattr(loc, "lat", None)
        if lng is None and area["grid_id"]:
            lng, lat = Grid.objects.filter(pk=area["grid_id"]).values_list("lng", "lat").first() or (None, None)
        if lng is None and area["community_id"]:
            lng, lat = Division.objects.filter(pk=area["community_id"]).values_list("lng", "lat").first() or (None, None)
    area["lng"], area["lat"] = lng, lat
    return area


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


def locate(*, lng=None, lat=None, address: str = "") -> dict:
    """Place a submission in the city; refuse a missing or outside location before anything is stored."""
    point = parse_point(lng, lat)
    if point is not None:
        lng, lat = point
        loc = spine.locate_point(lng, lat)
        if loc is None:
            raise DomainError("dispatch.outside_city", _("该位置不在本市范围内，无法受理。"), field="location",
                              status=422)
        return _area_from_location(loc, lng=lng, lat=lat)
    address = (address or "").strip()
    if not address:
        raise DomainError("dispatch.no_location", _("请在地图上选点或填写地址。"), field="location")
    match = spine.locate_address(address)
    if getattr(match, "outside", False):
        raise DomainError("dispatch.outside_city", _("该地址不在本市范围内，无法受理。"), field="address", status=422)
    if not getattr(match, "found", False) or match.location is None:
        raise DomainError("dispatch.address_not_found", _("未能识别该地址，请在地图上选点。"), field="address")
    area = _area_from_location(match.location)
    if area["lng"] is None:
        raise DomainError("dispatch.address_not_found", _("未能确定该地址的位置，请在地图上选点。"), field="address")
    return area


def _request_hash(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _new_code(now) -> str:
    """A tracking code residents can read out on the phone: date + 10 random digits."""
    local = now.astimezone(ZoneInfo(settings.TIME_ZONE))
    for _attempt in range(5):
        code = f"{local:%y%m%d}{secrets.randbelow(10**10):010d}"
        if not WorkOrder.objects.filter(code=code).exists():
            return code
    raise RuntimeError("could not draw a free tracking code")  # pragma: no cover - 5 collisions in 1e10


def _replay(existing: IdempotencyKey, request_hash: str) -> WorkOrder:
    if existing.request_hash != request_hash or existing.order_id is None:
        raise DomainError("dispatch.idempotency_mismatch",
                          _("该幂等键已用于另一份不同内容的提交，请勿重复使用。"), field="idempotency_key",
                          status=422)
    return WorkOrder.objects.get(pk=existing.order_id)


@transaction.atomic
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
    now=None,
) -> WorkOrder:
    """Take in one call (受理) from any channel; a retry with the same key returns the same order.

    Validates everything before writing: an unknown subject or request type, no location, a
    location outside the city, a bad photo or a key reused for another body each raise
    DomainError (4xx) and store nothing. The order is routed at once (its proposed unit);
    with `auto_dispatch` (default: setting HUYING_DISPATCH_AUTO, off) it is also dispatched.
    """
    now = now_or(now)
    try:
        channel = Channel(channel)
    except ValueError:
        raise DomainError("dispatch.bad_channel", _("未知的来源渠道。"), field="channel") from None
    if channel in CHANNEL_ROLES and not has_any_role(actor, *CHANNEL_ROLES[channel]):
        raise DomainError("dispatch.forbidden", _("您没有通过该渠道录入工单的权限。"), status=403)
    key = (idempotency_key or "").strip()
    if not key or len(key) > 100:
        raise DomainError("dispatch.idempotency_key_required", _("缺少幂等键（1–100 个字符）。"),
                          field="idempotency_key")
    title = (title or "").strip()
    if not title:
        raise DomainError("dispatch.required", _("请填写标题。"), field="title")
    if len(title) > 120:
        raise DomainError("dispatch.too_long", _("标题不能超过 120 个字。"), field="title")
    reporter_phone = (reporter_phone or "").strip()
    if reporter_phone and not PHONE_RE.match(reporter_phone):
        raise DomainError("dispatch.bad_phone", _("联系电话格式不正确。"), field="reporter_phone")
    if urgency not in (None, ""):
        try:
            urgency = Urgency(urgency)
        except ValueError:
            raise DomainError("dispatch.bad_urgency", _("未知的紧急程度。"), field="urgency") from None
    subject = subject_resolve(subject)
    request_type = request_type_resolve(request_type)
    checked = photos_check(photos)
    point = parse_point(lng, lat)

    scope = f"user:{actor.pk}" if getattr(actor, "pk", None) else f"channel:{channel}"
    body = {
        "channel": channel, "subject": subject.code, "request_type": request_type.code if request_type else None,
        "title": title, "description": description or "", "lng": point[0] if point else None,
        "lat": point[1] if point else None, "address": (address or "").strip(),
        "reporter_name": (reporter_name or "").strip(), "reporter_phone": reporter_phone,
        "anonymous": bool(anonymous), "urgency": urgency or "", "photos": [p.sha256 for p in checked],
    }
    request_hash = _request_hash(body)
    existing = IdempotencyKey.objects.filter(scope=scope, key=key).first()
    if existing is not None:
        return _replay(existing, request_hash)

    area = locate(lng=point[0] if point else None, lat=point[1] if point else None, address=address)

    # The key row goes in first, in a savepoint: a concurrent duplicate waits on the unique index
    # and then fails here, before it has written an order, and replays the winner's.
    try:
        with transaction.atomic():
            key_row = IdempotencyKey.objects.create(scope=scope, key=key, request_hash=request_hash, created_at=now)
    except IntegrityError:
        return _replay(IdempotencyKey.objects.get(scope=scope, key=key), request_hash)

    chain = subject.ancestors()
    subject_urgency = next((s.urgency for s in chain if s.urgency), Urgency.NORMAL)
    effective_urgency = max([urgency or Urgency.NORMAL, subject_urgency], key=lambda u: URGENCY_RANK[Urgency(u)])
    proposal = route_for(subject=subject, subject_chain=chain, request_type=request_type,
                         urgency=effective_urgency, area=area, now=now)
    reporter = actor if (getattr(actor, "pk", None) and channel in (Channel.WEB, Channel.API)) else None
    order = WorkOrder.objects.create(
        code=_new_code(now), channel=channel, request_type=request_type, subject=subject, title=title,
        description=description or "", urgency=effective_urgency,
        reporter=reporter, reporter_name=body["reporter_name"], reporter_phone=reporter_phone,
        anonymous=bool(anonymous), created_by=actor if getattr(actor, "pk", None) else None,
        lng=area["lng"], lat=area["lat"], address=body["address"], grid_id=area["grid_id"],
        community_id=area["community_id"], district_code=area["district_code"], street_code=area["street_code"],
        area_code=area["area_code"], area_label=area["area_label"], state=State.SUBMITTED,
        proposed_unit_id=proposal.unit_id, routing=proposal.as_dict(), created_at=now, updated_at=now,
    )
    IdempotencyKey.objects.filter(pk=key_row.pk).update(order=order)
    if checked:
        photos_attach(order, checked, kind=Attachment.Kind.REPORT, actor=actor, now=now)
    record(order, action="created", from_state="", actor=actor, now=now,
           data={"channel": channel, "routing": proposal.as_dict(), "photos": len(checked)})
    send_on_commit(order_created, order_id=order.pk, code=order.code, state=order.state, channel=channel)

    if auto_dispatch is None:
        auto_dispatch = getattr(settings, "HUYING_DISPATCH_AUTO", False)
    if auto_dispatch and proposal.unit_id is not None:
        from .lifecycle import dispatch_to

        order = dispatch_to(order, unit_id=proposal.unit_id, cohandler_ids=proposal.cohandler_ids,
                            level=proposal.level, actor=None, now=now, note=_("自动派单"), subject_chain=chain)
    return order

