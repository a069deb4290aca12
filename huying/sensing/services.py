"""The write path of sensing: sensors (register, import, state), alert rules, and what a rule does when
it fires — one alert per episode (dispatch's `Alert`, kind "sensor"), one work order per alert, and the
whistle (吹哨) for an emergency rule — plus the silence sweep the worker runs ("sensing-silence").

Readings are telemetry, not domain state: `ingest` stores them and moves `last_seen` without audit
rows (as the hot-issue snapshots do). Everything else here is audited in its own transaction.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core import jobs
from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.dispatch.hot.models import Alert, AlertKind, AlertStatus
from huying.dispatch.hot.services import alert_raise
from huying.dispatch.models import Channel, Subject, Urgency
from huying.dispatch.notify.models import NotifyEvent, RecipientKind
from huying.dispatch.notify.services import notification_enqueue
from huying.people.models import RoleCode, Unit, UnitKind
from huying.people.scope import scope_for
from huying.territory.models import Building

from . import rules as R
from . import selectors as sel
from .models import CODE_RE, AlertRule, Reading, RuleKind, RuleState, Sensor, SensorKind, SensorState

log = logging.getLogger("huying.sensing")

WHISTLE_ROLES = (RoleCode.HANDLER, RoleCode.UNIT_LEADER, RoleCode.DISPATCHER)
_CODE = re.compile(CODE_RE)


def _now(now) -> datetime:
    return now or timezone.now()


def _forbidden() -> DomainError:
    return DomainError("sensing.forbidden", _("您没有设置感知设备的权限。"), status=403)


def _not_found() -> DomainError:
    return DomainError("sensing.not_found", _("设备不存在。"), status=404)


# -- sensors ------------------------------------------------------------------------------------------

def _check_owner(actor, owner_unit) -> Unit:
    """The owner unit, if the actor acts for it (actor None: the system, e.g. the demo seed)."""
    if actor is not None and not sel.may_manage(actor):
        raise _forbidden()
    pk = getattr(owner_unit, "pk", owner_unit)
    unit = Unit.objects.select_related("division", "grid").filter(pk=pk, active=True).first() if pk else None
    if unit is None:
        raise DomainError("sensing.bad_unit", _("权属单位不存在或已停用。"), field="owner_unit")
    if actor is not None and not sel.whole_city(actor) and unit.pk not in scope_for(actor).unit_ids:
        raise DomainError("sensing.bad_unit", _("只能为本单位登记设备。"), field="owner_unit", status=403)
    return unit


def _clean_code(code) -> str:
    code = clean_text(code, field="code", max_length=40)
    if not _CODE.match(code):
        raise DomainError("sensing.bad_code", _("设备编码只能由字母、数字、- 和 _ 组成（1–40 位）。"), field="code")
    return code


def _kind(kind) -> str:
    text = str(kind or "").strip()
    for value, label in SensorKind.choices:
        if text in (value, str(label)):
            return value
    raise DomainError("sensing.bad_kind", _("未知的设备类别。"), field="kind")


def _located(owner: Unit, lng, lat) -> dict:
    """The territory fields of the point, refused outside the city or outside the owner unit's territory."""
    from huying.dispatch.services import intake

    area = intake.locate(lng=lng, lat=lat)
    if lng in (None, "") or lat in (None, ""):
        raise DomainError("sensing.no_location", _("请填写经纬度。"), field="lng")
    code = owner.territory_code
    if code and not (area["area_code"] or "").startswith(code):
        raise DomainError("sensing.outside_owner", _("该位置不在权属单位的辖区内。"), field="lng")
    return area


