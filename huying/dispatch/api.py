"""Dispatch API: create (idempotent), read, list, and one POST per transition.

Every write carries the order's `version`; a stale one is 409 Conflict. Handlers only translate
HTTP to the services and selectors; a DomainError becomes {code, message, field} with its status.
"""

import base64
import binascii
from datetime import UTC, datetime

from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema, Status

from huying.core.apischema import MAX_PAGE, MAX_PAGE_SIZE, ErrorOut, Id, Moment, Page, PageSize, Version
from huying.core.errors import DomainError
from huying.people.masking import mask_phone

from . import selectors, services
from .models import Extension, RequestType, Subject, WorkOrder
from .quality.reply_review import order_reply_review
from .selectors_check import check_review_actions
from .services.common import STAFF_ROLES, has_any_role
from .services.photos import MAX_COUNT, max_bytes
from .triage import selectors as triage_selectors
from .triage import services as triage_services

router = Router(tags=["dispatch"])


class PhotoIn(Schema):
    name: str = "photo"
    content_base64: str


class OrderIn(Schema):
    channel: str = "api"
    subject: str = Field(default="", description="事项分类代码；居民网页与接口渠道可不填，由系统自动分类")
    request_type: str | None = None
    title: str
    description: str = ""
    lng: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    address: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    anonymous: bool = False
    urgency: str | None = None
    photos: list[PhotoIn] = []
    unit_id: Id | None = Field(default=None, description="话务员受理时指定的承办单位（不按系统建议时须填 override_reason）")
    override_reason: str = ""


class StepOut(Schema):
    at: datetime
    action: str
    from_state: str
    to_state: str
    actor: str
    unit_id: int | None
    note: str


class OrderOut(Schema):
    id: int
    code: str
    version: int
    state: str
    state_label: str
    channel: str
    request_type: str | None
    subject: str
    subject_name: str
    title: str
    urgency: str
    area_code: str
    area_label: str
    lead_unit_id: int | None
    lead_unit: str | None
    proposed_unit_id: int | None
    created_at: datetime
    dispatched_at: datetime | None
    response_due: datetime | None
    resolve_due: datetime | None
    deadline_state: str
    return_count: int
    rework_count: int


class OrderDetailOut(OrderOut):
    description: str
    address: str
    lng: float
    lat: float
    reporter_name: str
    reporter_phone: str
    anonymous: bool
    resolution: str
    cohandler_ids: list[int]
    actions: list[str]
    timeline: list[StepOut]
    # 答复质量 of the resolution (relevance, completeness, timeliness, total, hints); null before there is one.
    reply_score: dict | None = None


class OrderPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[OrderOut]


class ListFilters(Schema):
    state: list[str] = Field(default=[])
    channel: str | None = None
    request_type: str | None = None
    subject: str | None = None
    area: str | None = None
    lead_unit: Id | None = None
    deadline_state: str | None = None
    q: str | None = None
    page: Page = 1
    page_size: PageSize = 20


class VersionIn(Schema):
    version: Version


class NoteIn(VersionIn):
    note: str = ""


class DispatchIn(VersionIn):
    unit_id: Id | None = None
    cohandler_ids: list[Id] | None = None
    reason: str = ""
    binding: bool = False


class ResolveIn(VersionIn):
    result: str
    photos: list[PhotoIn] = []


class CallbackIn(VersionIn):
    satisfaction: str = ""
    solved: bool | None = None
    reached: bool = True
    note: str = ""


class ReturnIn(VersionIn):
    reason: str = ""
    legal_basis: str = ""


class ReasonIn(VersionIn):
    reason: str = ""


class SubjectIn(VersionIn):
    subject: str
    reason: str = ""


class ExtensionIn(VersionIn):
    new_due: Moment
    reason: str = ""


class DecisionIn(Schema):
    approve: bool
    note: str = ""


class ExtensionOut(Schema):
    id: int
    order_code: str
    new_due: datetime
    decision: str


class ClassOut(Schema):
    code: str
    name: str
    parent: str | None = None
    kind: str | None = None


