"""Edits of dispatch's reference data: request types (诉求类型, with the statutory deadlines),
subjects (事项分类) and routing rules (派单规则).

Each change is checked, saved and audited (old → new, actor, reason) in one transaction. Rows
are saved one by one with `.save()`/`.delete()`, so `reference`'s post_save/post_delete
handlers drop the per-process caches as for any other write. `values` holds only the fields
being set: a change may name a few (an inline edit of one deadline), a creation names the rest
or takes the model's defaults.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.db import models, transaction
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.people.models import Unit
from huying.territory.models import Division

from ..models import HandlingLevel, RequestType, RoutingRule, Subject, SubjectKind, TimeUnit, Urgency

_CODE = re.compile(r"^[A-Za-z0-9_.-]+$")
LIMIT_MAX = Decimal("9999")  # about 27 years in days: anything above is a typo, not a deadline
RADIUS_MAX = 5000


# -- shared ---------------------------------------------------------------------------------------

def _plain(value):
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return value


def _snapshot(obj: models.Model, names) -> dict:
    out = {}
    for name in names:
        field = obj._meta.get_field(name)
        out[name] = _plain(getattr(obj, field.attname))
    return out


def _locked(model, obj):
    return model.objects.select_for_update().get(pk=obj.pk)


def _save_audited(obj: models.Model, values: dict, *, creating: bool, action: str, actor, reason: str):
    """Apply `values` to `obj`, save it and write the audit row; a change that changes nothing writes nothing."""
    names = list(values)
    old = None if creating else _snapshot(obj, names)
    for name, value in values.items():
        setattr(obj, name, value)
    new = _snapshot(obj, names)
    if not creating:
        changed = [n for n in names if old[n] != new[n]]
        if not changed:
            return obj
        old = {n: old[n] for n in changed}
        new = {n: new[n] for n in changed}
    obj.save()
    audit_log(obj, f"{action}.{'created' if creating else 'changed'}", actor=actor, old=old, new=new,
              reason=(reason or "").strip())
    return obj


def _delete_audited(obj: models.Model, *, action: str, actor, reason: str) -> None:
    names = [f.name for f in obj._meta.concrete_fields if not f.primary_key]
    audit_log(obj, f"{action}.deleted", actor=actor, old=_snapshot(obj, names), reason=(reason or "").strip())
    obj.delete()


def _text(values: dict, name: str, label: str, max_length: int, *, required: bool) -> None:
    if name not in values:
        return
    value = (values[name] or "").strip()
    if required and not value:
        raise DomainError("dispatch.reference.required", _("请填写%(label)s。") % {"label": label}, field=name)
    if len(value) > max_length:
        raise DomainError("dispatch.reference.too_long", _("%(label)s不能超过 %(n)d 个字符。")
                          % {"label": label, "n": max_length}, field=name)
    values[name] = value


def _choice(values: dict, name: str, choices, *, blank: bool) -> None:
    if name not in values:
        return
    value = values[name] or ""
    if (value or not blank) and value not in choices:
        raise DomainError("dispatch.reference.bad_choice", _("选项 %(value)s 无效。") % {"value": value}, field=name)
    values[name] = value


def _code(values: dict, model, current, label: str) -> None:
    if "code" not in values:
        return
    code = (values["code"] or "").strip()
    if not code:
        raise DomainError("dispatch.reference.code_required", _("请填写%(label)s。") % {"label": label}, field="code")
    if len(code) > model._meta.get_field("code").max_length or not _CODE.match(code):
        raise DomainError("dispatch.reference.bad_code",
                          _("%(label)s只能由字母、数字和 . _ - 组成，且不超过 %(n)d 个字符。")
                          % {"label": label, "n": model._meta.get_field("code").max_length}, field="code")
    if model.objects.filter(code=code).exclude(pk=getattr(current, "pk", None)).exists():
        raise DomainError("dispatch.reference.code_taken", _("%(label)s %(code)s 已被使用。")
                          % {"label": label, "code": code}, field="code", status=409)
    values["code"] = code


def _limits(values: dict) -> None:
    """Deadlines: empty (not set here) or a positive number of work hours, work days or clock hours."""
    for name in ("response_limit", "resolve_limit"):
        if name not in values or values[name] in (None, ""):
            if name in values:
                values[name] = None
            continue
        try:
            value = Decimal(str(values[name]))
        except (InvalidOperation, ValueError):
            value = None
        if value is None or not value.is_finite() or value <= 0 or value > LIMIT_MAX:
            raise DomainError("dispatch.reference.bad_limit", _("时限应为大于 0、不超过 %(max)s 的数字，或留空。")
                              % {"max": LIMIT_MAX}, field=name)
        if value != value.quantize(Decimal("0.01")):
            raise DomainError("dispatch.reference.bad_limit", _("时限最多保留两位小数。"), field=name)
        values[name] = value
    for name in ("response_unit", "resolve_unit"):
        _choice(values, name, TimeUnit.values, blank=False)


def _active_unit(values: dict, name: str) -> None:
    unit = values.get(name)
    if unit is not None and not Unit.objects.filter(pk=unit.pk, active=True).exists():
        raise DomainError("dispatch.reference.unit_inactive", _("所选单位已停用。"), field=name)


# -- request types ------------------------------------------------------------------------------

@transaction.atomic
def request_type_save(request_type: RequestType | None, *, values: dict, actor, reason: str = "") -> RequestType:
    """Create (None) or change a request type (诉求类型); its limits are the statutory deadlines."""
    values = dict(values)
    current = _locked(RequestType, request_type) if request_type is not None else None
    _code(values, RequestType, current, _("代码"))
    _text(values, "name", _("名称"), 30, required=True)
    if "sort" in values and not (0 <= int(values["sort"] or 0) <= 32767):
        raise DomainError("dispatch.reference.bad_sort", _("排序应为 0–32767。"), field="sort")
    _limits(values)
    if current is None:
        _require(values, "code", _("代码"))
        _require(values, "name", _("名称"))
    return _save_audited(current or RequestType(), values, creating=current is None,
                         action="dispatch.request_type", actor=actor, reason=reason)


@transaction.atomic
def request_type_delete(request_type: RequestType, *, actor, reason: str = "") -> None:
    _delete_audited(_locked(RequestType, request_type), action="dispatch.request_type", actor=actor, reason=reason)


def _require(values: dict, name: str, label: str) -> None:
    if not values.get(name):
        raise DomainError("dispatch.reference.required", _("请填写%(label)s。") % {"label": label}, field=name)


# -- subjects -----------------------------------------------------------------------------------

@transaction.atomic
def subject_save(subject: Subject | None, *, values: dict, actor, reason: str = "") -> Subject:
    """Create (None) or change a subject (事项分类); codes stay prefixes of their children's codes."""
    values = dict(values)
    values.pop("depth", None)  # follows from the parent
    current = _locked(Subject, subject) if subject is not None else None
    _code(values, Subject, current, _("分类代码"))
    _text(values, "name", _("名称"), 60, required=True)
    for name in ("filing_condition", "closing_condition", "source"):
        _text(values, name, str(Subject._meta.get_field(name).verbose_name), 200, required=False)
    _choice(values, "kind", SubjectKind.values, blank=False)
    _choice(values, "default_level", HandlingLevel.values, blank=True)
    _choice(values, "urgency", Urgency.values, blank=True)
    _limits(values)
    _active_unit(values, "default_department")
    radius = values.get("duplicate_radius_m")
    if radius is not None and not 1 <= radius <= RADIUS_MAX:
        raise DomainError("dispatch.reference.bad_radius", _("查重半径应为 1–%(max)d 米，或留空。")
                          % {"max": RADIUS_MAX}, field="duplicate_radius_m")
    if current is None:
        _require(values, "code", _("分类代码"))
        _require(values, "name", _("名称"))
        _require(values, "kind", _("类别"))

    code = values.get("code", getattr(current, "code", ""))
    parent = values["parent"] if "parent" in values else getattr(current, "parent", None)
    kind = values.get("kind", getattr(current, "kind", ""))
    if parent is not None:
        if current is not None and parent.pk == current.pk:
            raise DomainError("dispatch.subject.bad_parent", _("上级分类不能是本分类。"), field="parent")
        if not (code.startswith(parent.code) and len(code) > len(parent.code)):
            raise DomainError("dispatch.subject.code_not_under_parent",
                              _("分类代码须以上级分类代码 %(parent)s 开头且更长。") % {"parent": parent.code},
                              field="code")
        if kind != parent.kind:
            raise DomainError("dispatch.subject.kind_differs", _("类别须与上级分类相同（%(kind)s）。")
                              % {"kind": parent.get_kind_display()}, field="kind")
    depth = parent.depth + 1 if parent is not None else 1
    if current is not None and current.children.exists():
        if code != current.code:
            raise DomainError("dispatch.subject.has_children",
                              _("该分类有下级分类，其代码以本代码开头，不能修改代码。"), field="code")
        if depth != current.depth or kind != current.kind:
            raise DomainError("dispatch.subject.has_children",
                              _("该分类有下级分类，不能改变其层级或类别。"), field="parent")
    values["depth"] = depth
    return _save_audited(current or Subject(), values, creating=current is None, action="dispatch.subject",
                         actor=actor, reason=reason)