def _fields(*, code, name, kind, owner, lng, lat, measure_unit, address, place, building) -> dict:
    name = clean_text(name, field="name", max_length=120)
    if not name:
        raise DomainError("sensing.required", _("请填写名称。"), field="name")
    area = _located(owner, lng, lat)
    bldg = None
    if building not in (None, ""):
        bcode = getattr(building, "code", building)
        bldg = Building.objects.filter(code=str(bcode).strip()).first()
        if bldg is None:
            raise DomainError("sensing.bad_building", _("楼栋编码不存在。"), field="building")
    return {
        "code": _clean_code(code), "name": name, "kind": _kind(kind), "owner_unit": owner,
        "measure_unit": clean_text(measure_unit, field="measure_unit", max_length=16),
        "address": clean_text(address, field="address", max_length=255),
        "place": clean_text(place, field="place", max_length=60), "building": bldg,
        "lng": round(float(area["lng"]), 7), "lat": round(float(area["lat"]), 7), "grid_id": area["grid_id"],
        "district_code": area["district_code"], "street_code": area["street_code"],
        "community_code": area["community_code"], "area_code": area["area_code"], "area_label": area["area_label"],
    }


def _audit_new(s: Sensor) -> dict:
    return {"code": s.code, "name": s.name, "kind": s.kind, "owner_unit": s.owner_unit_id, "area_code": s.area_code,
            "lng": s.lng, "lat": s.lat, "state": s.state}


@transaction.atomic
def sensor_create(*, code, name, kind, owner_unit, lng, lat, actor, measure_unit: str = "", address: str = "",
                  place: str = "", building=None, now=None) -> Sensor:
    """Register a sensor (登记感知设备) at a point, for a unit the actor acts for."""
    now = _now(now)
    owner = _check_owner(actor, owner_unit)
    data = _fields(code=code, name=name, kind=kind, owner=owner, lng=lng, lat=lat, measure_unit=measure_unit,
                   address=address, place=place, building=building)
    if Sensor.objects.filter(code=data["code"]).exists():
        raise DomainError("sensing.duplicate_code", _("设备编码已存在。"), field="code", status=409)
    sensor = Sensor.objects.create(**data, created_at=now, updated_at=now)
    audit_log(sensor, "sensing.sensor.created", actor=actor, new=_audit_new(sensor))
    return sensor


@transaction.atomic
def sensor_set_state(sensor: Sensor, *, state: str, actor, note: str = "", now=None) -> Sensor:
    """Put a sensor in service, under maintenance (no alerts) or retire it (its readings refused)."""
    now = _now(now)
    sensor = Sensor.objects.select_for_update().get(pk=sensor.pk)
    if not sel.may_manage_sensor(actor, sensor):
        raise _not_found()
    try:
        state = SensorState(state)
    except ValueError:
        raise DomainError("sensing.bad_state", _("未知的设备状态。"), field="state") from None
    note = clean_text(note, field="note", max_length=200)
    if state == sensor.state:
        return sensor
    old = sensor.state
    sensor.state, sensor.updated_at = state, now
    sensor.save(update_fields=["state", "updated_at"])
    audit_log(sensor, "sensing.sensor.state_changed", actor=actor, old={"state": old}, new={"state": state},
              reason=note)
    return sensor


# -- import ---------------------------------------------------------------------------------------------