def _photos(items: list[PhotoIn]) -> list[tuple[str, bytes]]:
    """The photos decoded; count and size are checked before decoding (the service checks them again,
    and decodes and re-encodes each image: dispatch/services/photos.py)."""
    if len(items) > MAX_COUNT:
        raise DomainError("dispatch.photo_too_many", _("最多上传 %(n)s 张照片。") % {"n": MAX_COUNT},
                          field="photos", status=400)
    limit = max_bytes()
    out = []
    for p in items:
        if len(p.content_base64) // 4 * 3 > limit + 2:
            raise DomainError("dispatch.photo_too_large", _("照片“%(name)s”超过 %(mb)s MB。")
                              % {"name": p.name, "mb": round(limit / 1048576, 1)}, field="photos", status=413)
        try:
            out.append((p.name, base64.b64decode(p.content_base64, validate=True)))
        except (binascii.Error, ValueError):
            raise DomainError("dispatch.photo_not_image", _("照片编码无效（应为 base64）。"), field="photos",
                              status=415) from None
    return out


def _utc(value: datetime | None) -> datetime | None:
    # Deadlines computed on the working calendar are in local time, those read back are in UTC: one
    # representation, so a create response and a later read of the same order say the same thing.
    return value.astimezone(UTC) if value is not None else None


def _order_out(o: WorkOrder) -> dict:
    return {
        "id": o.pk, "code": o.code, "version": o.version, "state": o.state, "state_label": o.get_state_display(),
        "channel": o.channel, "request_type": o.request_type.code if o.request_type_id else None,
        "subject": o.subject.code, "subject_name": o.subject.name, "title": o.title, "urgency": o.urgency,
        "area_code": o.area_code, "area_label": o.area_label, "lead_unit_id": o.lead_unit_id,
        "lead_unit": o.lead_unit.name if o.lead_unit_id else None, "proposed_unit_id": o.proposed_unit_id,
        "created_at": _utc(o.created_at), "dispatched_at": _utc(o.dispatched_at), "response_due": _utc(o.response_due),
        "resolve_due": _utc(o.resolve_due), "deadline_state": o.deadline_state, "return_count": o.return_count,
        "rework_count": o.rework_count,
    }


def _detail(request, o: WorkOrder) -> dict:
    reporter = selectors.reporter_for(o, actor=request.user)
    out = _order_out(o)
    out.update(
        description=o.description, address=o.address, lng=o.lng, lat=o.lat, reporter_name=reporter["name"],
        reporter_phone=reporter["phone"], anonymous=o.anonymous, resolution=o.resolution,
        cohandler_ids=selectors.cohandler_ids(o),
        actions=selectors.available_actions(o, actor=request.user) + check_review_actions(o, actor=request.user),
        timeline=[{"at": t.at, "action": t.action, "from_state": t.from_state, "to_state": t.to_state,
                   "actor": t.actor_label, "unit_id": t.unit_id, "note": t.note}
                  for t in selectors.work_order_timeline(o)],
        reply_score=order_reply_review(o) if has_any_role(request.user, *STAFF_ROLES) else None,
    )
    return out


def _get(request, code: str) -> WorkOrder:
    return selectors.work_order_get(actor=request.user, code=code)


def _act(request, code: str, step, *, photos: list[PhotoIn] | None = None, **fields) -> dict:
    """One step on an order the actor may see (`step(order, actor=…, **fields)`); answers its detail read afresh.
    `photos` are decoded after the order is found, so an unknown order is a 404 whatever its photos."""
    order = _get(request, code)
    if photos is not None:
        fields["photos"] = _photos(photos)
    step(order, actor=request.user, **fields)
    return _detail(request, _get(request, code))


ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 413: ErrorOut, 415: ErrorOut, 422: ErrorOut}