@transaction.atomic
def subject_delete(subject: Subject, *, actor, reason: str = "") -> None:
    subject = _locked(Subject, subject)
    if subject.children.exists():
        raise DomainError("dispatch.subject.has_children", _("该分类有下级分类，不能删除。"), status=409)
    _delete_audited(subject, action="dispatch.subject", actor=actor, reason=reason)


# -- routing rules ------------------------------------------------------------------------------

@transaction.atomic
def routing_rule_save(rule: RoutingRule | None, *, values: dict, actor, reason: str = "") -> RoutingRule:
    """Create (None) or change a routing rule (派单规则); the first active matching rule routes an order."""
    values = dict(values)
    current = _locked(RoutingRule, rule) if rule is not None else None
    _text(values, "name", _("名称"), 80, required=True)
    if current is None:
        _require(values, "name", _("名称"))
    if "priority" in values and not (0 <= int(values["priority"] if values["priority"] is not None else -1)
                                     <= 2_147_483_647):
        raise DomainError("dispatch.routing_rule.bad_priority", _("优先级应为不小于 0 的整数。"), field="priority")
    if "area_prefix" in values:
        prefix = (values["area_prefix"] or "").strip()
        if prefix and (not prefix.isdigit() or len(prefix) > 12):
            raise DomainError("dispatch.routing_rule.bad_area", _("区域代码前缀应为不超过 12 位的数字。"),
                              field="area_prefix")
        if prefix and not Division.objects.filter(code__startswith=prefix).exists():
            raise DomainError("dispatch.routing_rule.unknown_area", _("没有代码以 %(prefix)s 开头的区划。")
                              % {"prefix": prefix}, field="area_prefix")
        values["area_prefix"] = prefix
    if "weekdays" in values:
        days = (values["weekdays"] or "").strip()
        if days and (set(days) - set("1234567") or len(set(days)) != len(days)):
            raise DomainError("dispatch.routing_rule.bad_weekdays",
                              _("星期应为 1–7 的数字且不重复，例如 12345 表示周一至周五。"), field="weekdays")
        values["weekdays"] = "".join(sorted(days))
    _choice(values, "urgency", Urgency.values, blank=True)
    _choice(values, "target_level", HandlingLevel.values, blank=True)
    _choice(values, "cohandler_level", HandlingLevel.values, blank=True)
    _active_unit(values, "target_unit")

    def now(name):
        return values[name] if name in values else getattr(current, name, None)

    if now("time_from") is not None and now("time_from") == now("time_to"):
        raise DomainError("dispatch.routing_rule.empty_window", _("起始时间与截止时间相同，规则永不生效。"),
                          field="time_to")
    if not now("target_level") and now("target_unit") is None:
        raise DomainError("dispatch.routing_rule.no_target", _("请选择处置层级或责任部门。"), field="target_level")
    return _save_audited(current or RoutingRule(), values, creating=current is None,
                         action="dispatch.routing_rule", actor=actor, reason=reason)


@transaction.atomic
def routing_rule_delete(rule: RoutingRule, *, actor, reason: str = "") -> None:
    _delete_audited(_locked(RoutingRule, rule), action="dispatch.routing_rule", actor=actor, reason=reason)
