"""Open311 reads: the service list (subject-tree leaves), definitions, and public request records.

What a public record shows, and why:
- `service_request_id` is the order's tracking code (工单编号), the number residents already quote.
- `status` is open/closed; `status_notes` a fixed sentence per state (never the staff's free text,
  which may name people).
- `description` is the resident's text with phone and identity numbers masked in every format
  (`people.masking.mask_text`).
- The tracking code is an identifier, not a credential: everything it opens without more proof
  (this record, the public tracking page) is masked text, and the staff's reply shows on the
  tracking page only to the reporter (their login, or the code with the phone's last four digits).
- `address` is masked like everywhere else (house numbers hidden); `lat`/`long` are rounded to
  3 decimals (about 100 m): the neighbourhood of the problem, not the doorstep of the caller.
- No reporter name, phone, e-mail, account or device. Orders of hidden request types
  (举报 by default: settings.HUYING_OPEN311_HIDDEN_REQUEST_TYPES) are not published at all.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from huying.core.apischema import MAX_YEAR, MIN_YEAR
from huying.core.errors import DomainError
from huying.people.masking import mask_address, mask_text
from huying.territory.selectors import city_name

from ..models import RequestType, State, Subject, WorkOrder
from .models import Open311Submission

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
MAX_RESULTS = 1000
MAX_SPAN = timedelta(days=90)
COORD_DECIMALS = 3

# Open311 knows two statuses. 办结 counts as closed: the unit reports the work done; an
# unsatisfied callback reopens it (rework), which Open311 clients see as the request reopening.
# A result still under review or on-site check (待审核, 待核查) is open: it may yet go back.
CLOSED_STATES = frozenset({State.RESOLVED, State.CLOSED, State.REJECTED, State.MERGED})


def status_of(state: str) -> str:
    return "closed" if state in CLOSED_STATES else "open"


def status_notes(order: WorkOrder) -> str:
    notes = {
        State.SUBMITTED: _("已受理，等待派单。"),
        State.DISPATCHED: _("已派至承办单位，等待签收。"),
        State.ACCEPTED: _("承办单位已签收，正在办理。"),
        State.SUSPENDED: _("涉及长期工程，已挂账跟踪办理。"),
        State.RETURNED: _("正在重新确定承办单位。"),
        State.REVIEWING: _("承办单位已办理，负责人正在审核办理结果。"),
        State.CHECKING: _("承办单位已办结，正在现场核查办理结果。"),
        State.RESOLVED: _("承办单位已办结，等待回访。"),
        State.CLOSED: _("已办结并完成回访，工单已结案。"),
        State.REJECTED: _("经核实不属于受理范围，不予受理。"),
    }
    if order.state == State.MERGED:
        target = order.merged_into.code if order.merged_into_id and order.merged_into else ""
        return _("与工单 %(code)s 反映的是同一问题，已合并办理。") % {"code": target} if target else \
            _("与其他工单反映的是同一问题，已合并办理。")
    return str(notes.get(order.state, ""))


def hidden_request_types() -> list[str]:
    return list(settings.HUYING_OPEN311_HIDDEN_REQUEST_TYPES)


def jurisdiction_id() -> str:
    return settings.HUYING_OPEN311_JURISDICTION


# ---- services ---------------------------------------------------------------------------------

def _leaves() -> QuerySet[Subject]:
    active_children = Subject.objects.filter(parent=OuterRef("pk"), active=True)
    return Subject.objects.filter(active=True).filter(~Exists(active_children)).order_by("code")


def service_subject(code: str) -> Subject | None:
    """The active leaf subject whose code is `code` (Open311's service_code)."""
    return _leaves().filter(code=str(code or "").strip()).first()


def services_list() -> list[dict]:
    """GET Service List: every active leaf of the subject tree, grouped by its top-level subject."""
    names = dict(Subject.objects.values_list("id", "name"))
    parents = dict(Subject.objects.values_list("id", "parent_id"))

    def path(sid):
        chain = []
        while sid is not None:
            chain.append(names[sid])
            sid = parents.get(sid)
        return list(reversed(chain))

    out = []
    for s in _leaves().only("id", "code", "name", "filing_condition", "parent_id"):
        chain = path(s.pk)
        out.append({
            "service_code": s.code,
            "service_name": s.name,
            "description": s.filing_condition or " / ".join(chain),
            "metadata": True,
            "type": "realtime",
            "keywords": ",".join(chain[:-1]),
            "group": chain[0] if len(chain) > 1 else s.name,
        })
    return out


def service_definition(code: str) -> dict:
    """GET Service Definition: the attributes a request of this service may carry (404 if unknown)."""
    subject = service_subject(code)
    if subject is None:
        raise DomainError("open311.unknown_service", _("service_code“%(c)s”不存在。") % {"c": code}, status=404)
    types = RequestType.objects.filter(active=True).exclude(code__in=hidden_request_types()).order_by("sort", "code")
    return {
        "service_code": subject.code,
        "attributes": [{
            "variable": True,
            "code": "request_type",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _("诉求类型，不填按一般诉求处理"),
            "order": 1,
            "description": _("诉求类型"),
            "values": [{"key": t.code, "name": t.name} for t in types],
        }],
    }


# ---- requests ---------------------------------------------------------------------------------

def _when(dt) -> str | None:
    return timezone.localtime(dt).isoformat(timespec="seconds") if dt else None


def public_request(order: WorkOrder) -> dict:
    """One order as a GeoReport service request, without personal data."""
    return {
        "service_request_id": order.code,
        "status": status_of(order.state),
        "status_notes": status_notes(order),
        "service_name": order.subject.name,
        "service_code": order.subject.code,
        "description": mask_text(order.description),
        "agency_responsible": order.lead_unit.name if order.lead_unit_id else "",
        "service_notice": "",
        "requested_datetime": _when(order.created_at),
        "updated_datetime": _when(order.updated_at),
        "expected_datetime": _when(order.resolve_due),
        "address": mask_address(order.address) if order.address else order.area_label,
        "address_id": "",
        "zipcode": "",
        "lat": round(order.lat, COORD_DECIMALS) if order.lat is not None else None,
        "long": round(order.lng, COORD_DECIMALS) if order.lng is not None else None,
        "media_url": "",
    }


def _published() -> QuerySet[WorkOrder]:
    return (WorkOrder.objects.exclude(request_type__code__in=hidden_request_types())
            .select_related("subject", "lead_unit", "merged_into"))


def _csv(value) -> list[str]:
    return [v.strip() for v in str(value or "").split(",") if v.strip()]


def parse_w3c(value: str, field: str) -> datetime:
    """A W3C datetime (2010-01-01T00:00:00Z, or with an offset); a bare date is local midnight."""
    text = str(value).strip().replace(" ", "+")  # an unescaped "+08:00" arrives as " 08:00"
    try:
        dt = parse_datetime(text)
        if dt is None:
            d = parse_date(text)
            dt = datetime(d.year, d.month, d.day) if d else None
    except ValueError:
        dt = None
    if dt is None:
        raise DomainError("open311.bad_date", _("%(f)s 须为 W3C 日期时间格式，例如 2026-01-01T00:00:00+08:00。")
                          % {"f": field}, field=field)
    # Far years overflow on the way to UTC or when the 90-day window is added (0001-01-01, 9999-12-31).
    if not MIN_YEAR <= dt.year <= MAX_YEAR:
        raise DomainError("open311.bad_date", _("%(f)s 须在 %(lo)s 年至 %(hi)s 年之间。")
                          % {"f": field, "lo": MIN_YEAR, "hi": MAX_YEAR}, field=field)
    # In UTC: PostgreSQL refuses offsets past ±15:59, which the W3C format allows (-23:59).
    return timezone.make_aware(dt) if timezone.is_naive(dt) else dt.astimezone(UTC)


def requests_list(params, *, now=None) -> list[dict]:
    """GET Service Requests with the spec's filters, newest first, at most 1000.

    `service_request_id` (comma-separated) overrides every other filter. Otherwise the window is
    `start_date`…`end_date` on the requested time, 90 days at most (default: the last 90 days),
    narrowed by `service_code` and `status` (open, closed; comma-separated).
    """
    qs = _published()
    ids = _csv(params.get("service_request_id"))
    if ids:
        return [public_request(o) for o in qs.filter(code__in=ids[:MAX_RESULTS]).order_by("-created_at", "-id")]
    now = now or timezone.now()
    start = parse_w3c(params["start_date"], "start_date") if params.get("start_date") else None
    end = parse_w3c(params["end_date"], "end_date") if params.get("end_date") else None
    if start and end and end < start:
        raise DomainError("open311.bad_date", _("end_date 不能早于 start_date。"), field="end_date")
    if start and end and end - start > MAX_SPAN:
        raise DomainError("open311.span_too_long", _("start_date 与 end_date 的跨度不能超过 90 天。"),
                          field="end_date")
    if start is None:
        start = (end or now) - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    qs = qs.filter(created_at__gte=start, created_at__lte=end)
    codes = _csv(params.get("service_code"))
    if codes:
        qs = qs.filter(subject__code__in=codes)
    statuses = {s.lower() for s in _csv(params.get("status"))}
    if statuses - {"open", "closed"}:
        raise DomainError("open311.bad_status", _("status 只能是 open 或 closed。"), field="status")
    if statuses == {"closed"}:
        qs = qs.filter(state__in=list(CLOSED_STATES))
    elif statuses == {"open"}:
        qs = qs.exclude(state__in=list(CLOSED_STATES))
    return [public_request(o) for o in qs.order_by("-created_at", "-id")[:MAX_RESULTS]]


def request_get(request_id: str) -> dict:
    order = _published().filter(code=str(request_id).strip()).first()
    if order is None:
        raise DomainError("open311.not_found", _("service_request_id“%(id)s”不存在。") % {"id": request_id},
                          status=404)
    return public_request(order)


def token_get(token: str) -> dict:
    sub = (Open311Submission.objects.filter(token=str(token).strip())
           .exclude(order__request_type__code__in=hidden_request_types()).select_related("order").first())
    if sub is None:
        raise DomainError("open311.not_found", _("token“%(t)s”不存在。") % {"t": token}, status=404)
    return {"service_request_id": sub.order.code, "token": sub.token}


def _hotline_contact() -> str:
    """The loaded city's 12345 hotline, named after the city (深圳市 12345 政务服务便民热线)."""
    name = city_name()
    if not name:
        return _("12345 政务服务便民热线")
    return _("%(city)s 12345 政务服务便民热线") % {"city": name}


def _key_service() -> str:
    """settings.HUYING_OPEN311_KEY_SERVICE, None meaning how this platform issues keys."""
    configured = settings.HUYING_OPEN311_KEY_SERVICE
    return _("接口密钥由平台管理员签发（huying open311 create-key 名称）") if configured is None else configured


def discovery(base_url: str, *, changeset: datetime) -> dict:
    return {
        "changeset": _when(changeset),
        "contact": settings.HUYING_OPEN311_CONTACT or _hotline_contact(),
        "key_service": _key_service(),
        "endpoints": [{
            "specification": SPEC_URL,
            "url": base_url,
            "changeset": _when(changeset),
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    }