@router.post("/orders", response={201: OrderDetailOut, **ERRORS}, summary="受理工单（幂等）")
def order_create(request, payload: OrderIn, idempotency_key: str = Header(..., alias="Idempotency-Key")):
    order = services.work_order_create(
        channel=payload.channel, subject=payload.subject, request_type=payload.request_type, title=payload.title,
        description=payload.description, lng=payload.lng, lat=payload.lat, address=payload.address,
        reporter_name=payload.reporter_name, reporter_phone=payload.reporter_phone, anonymous=payload.anonymous,
        urgency=payload.urgency, photos=_photos(payload.photos), idempotency_key=idempotency_key,
        unit=payload.unit_id, override_reason=payload.override_reason, actor=request.user, answer=True,
    )
    # Answer from the order the service returns (just written, or the one a retried key stands
    # for) instead of reading it back through the scoped query, which joins seven tables.
    return Status(201, _detail(request, order))


@router.get("/orders", response={200: OrderPage}, summary="工单列表")
def order_list(request, filters: Query[ListFilters]):
    data = filters.dict()
    page, size = data.pop("page"), data.pop("page_size")
    qs = selectors.work_order_list(actor=request.user, filters=data)
    count = qs.count()
    rows = qs[(page - 1) * size: page * size]
    return {"count": count, "page": page, "page_size": size, "results": [_order_out(o) for o in rows]}


@router.get("/orders/{code}", response={200: OrderDetailOut, 404: ErrorOut}, summary="工单详情")
def order_detail(request, code: str):
    return _detail(request, _get(request, code))


@router.post("/orders/{code}/dispatch", response={200: OrderDetailOut, **ERRORS}, summary="派单")
def order_dispatch(request, code: str, payload: DispatchIn):
    return _act(request, code, services.work_order_dispatch, unit=payload.unit_id, cohandlers=payload.cohandler_ids,
                reason=payload.reason, binding=payload.binding, version=payload.version)


@router.post("/orders/{code}/redispatch", response={200: OrderDetailOut, **ERRORS}, summary="改派 / 终审派单")
def order_redispatch(request, code: str, payload: DispatchIn):
    return _act(request, code, services.work_order_redispatch, unit=payload.unit_id, cohandlers=payload.cohandler_ids,
                reason=payload.reason, binding=payload.binding, version=payload.version)


@router.post("/orders/{code}/accept", response={200: OrderDetailOut, **ERRORS}, summary="签收")
def order_accept(request, code: str, payload: NoteIn):
    return _act(request, code, services.work_order_accept, note=payload.note, version=payload.version)


@router.post("/orders/{code}/resolve", response={200: OrderDetailOut, **ERRORS}, summary="办结")
def order_resolve(request, code: str, payload: ResolveIn):
    return _act(request, code, services.work_order_resolve, result=payload.result, photos=payload.photos,
                version=payload.version)


@router.post("/orders/{code}/callback", response={200: OrderDetailOut, **ERRORS}, summary="回访")
def order_callback(request, code: str, payload: CallbackIn):
    return _act(request, code, services.work_order_callback, satisfaction=payload.satisfaction, solved=payload.solved,
                reached=payload.reached, note=payload.note, version=payload.version)


@router.post("/orders/{code}/return", response={200: OrderDetailOut, **ERRORS}, summary="退单")
def order_return(request, code: str, payload: ReturnIn):
    return _act(request, code, services.work_order_return, reason=payload.reason, legal_basis=payload.legal_basis,
                version=payload.version)


@router.post("/orders/{code}/suspend", response={200: OrderDetailOut, **ERRORS}, summary="挂账")
def order_suspend(request, code: str, payload: ReasonIn):
    return _act(request, code, services.work_order_suspend, reason=payload.reason, version=payload.version)


@router.post("/orders/{code}/resume", response={200: OrderDetailOut, **ERRORS}, summary="恢复办理")
def order_resume(request, code: str, payload: NoteIn):
    return _act(request, code, services.work_order_resume, note=payload.note, version=payload.version)


class CheckIn(VersionIn):
    note: str = ""
    photos: list[PhotoIn] = []


class OnsiteCheckIn(VersionIn):
    required: bool
    reason: str = ""


@router.post("/orders/{code}/review/approve", response={200: OrderDetailOut, **ERRORS}, summary="审核通过（单位负责人）")
def order_review_approve(request, code: str, payload: NoteIn):
    return _act(request, code, services.work_order_review_approve, note=payload.note, version=payload.version)


