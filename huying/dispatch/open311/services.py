"""Open311 writes: API keys, and service requests posted by other systems and apps."""

from __future__ import annotations

import hashlib
import re
import secrets

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.core.text import clean_text

from ..models import Channel, RequestType
from ..services import work_order_create
from .models import Open311ApiKey, Open311Submission
from .selectors import hidden_request_types, service_subject

KEY_PREFIX = "h311_"
MAX_DESCRIPTION = 4000
_CJK = re.compile(r"[\u3400-\u9fff]")


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_key_create(name: str, *, actor=None, now=None) -> tuple[Open311ApiKey, str]:
    """A new API key for `name`; returns the row and the key itself, which is shown only this once."""
    name = (name or "").strip()
    if not name:
        raise DomainError("open311.name_required", _("请填写密钥名称。"), field="name")
    now = now or timezone.now()
    raw = KEY_PREFIX + secrets.token_urlsafe(24)
    key = Open311ApiKey.objects.create(name=name[:100], prefix=raw[:12], key_hash=_digest(raw), created_at=now)
    audit_log(key, "dispatch.open311.key_created", actor=actor, new={"name": key.name, "prefix": key.prefix})
    return key, raw


@transaction.atomic
def api_key_revoke(key: Open311ApiKey | int, *, actor=None) -> Open311ApiKey:
    key = Open311ApiKey.objects.select_for_update().get(pk=getattr(key, "pk", key))
    if key.active:
        key.active = False
        key.save(update_fields=["active"])
        audit_log(key, "dispatch.open311.key_revoked", actor=actor, old={"active": True}, new={"active": False})
    return key


def api_key_check(raw: str | None) -> Open311ApiKey:
    """The active key matching `raw`, or a 403."""
    raw = (raw or "").strip()
    key = Open311ApiKey.objects.filter(key_hash=_digest(raw), active=True).first() if raw else None
    if key is None:
        raise DomainError("open311.bad_api_key", _("api_key 缺失或无效。"), field="api_key", status=403)
    return key


def _full_name(first: str, last: str) -> str:
    first, last = (first or "").strip(), (last or "").strip()
    # Chinese names put the family name first and take no space.
    if _CJK.search(first + last):
        return f"{last}{first}"
    return " ".join(p for p in (first, last) if p)


def _request_type(attributes: dict) -> RequestType | None:
    code = (attributes.get("request_type") or "").strip()
    if not code:
        return None
    # Hidden types (举报) are not offered in the service definition, so they are not accepted either.
    found = RequestType.objects.filter(code=code, active=True).exclude(code__in=hidden_request_types()).first()
    if found is None:
        raise DomainError("open311.bad_attribute", _("attribute[request_type] 的取值“%(v)s”无效。") % {"v": code},
                          field="attribute[request_type]")
    return found


@transaction.atomic
def service_request_create(*, api_key: str | None, service_code: str, lat=None, long=None, address_string: str = "",
                           description: str = "", email: str = "", phone: str = "", first_name: str = "",
                           last_name: str = "", device_id: str = "", account_id: str = "", media_url: str = "",
                           attributes: dict | None = None, now=None) -> Open311Submission:
    """POST Service Request: one work order through the API channel, and its Open311 token.

    Contact data (name, phone, e-mail) go to the order's reporter fields and this submission; no
    public output shows them. Errors are DomainErrors: 403 for the key, 400 for the input.
    """
    now = now or timezone.now()
    key = api_key_check(api_key)
    if not (service_code or "").strip():
        raise DomainError("open311.service_code_required", _("缺少 service_code。"), field="service_code")
    subject = service_subject(service_code)
    if subject is None:
        raise DomainError("open311.unknown_service", _("service_code“%(c)s”不存在。") % {"c": service_code},
                          field="service_code")
    description = clean_text(description, field="description", multiline=True)
    if len(description) > MAX_DESCRIPTION:
        raise DomainError("open311.too_long", _("description 不能超过 4000 个字符。"), field="description")
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise DomainError("open311.bad_email", _("email 格式不正确。"), field="email") from None
    media_url = (media_url or "").strip()
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            raise DomainError("open311.bad_media_url", _("media_url 格式不正确。"), field="media_url") from None
    if lat in (None, "") and long in (None, "") and not (address_string or "").strip():
        raise DomainError("open311.location_required", _("须提供 lat/long 或 address_string。"), field="lat")
    if (lat in (None, "")) != (long in (None, "")):
        raise DomainError("open311.location_required", _("lat 与 long 须同时提供。"), field="lat")
    attributes = {str(k): str(v) for k, v in (attributes or {}).items()}
    request_type = _request_type(attributes)
    first_line = description.splitlines()[0].strip() if description else ""
    title = (first_line[:40] + ("…" if len(first_line) > 40 else "")) if first_line else subject.name
    token = secrets.token_hex(16)
    order = work_order_create(
        channel=Channel.API, subject=subject, request_type=request_type, title=title, description=description,
        lng=long, lat=lat, address=address_string or "",  # too long: intake's 400, never cut short
        reporter_name=_full_name(first_name, last_name), reporter_phone=(phone or "").strip(),
        idempotency_key=f"open311:{token}", actor=None, now=now,
    )
    submission = Open311Submission.objects.create(
        order=order, token=token, api_key=key, email=email, device_id=(device_id or "")[:100],
        account_id=(account_id or "")[:100], media_url=media_url[:500], attributes=attributes, created_at=now,
    )
    Open311ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    audit_log(order, "dispatch.open311.request_posted", actor=None,
              data={"api_key_id": key.pk, "api_key": key.prefix, "submission_id": submission.pk})
    return submission