@transaction.atomic
def sensors_import(source, *, actor, owner_unit=None, filename: str = "", now=None) -> dict:
    """Register many sensors from an .xlsx or UTF-8 CSV file, all or nothing: a file with any bad row is
    refused whole, naming each bad row as the spreadsheet numbers it (the header is row 1)."""
    from huying.party.services.imports import filename_of, refuse_rows

    from .imports import LABELS, sensor_rows

    now = _now(now)
    if not sel.may_manage(actor):
        raise _forbidden()
    default_owner = _check_owner(actor, owner_unit) if owner_unit not in (None, "") else None
    filename = filename_of(source, filename)
    rows, errors = sensor_rows(source, filename)
    seen: dict[str, int] = {}
    drafts = []
    owners: dict[str, Unit | None] = {}
    for number, text in rows:
        try:
            ucode = text["owner_unit"]
            if ucode:
                if ucode not in owners:
                    owners[ucode] = Unit.objects.filter(code=ucode, active=True).first()
                owner = owners[ucode]
                if owner is None:
                    raise DomainError("sensing.bad_unit", _("权属单位编码不存在。"), field="owner_unit")
                owner = _check_owner(actor, owner)
            elif default_owner is not None:
                owner = default_owner
            else:
                raise DomainError("sensing.bad_unit", _("请填写权属单位编码，或在页面上选择权属单位。"),
                                  field="owner_unit")
            lng, lat = _float(text["lng"], "lng"), _float(text["lat"], "lat")
            data = _fields(code=text["code"], name=text["name"], kind=text["kind"], owner=owner, lng=lng, lat=lat,
                           measure_unit=text["measure_unit"], address=text["address"], place=text["place"],
                           building=text["building"])
            if data["code"] in seen:
                raise DomainError("sensing.duplicate_code", _("与第 %(n)s 行的设备编码重复。") % {"n": seen[data["code"]]},
                                  field="code")
            seen[data["code"]] = number
            drafts.append((number, data))
        except DomainError as exc:
            errors.append({"row": number, "field": LABELS.get(exc.field or "", ""), "message": exc.message})
    taken = set(Sensor.objects.filter(code__in=list(seen)).values_list("code", flat=True))
    for number, data in drafts:
        if data["code"] in taken:
            errors.append({"row": number, "field": LABELS["code"], "message": _("设备编码已存在。")})
    if errors:
        refuse_rows(errors, _("第 %(rows)s 行有误（共 %(n)s 行），整个文件未导入，请改正后重新上传。"))
    created = Sensor.objects.bulk_create([Sensor(**data, created_at=now, updated_at=now) for _n, data in drafts])
    for s in created:
        audit_log(s, "sensing.sensor.created", actor=actor, new=_audit_new(s), data={"file": filename})
    return {"created": len(created), "file": filename}