@router.post("/orders/{code}/review/return", response={200: OrderDetailOut, **ERRORS}, summary="审核退回（单位负责人）")
def order_review_return(request, code: str, payload: ReasonIn):
    return _act(request, code, services.work_order_review_return, reason=payload.reason, version=payload.version)


@router.post("/orders/{code}/check/pass", response={200: OrderDetailOut, **ERRORS}, summary="核查通过（网格员）")
def order_check_pass(request, code: str, payload: CheckIn):
    return _act(request, code, services.work_order_check_pass, note=payload.note, photos=payload.photos,
                version=payload.version)


@router.post("/orders/{code}/check/fail", response={200: OrderDetailOut, **ERRORS}, summary="核查不通过，返工（网格员）")
def order_check_fail(request, code: str, payload: CheckIn):
    return _act(request, code, services.work_order_check_fail, note=payload.note, photos=payload.photos,
                version=payload.version)


@router.post("/orders/{code}/onsite-check", response={200: OrderDetailOut, **ERRORS}, summary="指定 / 取消现场核查（派单员）")
def order_onsite_check(request, code: str, payload: OnsiteCheckIn):
    return _act(request, code, services.work_order_set_onsite_check, required=payload.required, reason=payload.reason,
                version=payload.version)


@router.post("/orders/{code}/reject", response={200: OrderDetailOut, **ERRORS}, summary="不予受理")
def order_reject(request, code: str, payload: ReasonIn):
    return _act(request, code, services.work_order_reject, reason=payload.reason, version=payload.version)


@router.post("/orders/{code}/subject", response={200: OrderDetailOut, **ERRORS}, summary="修改事项分类")
def order_change_subject(request, code: str, payload: SubjectIn):
    return _act(request, code, services.work_order_change_subject, subject=payload.subject, reason=payload.reason,
                version=payload.version)


class RelocateIn(VersionIn):
    lng: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    address: str = Field(default="", description="未给经纬度时按地址定位（须能定位到网格）")
    outside_division: bool = Field(default=False, description="地点不在原区域：允许定位到原区域以外（须填 reason）")
    reason: str = ""


@router.post("/orders/{code}/relocate", response={200: OrderDetailOut, **ERRORS}, summary="核实位置（仅按地址定位的工单）")
def order_relocate(request, code: str, payload: RelocateIn):
    return _act(request, code, services.work_order_relocate, lng=payload.lng, lat=payload.lat, address=payload.address,
                outside_division=payload.outside_division, reason=payload.reason, version=payload.version)


class MergeIn(VersionIn):
    into: str = Field(description="合并到的工单编号")
    reason: str = ""


class SplitPartIn(Schema):
    unit_id: Id
    title: str
    description: str = ""


class SplitIn(VersionIn):
    parts: list[SplitPartIn]
    reason: str = ""


class SplitOut(Schema):
    parent: "OrderDetailOut"
    children: list[str]


@router.post("/orders/{code}/merge", response={200: OrderDetailOut, **ERRORS}, summary="合并重复工单")
def order_merge(request, code: str, payload: MergeIn):
    target = _get(request, payload.into.strip()) if payload.into.strip() else None  # not visible → 404
    services.work_order_merge(_get(request, code), into=target or payload.into, actor=request.user,
                              reason=payload.reason, version=payload.version)
    return _detail(request, _get(request, code))


@router.post("/orders/{code}/split", response={200: SplitOut, **ERRORS}, summary="拆分工单（2–10 个子工单）")
def order_split(request, code: str, payload: SplitIn):
    children = services.work_order_split(
        _get(request, code), actor=request.user, reason=payload.reason, version=payload.version,
        parts=[{"unit": p.unit_id, "title": p.title, "description": p.description} for p in payload.parts])
    return {"parent": _detail(request, _get(request, code)), "children": [c.code for c in children]}