def _float(text: str, field: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise DomainError("sensing.bad_location", _("经纬度格式不正确。"), field=field) from None
    return value


# -- rules ------------------------------------------------------------------------------------------------

def _subject(subject) -> Subject:
    if isinstance(subject, Subject):
        return subject
    found = Subject.objects.filter(code=str(subject or "").strip()).first()
    if found is None:
        raise DomainError("sensing.bad_subject", _("请选择工单事项分类。"), field="subject")
    return found


def _rule_scope(actor, *, sensor: Sensor | None, area_code: str, sensor_kind: str) -> tuple[Sensor | None, str]:
    if sensor is not None:
        sensor = Sensor.objects.filter(pk=getattr(sensor, "pk", sensor)).first()
        if sensor is None or (actor is not None and not sel.may_manage_sensor(actor, sensor)):
            raise DomainError("sensing.not_found", _("设备不存在。"), field="sensor", status=404)
        if sensor.kind != sensor_kind:
            raise DomainError("sensing.kind_mismatch", _("所选设备不是该类别。"), field="sensor")
        return sensor, ""
    area_code = clean_text(area_code, field="area_code", max_length=20)
    if actor is None or sel.whole_city(actor):
        return None, area_code
    if not area_code:
        raise DomainError("sensing.area_required", _("请填写适用区域代码（本辖区或其下级），或选择一台设备。"),
                          field="area_code")
    if not scope_for(actor).covers(area_code):
        raise DomainError("sensing.outside_scope", _("适用区域不在您的辖区内。"), field="area_code", status=403)
    return None, area_code


def _whistle(actor, emergency: bool, departments) -> list[Unit]:
    if not emergency:
        return []
    if not (getattr(actor, "is_superuser", False) or scope_for(actor).has_any_role(*WHISTLE_ROLES)):
        raise DomainError("sensing.whistle_forbidden", _("只有承办人、单位负责人或派单员可以设置应急（自动吹哨）规则。"),
                          field="emergency", status=403)
    ids = sorted({getattr(d, "pk", d) for d in (departments or ())})
    units = list(Unit.objects.filter(pk__in=ids, kind=UnitKind.DEPARTMENT, active=True))
    if not units or len(units) != len(ids):
        raise DomainError("sensing.whistle_departments", _("应急规则须选择至少一个启用中的职能部门（吹哨时召集）。"),
                          field="whistle_departments")
    return units


def _urgency(urgency) -> str:
    try:
        return Urgency(urgency or Urgency.URGENT).value
    except ValueError:
        raise DomainError("sensing.bad_urgency", _("未知的紧急程度。"), field="urgency") from None


def _rule_audit(r: AlertRule) -> dict:
    return {"name": r.name, "kind": r.kind, "sensor_kind": r.sensor_kind, "area_code": r.area_code,
            "sensor": r.sensor_id, "params": r.params, "subject": r.subject_id, "urgency": r.urgency,
            "emergency": r.emergency, "active": r.active}


@transaction.atomic
def rule_create(*, name, kind, sensor_kind, params, subject, actor, owner_unit, urgency: str = Urgency.URGENT,
                emergency: bool = False, whistle_departments=(), area_code: str = "", sensor=None,
                now=None) -> AlertRule:
    """Set an alert rule (设置预警规则) for the sensors of one kind in an area (or one sensor)."""
    now = _now(now)
    owner = _check_owner(actor, owner_unit)
    name = clean_text(name, field="name", max_length=120)
    if not name:
        raise DomainError("sensing.required", _("请填写名称。"), field="name")
    try:
        kind = RuleKind(kind).value
    except ValueError:
        raise DomainError("sensing.rule.bad_kind", _("未知的规则类型。"), field="kind") from None
    sensor_kind = _kind(sensor_kind)
    params = R.validate_params(kind, params)
    sensor, area_code = _rule_scope(actor, sensor=sensor, area_code=area_code, sensor_kind=sensor_kind)
    departments = _whistle(actor, bool(emergency), whistle_departments)
    rule = AlertRule.objects.create(
        name=name, kind=kind, sensor_kind=sensor_kind, area_code=area_code, sensor=sensor, owner_unit=owner,
        params=params, subject=_subject(subject), urgency=_urgency(urgency), emergency=bool(emergency),
        whistle_by=actor if emergency and getattr(actor, "pk", None) else None, created_at=now, updated_at=now)
    rule.whistle_departments.set(departments)
    audit_log(rule, "sensing.rule.created", actor=actor,
              new={**_rule_audit(rule), "whistle_departments": [d.pk for d in departments]})
    return rule


@transaction.atomic
def rule_update(rule: AlertRule, *, actor, params=None, active: bool | None = None, urgency: str | None = None,
                emergency: bool | None = None, whistle_departments=None, now=None) -> AlertRule:
    """Change a rule's parameters, urgency, emergency flag or switch it on/off."""
    now = _now(now)
    rule = AlertRule.objects.select_for_update(of=("self",)).select_related("sensor").get(pk=rule.pk)
    if not (sel.may_manage(actor) and sel.rule_in_scope(actor, rule)):
        raise DomainError("sensing.not_found", _("规则不存在。"), status=404)
    old = _rule_audit(rule)
    if params is not None:
        rule.params = R.validate_params(rule.kind, params)
    if active is not None:
        rule.active = bool(active)
    if urgency is not None:
        rule.urgency = _urgency(urgency)
    if emergency is not None:
        departments = _whistle(actor, bool(emergency), whistle_departments
                               if whistle_departments is not None else rule.whistle_departments.all())
        if bool(emergency) and not rule.emergency or whistle_departments is not None:
            rule.whistle_by = actor if emergency else None
        rule.emergency = bool(emergency)
        rule.whistle_departments.set(departments)
    rule.updated_at = now
    rule.save()
    new = _rule_audit(rule)
    audit_log(rule, "sensing.rule.changed", actor=actor, old={k: v for k, v in old.items() if new[k] != v},
              new={k: v for k, v in new.items() if old[k] != v})
    return rule


# -- firing: alert, order, whistle ---------------------------------------------------------------------

def _condition(rule: AlertRule) -> str:
    p = rule.params or {}
    if rule.kind == RuleKind.ABOVE:
        return _("高于 %(t)s") % {"t": p.get("threshold")}
    if rule.kind == RuleKind.BELOW:
        return _("低于 %(t)s") % {"t": p.get("threshold")}
    if rule.kind == RuleKind.RATE:
        return _("每分钟变化 ≥ %(r)s") % {"r": p.get("per_minute")}
    if rule.kind == RuleKind.SILENCE:
        return _("%(m)s 分钟无上报") % {"m": p.get("minutes")}
    return _("%(k)s 台以上设备 %(m)s 分钟内越过 %(t)s") % {"k": p.get("k"), "m": p.get("window_minutes"),
                                                       "t": p.get("threshold")}


def _title(rule: AlertRule, sensor: Sensor, firing: R.Firing, group: str) -> str:
    if rule.kind == RuleKind.SILENCE:
        return _("%(name)s设备静默，需维护") % {"name": sensor.name}
    if rule.kind == RuleKind.COMBINATION:
        return _("%(place)s：%(n)s 台%(kind)s设备报警") % {"place": group, "n": firing.count,
                                                     "kind": sensor.get_kind_display()}
    return _("%(name)s：%(rule)s（%(value)s%(unit)s）") % {"name": sensor.name, "rule": rule.name,
                                                         "value": _fmt(firing.value), "unit": sensor.measure_unit}


def _fmt(value) -> str:
    return "—" if value is None else f"{value:g}"


def _group_label(sensor: Sensor, group_by: str) -> str:
    if group_by == "place":
        return sensor.place
    if group_by == "building":
        return sensor.building.address if sensor.building_id else ""
    return sensor.area_label or sensor.area_code


def fire(rule: AlertRule, key: str, firing: R.Firing, *, sensor: Sensor, sensors=(), group: str = "",
         now=None) -> bool:
    """The rule holds for `key` (a sensor or a place): raise the episode's alert once, open its work order
    and, for an emergency rule, blow the whistle; a repeat refreshes the open alert. True when new."""
    now = _now(now)
    with transaction.atomic():
        state, _c = RuleState.objects.select_for_update().get_or_create(rule=rule, key=key,
                                                                         defaults={"updated_at": now})
        codes = [s.code for s in sensors] or [sensor.code]
        evidence = {"count": firing.count, "expected": 0, "rule": rule.pk, "rule_name": rule.name,
                    "condition": _condition(rule), "sensors": codes, "value": firing.value,
                    "unit": sensor.measure_unit, "ts": firing.ts.isoformat(), **firing.detail}
        evidence["sensors"] = codes
        alert = Alert.objects.filter(pk=state.alert_id).first() if state.alert_id else None
        if alert is not None and alert.status != AlertStatus.CLOSED:
            # The same episode (or a new crossing before anyone closed it): one alert, one order.
            alert_raise(kind=AlertKind.SENSOR, dedup_key=alert.dedup_key, title=alert.title, evidence=evidence,
                        now=now)
            if not state.firing:
                state.firing, state.since = True, firing.ts
            state.updated_at = now
            state.save(update_fields=["firing", "since", "updated_at"])
            return False
        title = _title(rule, sensor, firing, group)
        dedup = f"sensor:{rule.pk}:{key}:{int(firing.ts.timestamp())}"[:160]
        alert, created = alert_raise(
            kind=AlertKind.SENSOR, dedup_key=dedup, title=title, evidence=evidence, subject=rule.subject,
            area_code=sensor.area_code, district_code=sensor.district_code, street_code=sensor.street_code,
            area_label=sensor.area_label, lng=sensor.lng, lat=sensor.lat, now=now)
        state.alert, state.firing, state.since, state.updated_at = alert, True, firing.ts, now
        state.save(update_fields=["alert", "firing", "since", "updated_at"])
        if not created:
            return False
    _open_order(alert, rule=rule, sensor=sensor, codes=codes, firing=firing, now=now)
    return True


def _open_order(alert: Alert, *, rule: AlertRule, sensor: Sensor, codes: list[str], firing: R.Firing, now) -> None:
    """One work order for the alert, routed by dispatch's normal routing (and dispatched there at once);
    the owner unit is told. A failure is logged on the alert and never loses the readings or the alert."""
    from huying.dispatch.escalation.models import WhistleKind
    from huying.dispatch.escalation.services import whistle_blow
    from huying.dispatch.services import work_order_create

    description = _("感知设备预警：%(title)s。设备 %(codes)s，读数 %(value)s%(unit)s，条件：%(cond)s，"
                    "时间 %(ts)s。权属单位：%(owner)s。") % {
        "title": alert.title, "codes": "、".join(codes[:20]), "value": _fmt(firing.value),
        "unit": sensor.measure_unit, "cond": _condition(rule),
        "ts": timezone.localtime(firing.ts).strftime("%Y-%m-%d %H:%M:%S"), "owner": sensor.owner_unit.name}
    try:
        with transaction.atomic():
            order = work_order_create(channel=Channel.SENSOR, subject=rule.subject, title=alert.title[:120],
                                      description=description, lng=alert.lng, lat=alert.lat, urgency=rule.urgency,
                                      actor=None, idempotency_key=f"sensing-alert-{alert.pk}", auto_dispatch=True,
                                      now=now)
            alert.orders.add(order)
            audit_log(alert, "dispatch.alert.order_opened", actor=None, new={"order": order.code, "rule": rule.pk})
            notification_enqueue(
                NotifyEvent.ALERT, recipient_kind=RecipientKind.UNIT, recipient_id=sensor.owner_unit_id,
                title=_("预警：%(title)s") % {"title": alert.title}, body=description,
                dedup_key=f"alert:{alert.pk}:{sensor.owner_unit_id}", order_id=order.pk,
                data={"alert": alert.pk}, now=now)
    except DomainError as exc:
        log.warning("sensing: alert %s opened no order: %s", alert.pk, exc.code)
        audit_log(alert, "sensing.alert.order_failed", actor=None, data={"code": exc.code, "message": exc.message})
        return
    if not rule.emergency:
        return
    departments = [d.pk for d in rule.whistle_departments.all()]
    try:
        with transaction.atomic():
            whistle_blow(order, actor=rule.whistle_by, kind=WhistleKind.EMERGENCY, department_ids=departments,
                         reason=_("感知设备应急预警：%(title)s") % {"title": alert.title}, now=now)
    except DomainError as exc:
        log.warning("sensing: order %s: no whistle: %s", order.pk, exc.code)
        audit_log(alert, "sensing.alert.whistle_failed", actor=None, data={"code": exc.code, "message": exc.message,
                                                                          "order": order.code})


def settle(rule_id: int, key: str, *, now) -> None:
    """The condition no longer holds: the episode's state stops firing (its alert stays for people to close)."""
    RuleState.objects.filter(rule_id=rule_id, key=key, firing=True).update(firing=False, updated_at=now)


# -- evaluation after a batch of readings ---------------------------------------------------------------

def applies(rule: AlertRule, sensor: Sensor) -> bool:
    return (rule.sensor_kind == sensor.kind and (rule.sensor_id is None or rule.sensor_id == sensor.pk)
            and (sensor.area_code or "").startswith(rule.area_code or ""))


def _group_key(sensor: Sensor, group_by: str) -> str | None:
    if group_by == "place":
        return f"place:{sensor.place}" if sensor.place else None
    if group_by == "building":
        return f"bldg:{sensor.building_id}" if sensor.building_id else None
    return f"grid:{sensor.grid_id}" if sensor.grid_id else None


def _group_q(sensor: Sensor, group_by: str) -> Q:
    if group_by == "place":
        return Q(place=sensor.place)
    if group_by == "building":
        return Q(building_id=sensor.building_id)
    return Q(grid_id=sensor.grid_id)


def _series(sensor_ids, start) -> dict[int, list[tuple[datetime, float]]]:
    out: dict[int, list] = {i: [] for i in sensor_ids}
    for sid, ts, v in (Reading.objects.filter(sensor_id__in=list(sensor_ids), ts__gte=start)
                       .order_by("sensor_id", "ts").values_list("sensor_id", "ts", "value")):
        out[sid].append((ts, v))
    return out


def evaluate(new: dict[int, list[tuple[datetime, float]]], sensors: dict[int, Sensor], *, now=None) -> tuple[int, int]:
    """Run the active rules over the readings just stored (sensor id → [(ts, value)], oldest first).

    Returns (alerts raised, rules that failed). A rule that fails is logged and skipped: the readings
    are stored already and the next batch evaluates again.
    """
    now = _now(now)
    live = {sid: s for sid, s in sensors.items() if sid in new and s.state == SensorState.IN_SERVICE}
    if not live:
        return 0, 0
    rules = list(AlertRule.objects.filter(active=True, sensor_kind__in={s.kind for s in live.values()})
                 .select_related("subject", "whistle_by"))
    if not rules:
        return 0, 0
    firing = set(RuleState.objects.filter(rule__in=rules, firing=True).values_list("rule_id", "key"))
    raised = failed = 0
    rate_rules = [r for r in rules if r.kind == RuleKind.RATE]
    history: dict[int, list] = {}
    if rate_rules:
        ids = [sid for sid, s in live.items() if any(applies(r, s) for r in rate_rules)]
        if ids:
            window = max(r.params.get("window_minutes", 10) for r in rate_rules)
            start = min(new[sid][0][0] for sid in ids) - timedelta(minutes=window)
            history = _series(ids, start)
    groups_done: set[tuple[int, str]] = set()
    for sid, sensor in live.items():
        readings = new[sid]
        for rule in rules:
            if not applies(rule, sensor):
                continue
            key = f"s{sid}"
            try:
                if rule.kind in (RuleKind.ABOVE, RuleKind.BELOW):
                    direction = "above" if rule.kind == RuleKind.ABOVE else "below"
                    hit = R.threshold_fires(readings, rule.params, direction=direction)
                    if hit is not None:
                        raised += fire(rule, key, hit, sensor=sensor, now=now)
                    if (hit is not None or (rule.pk, key) in firing) and R.latest_clear(readings, rule.params,
                                                                                       direction=direction):
                        settle(rule.pk, key, now=now)
                elif rule.kind == RuleKind.RATE:
                    hit = R.rate_fires(history.get(sid) or readings, rule.params, since=readings[0][0])
                    if hit is not None:
                        raised += fire(rule, key, hit, sensor=sensor, now=now)
                    elif (rule.pk, key) in firing:
                        settle(rule.pk, key, now=now)
                elif rule.kind == RuleKind.SILENCE:
                    if (rule.pk, key) in firing:  # it speaks again
                        settle(rule.pk, key, now=now)
                elif rule.kind == RuleKind.COMBINATION:
                    group_by = rule.params.get("group_by", "place")
                    gkey = _group_key(sensor, group_by)
                    if gkey is None or (rule.pk, gkey) in groups_done:
                        continue
                    groups_done.add((rule.pk, gkey))
                    raised += _evaluate_group(rule, gkey, sensor, new, live, now=now, was_firing=(rule.pk, gkey) in firing)
            except DomainError as exc:
                failed += 1
                log.warning("sensing: rule %s on %s refused: %s", rule.pk, key, exc.code)
            except Exception:  # one broken rule must not stop the others or lose the batch
                failed += 1
                log.exception("sensing: rule %s on %s failed", rule.pk, key)
    return raised, failed


def _evaluate_group(rule: AlertRule, gkey: str, sensor: Sensor, new: dict, live: dict, *, now, was_firing: bool) -> int:
    p = rule.params
    group_by = p.get("group_by", "place")
    members = {s.pk: s for s in Sensor.objects.filter(_group_q(sensor, group_by), kind=rule.sensor_kind,
                                                       state=SensorState.IN_SERVICE,
                                                       area_code__startswith=rule.area_code or "")
               .select_related("owner_unit", "building")}
    if rule.sensor_id is not None:
        members = {k: v for k, v in members.items() if k == rule.sensor_id}
    at = max(new[sid][-1][0] for sid in members if sid in new) if any(sid in new for sid in members) else now
    series = _series(members, at - timedelta(minutes=p["window_minutes"]))
    hit = R.combination_fires(series, p, now=at)
    if hit is None:
        if was_firing:
            settle(rule.pk, gkey, now=now)
        return 0
    ids = hit.detail["sensors"]
    lead = members[max(ids, key=lambda i: series[i][-1][0] if series[i] else at)]
    chosen = [members[i] for i in ids]
    hit = R.Firing(ts=hit.ts, value=hit.value, count=hit.count, detail={**hit.detail, "sensors": [s.code for s in chosen]})
    return int(fire(rule, gkey, hit, sensor=lead, sensors=chosen, group=_group_label(lead, group_by) or lead.area_label,
                    now=now))


# -- silence (the worker's job) ---------------------------------------------------------------------------

def silence_sweep(*, now=None) -> dict[str, int]:
    """Every in-service sensor a silence rule covers that has not reported for the rule's minutes gets one
    maintenance alert and work order (once per episode: until that alert is closed, no other)."""
    now = _now(now)
    raised = checked = failed = 0
    for rule in AlertRule.objects.filter(active=True, kind=RuleKind.SILENCE).select_related("subject", "whistle_by"):
        minutes = rule.params.get("minutes")
        if not minutes:
            continue
        cutoff = now - timedelta(minutes=int(minutes))
        qs = (Sensor.objects.filter(kind=rule.sensor_kind, state=SensorState.IN_SERVICE,
                                    area_code__startswith=rule.area_code or "")
              .filter(Q(last_seen__lte=cutoff) | Q(last_seen__isnull=True, created_at__lte=cutoff))
              .select_related("owner_unit"))
        if rule.sensor_id is not None:
            qs = qs.filter(pk=rule.sensor_id)
        firing = set(RuleState.objects.filter(rule=rule, firing=True).values_list("key", flat=True))
        for sensor in qs.iterator(chunk_size=500):
            checked += 1
            key = f"s{sensor.pk}"
            if key in firing:
                continue  # this silence already has its alert
            hit = R.Firing(ts=now, value=None, count=1, detail={
                "minutes": int(minutes), "last_seen": sensor.last_seen.isoformat() if sensor.last_seen else None})
            try:
                raised += fire(rule, key, hit, sensor=sensor, now=now)
            except Exception:
                failed += 1
                log.exception("sensing: silence rule %s on %s failed", rule.pk, sensor.pk)
    return {"silent": checked, "alerts": raised, "failed": failed}


def silence_job(*, now, stopping, every) -> dict:
    """设备静默: sensors that stopped reporting become maintenance orders."""
    return silence_sweep(now=now)


def register_jobs() -> None:
    jobs.register("sensing-silence", interval=60, fn=silence_job, exclusive=True, title="感知设备静默扫描")