@router.post("/orders/{code}/extensions", response={201: ExtensionOut, **ERRORS}, summary="申请延期")
def extension_create(request, code: str, payload: ExtensionIn):
    ext = services.extension_request(_get(request, code), actor=request.user, new_due=payload.new_due,
                                     reason=payload.reason, version=payload.version)
    return Status(201, {"id": ext.pk, "order_code": code, "new_due": ext.new_due, "decision": ext.decision})


@router.post("/extensions/{ext_id}/decide", response={200: ExtensionOut, **ERRORS}, summary="审批延期")
def extension_decide(request, ext_id: Id, payload: DecisionIn):
    ext = Extension.objects.select_related("order").filter(pk=ext_id).first()
    if ext is None:
        raise DomainError("dispatch.not_found", _("延期申请不存在。"), status=404)
    _get(request, ext.order.code)  # not visible → 404
    ext = services.extension_decide(ext, actor=request.user, approve=payload.approve, note=payload.note)
    return {"id": ext.pk, "order_code": ext.order.code, "new_due": ext.new_due, "decision": ext.decision}


@router.get("/request-types", response=list[ClassOut], summary="诉求类型")
def request_types(request):
    return [{"code": r.code, "name": r.name} for r in RequestType.objects.filter(active=True)]


@router.get("/subjects", response=list[ClassOut], summary="事项分类")
def subjects(request, parent: str | None = None):
    qs = Subject.objects.filter(active=True)
    qs = qs.filter(parent__code=parent) if parent else qs.filter(parent__isnull=True)
    return [{"code": s.code, "name": s.name, "parent": parent, "kind": s.kind} for s in qs.order_by("code")]


# --- triage (人工分拨) of orders the classifier was not sure about ---------------------------------

class TriageOut(Schema):
    code: str
    version: int
    title: str
    description: str
    created_at: datetime
    area_label: str
    reporter_phone: str = Field(description="已脱敏")
    subject: str
    label: str
    confidence: float
    runners_up: list[tuple[str, float]]


class TriagePage(Schema):
    count: int
    page: int
    page_size: int
    results: list[TriageOut]


class TriageDispatchIn(VersionIn):
    label: str
    subject: str = ""
    unit_id: Id | None = None
    reason: str = ""


class TriageRejectIn(VersionIn):
    reason: str = ""
    label: str = ""


@router.get("/triage", response={200: TriagePage, 403: ErrorOut}, summary="待分拨工单（最早受理的在前）")
def triage_list(request, page: int = Query(1, ge=1, le=MAX_PAGE),
                page_size: int = Query(20, ge=1, le=MAX_PAGE_SIZE)):
    if not triage_selectors.can_triage(request.user):
        raise DomainError("dispatch.forbidden", _("只有话务员或派单员可以查看待分拨工单。"), status=403)
    qs = triage_selectors.triage_queue(actor=request.user)
    rows = qs[(page - 1) * page_size: page * page_size]
    return {"count": qs.count(), "page": page, "page_size": page_size, "results": [
        {"code": o.code, "version": o.version, "title": o.title, "description": o.description,
         "created_at": _utc(o.created_at), "area_label": o.area_label, "reporter_phone": mask_phone(o.reporter_phone),
         "subject": o.subject.code, "label": o.classification.label, "confidence": o.classification.confidence,
         "runners_up": [tuple(s) for s in o.classification.runners_up]} for o in rows]}


@router.post("/orders/{code}/triage/dispatch", response={200: OrderDetailOut, **ERRORS}, summary="分拨：确认类别并派单")
def triage_dispatch(request, code: str, payload: TriageDispatchIn):
    triage_services.triage_dispatch(_get(request, code), actor=request.user, label=payload.label,
                                    subject=payload.subject, unit=payload.unit_id, reason=payload.reason,
                                    version=payload.version)
    return _detail(request, _get(request, code))


@router.post("/orders/{code}/triage/reject", response={200: OrderDetailOut, **ERRORS}, summary="分拨：不予受理")
def triage_reject(request, code: str, payload: TriageRejectIn):
    triage_services.triage_reject(_get(request, code), actor=request.user, reason=payload.reason,
                                  label=payload.label, version=payload.version)
    return _detail(request, _get(request, code))
