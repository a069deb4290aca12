"""The write path of alerts (预警): raise (deduplicated, notified), acknowledge, close, open an order,
and the scan that raises hot-issue alerts from the orders of the last weeks."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError
from huying.core.text import BAD_RE, clean_text
from huying.people.models import RoleCode, Unit, UnitKind
from huying.people.scope import scope_for
from huying.territory.models import Division, Level

from ..models import Channel, Subject, WorkOrder
from ..notify.models import NotifyEvent, RecipientKind
from ..notify.services import notification_enqueue
from ..services import work_order_create
from .alerts import detect
from .grouping import group_calls
from .heat import rank
from .models import Alert, AlertKind, AlertStatus, HotSnapshot
from .selectors import SNAPSHOT_DAYS, call_from_order, group_by_street

ALERT_ROLES = (RoleCode.DISPATCHER, RoleCode.OPERATOR, RoleCode.HANDLER, RoleCode.UNIT_LEADER,
               RoleCode.GRID_WORKER, RoleCode.LEADER, RoleCode.ADMIN)


def _may_act(alert: Alert, actor) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if actor.is_superuser:
        return True
    scope = scope_for(actor)
    return scope.has_any_role(*ALERT_ROLES) and (scope.whole_city or scope.covers(alert.area_code))


def _check_actor(alert: Alert, actor) -> None:
    if not _may_act(alert, actor):
        # Outside the actor's territory it does not exist for them, as with orders.
        raise DomainError("dispatch.alert.not_found", _("预警不存在。"), status=404)


def alert_recipients(*, district_code: str = "", street_code: str = "") -> list[int]:
    """The area's territorial units (street, district) and every dispatch centre (指挥调度中心)."""
    codes = [c for c in (street_code, district_code) if c]
    units = Unit.objects.filter(active=True, kind=UnitKind.TERRITORIAL, division__code__in=codes) if codes else []
    centres = Unit.objects.filter(active=True, kind=UnitKind.COMMAND)
    return sorted({u.pk for u in units} | {u.pk for u in centres})


@transaction.atomic
def alert_raise(*, kind: str, dedup_key: str, title: str, evidence: dict, actor=None, subject: Subject | None = None,
                area_code: str = "", district_code: str = "", street_code: str = "", area_label: str = "",
                lng: float | None = None, lat: float | None = None, now=None) -> tuple[Alert, bool]:
    """Raise an alert once per `dedup_key`: (alert, created). A repeat refreshes an unclosed alert's
    evidence and notifies nobody again; a new one goes to the area's units and the dispatch centre."""
    now = now or timezone.now()
    try:
        kind = AlertKind(kind)
    except ValueError:
        raise DomainError("dispatch.alert.bad_kind", _("未知的预警类别。"), field="kind") from None
    key = (dedup_key or "").strip()
    if not key or len(key) > 160:
        raise DomainError("dispatch.alert.bad_key", _("缺少去重键（1–160 个字符）。"), field="dedup_key")
    # Made from orders' titles: whatever they hold (rows stored before intake cleaned text) is dropped here.
    title = clean_text(BAD_RE.sub("", title or ""), field="title")[:200]
    if not title:
        raise DomainError("dispatch.required", _("请填写标题。"), field="title")
    existing = Alert.objects.select_for_update().filter(dedup_key=key).first()
    if existing is not None:
        if (existing.evidence or {}).get("linked"):  # evidence attached by another detector stays
            evidence = {**evidence, "linked": existing.evidence["linked"]}
        if existing.status != AlertStatus.CLOSED and existing.evidence != evidence:
            existing.evidence = evidence
            existing.updated_at = now
            existing.save(update_fields=["evidence", "updated_at"])
        return existing, False
    alert = Alert.objects.create(kind=kind, dedup_key=key, title=title, subject=subject, area_code=area_code,
                                 district_code=district_code, street_code=street_code, area_label=area_label,
                                 lng=lng, lat=lat, evidence=evidence, raised_at=now, updated_at=now)
    audit_log(alert, "dispatch.alert.raised", actor=actor, new={"kind": kind, "dedup_key": key, "title": title,
                                                               "area_code": area_code})
    body = _("{area}：{title}（{count} 件，通常约 {expected} 件）").format(
        area=area_label or area_code or _("全市"), title=title, count=evidence.get("count", "—"),
        expected=evidence.get("expected", "—"))
    for unit_id in alert_recipients(district_code=district_code, street_code=street_code):
        notification_enqueue(NotifyEvent.ALERT, recipient_kind=RecipientKind.UNIT, recipient_id=unit_id,
                             title=_("预警：{title}").format(title=title), body=body, dedup_key=f"alert:{alert.pk}:{unit_id}",
                             data={"alert": alert.pk, "evidence": evidence}, now=now)
    return alert, True


@transaction.atomic
def alert_acknowledge(alert: Alert, *, actor, note: str = "", now=None) -> Alert:
    """Someone in the alert's area (or the dispatch centre) takes it in hand (确认)."""
    now = now or timezone.now()
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    _check_actor(alert, actor)
    if alert.status != AlertStatus.OPEN:
        raise DomainError("dispatch.alert.not_open", _("该预警已确认或已关闭。"), status=409)
    alert.status, alert.acknowledged_at, alert.acknowledged_by = AlertStatus.ACKNOWLEDGED, now, actor
    alert.note = clean_text(note, field="note", multiline=True)
    alert.updated_at = now
    alert.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "note", "updated_at"])
    audit_log(alert, "dispatch.alert.acknowledged", actor=actor, old={"status": AlertStatus.OPEN},
              new={"status": alert.status, "note": alert.note})
    return alert


@transaction.atomic
def alert_close(alert: Alert, *, actor, note: str = "", now=None) -> Alert:
    now = now or timezone.now()
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    _check_actor(alert, actor)
    if alert.status == AlertStatus.CLOSED:
        raise DomainError("dispatch.alert.closed", _("该预警已关闭。"), status=409)
    old = alert.status
    alert.status, alert.closed_at, alert.updated_at = AlertStatus.CLOSED, now, now
    note = clean_text(note, field="note", multiline=True)
    if note:
        alert.note = note
    alert.save(update_fields=["status", "closed_at", "updated_at", "note"])
    audit_log(alert, "dispatch.alert.closed", actor=actor, old={"status": old}, new={"status": alert.status})
    return alert


@transaction.atomic
def alert_open_order(alert: Alert, *, actor, subject: str | Subject | None = None, now=None) -> WorkOrder:
    """Open one work order for the alert, at its place (a repeat returns the same order)."""
    now = now or timezone.now()
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    _check_actor(alert, actor)
    if alert.status == AlertStatus.CLOSED:
        raise DomainError("dispatch.alert.closed", _("该预警已关闭。"), status=409)
    subject = subject or alert.subject
    if subject is None:
        raise DomainError("dispatch.required", _("请选择事项分类。"), field="subject")
    if alert.lng is None or alert.lat is None:
        raise DomainError("dispatch.no_location", _("该预警没有位置，无法生成工单。"), field="location")
    ev = alert.evidence or {}
    description = _("由预警生成：{title}。依据：{count} 件，通常约 {expected} 件。").format(
        title=alert.title, count=ev.get("count", "—"), expected=ev.get("expected", "—"))
    order = work_order_create(channel=Channel.SENSOR if alert.kind == AlertKind.SENSOR else Channel.OTHER,
                              subject=subject, title=alert.title[:120], description=description, lng=alert.lng,
                              lat=alert.lat, actor=actor, idempotency_key=f"alert-{alert.pk}", now=now)
    if not alert.orders.filter(pk=order.pk).exists():
        alert.orders.add(order)
        audit_log(alert, "dispatch.alert.order_opened", actor=actor, new={"order": order.code})
    return order


def _series(orders_by_key: dict, now, days: int) -> dict:
    """Daily counts per key over the last `days` days ending at `now`, oldest first."""
    out = {}
    for key, ats in orders_by_key.items():
        counts = [0] * days
        for at in ats:
            i = days - 1 - int((now - at).total_seconds() // 86400)
            if 0 <= i < days:
                counts[i] += 1
        out[key] = counts
    return out


def hot_scan(*, now=None, actor=None, lookback_days: int = 28, **detector) -> list[Alert]:
    """Raise alerts where a (subject, street) or a hot-issue group had an unusual last 24 hours.

    Dedup keys carry the day, so a scan repeated the same day updates, not repeats, its alerts. When
    both detectors see one surge (mostly the same orders, the same day), the second's evidence is
    attached to the first alert under evidence["linked"], so the area's units are notified once.
    """
    now = now or timezone.now()
    orders = list(WorkOrder.objects.filter(created_at__gte=now - timedelta(days=lookback_days), created_at__lt=now)
                  .exclude(state="merged").select_related("subject"))
    by_area = defaultdict(list)
    for o in orders:
        if o.street_code:
            by_area[(o.subject.code, o.street_code)].append(o)
    series = _series({k: [o.created_at for o in v] for k, v in by_area.items()}, now, lookback_days)
    day = timezone.localtime(now).date().isoformat()
    raised = []
    for t in detect(series, **detector):
        subject_code, street = t.key
        members = [o for o in by_area[t.key] if now - o.created_at < timedelta(days=1)]
        raised.append(_raise_for(members, kind_key=f"hot:subject:{subject_code}:{street}:{day}", trigger=t,
                                 title=_("{subject}诉求激增").format(subject=members[0].subject.name),
                                 actor=actor, now=now, series=series[t.key]))
    groups = rank(group_calls([call_from_order(o) for o in orders], window=timedelta(days=lookback_days)))
    by_id = {str(o.pk): o for o in orders}
    gseries = {}
    for n, g in enumerate(groups):
        gseries[(n,)] = _series({0: [c.at for c in g.calls]}, now, lookback_days)[0]
    for t in detect(gseries, **detector):
        g = groups[t.key[0]]
        members = [by_id[c.id] for c in g.calls if now - c.at < timedelta(days=1)]
        first = min(int(c.id) for c in g.calls)
        raised.append(_raise_for(members, kind_key=f"hot:group:{first}:{day}", trigger=t, title=g.title,
                                 actor=actor, now=now, series=gseries[t.key], heat=g.heat))
    return list({a.pk: a for a in raised}.values())  # one per alert, as last updated


@transaction.atomic
def alert_link_evidence(alert: Alert, *, key: str, title: str, evidence: dict, actor=None, now=None) -> Alert:
    """Attach a second detector's evidence of the same surge to an unclosed alert, notifying nobody again
    (a subject-in-area surge and a hot-issue group are often one event seen twice)."""
    now = now or timezone.now()
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.status == AlertStatus.CLOSED:
        raise DomainError("dispatch.alert.closed", _("该预警已关闭。"), status=409)
    current = dict(alert.evidence or {})
    linked = dict(current.get("linked") or {})
    first = key not in linked
    entry = {"title": title, **evidence}
    if linked.get(key) == entry:
        return alert
    linked[key] = entry
    alert.evidence = {**current, "linked": linked}
    alert.updated_at = now
    alert.save(update_fields=["evidence", "updated_at"])
    if first:
        audit_log(alert, "dispatch.alert.evidence_linked", actor=actor, new={"key": key, "title": title,
                                                                           "orders": evidence.get("orders", [])})
    return alert


def _same_surge(kind_key: str, codes: set[str]) -> Alert | None:
    """The unclosed hot alert of the same day whose orders are mostly these (the same surge seen by the
    other detector), oldest first; None when this key already has its own alert."""
    if Alert.objects.filter(dedup_key=kind_key).exists():
        return None
    day = kind_key.rsplit(":", 1)[1]
    candidates = (Alert.objects.filter(kind=AlertKind.HOT, dedup_key__startswith="hot:", dedup_key__endswith=f":{day}")
                  .exclude(status=AlertStatus.CLOSED).order_by("raised_at", "id"))
    for alert in candidates:
        other = set((alert.evidence or {}).get("orders") or [])
        if other and 2 * len(codes & other) >= min(len(codes), len(other)):
            return alert
    return None


def _raise_for(members, *, kind_key, trigger, title, actor, now, series, heat=None) -> Alert:
    prefix = members[0].area_code
    for o in members[1:]:
        while not o.area_code.startswith(prefix):
            prefix = prefix[:-1]
    first = members[0]
    evidence = {"count": trigger.count, "expected": trigger.expected, "p_value": round(trigger.p_value, 8),
                "daily_counts": series, "orders": [o.code for o in members]}
    if heat is not None:
        evidence["heat"] = heat
    same = _same_surge(kind_key, {o.code for o in members})
    if same is not None:
        return alert_link_evidence(same, key=kind_key, title=title, evidence=evidence, actor=actor, now=now)
    subjects = {o.subject_id for o in members}
    alert, _created = alert_raise(
        kind=AlertKind.HOT, dedup_key=kind_key, title=title, evidence=evidence, actor=actor,
        subject=first.subject if len(subjects) == 1 else None, area_code=prefix,
        district_code=first.district_code if all(o.district_code == first.district_code for o in members) else "",
        street_code=first.street_code if all(o.street_code == first.street_code for o in members) else "",
        area_label=first.area_label if prefix == first.area_code else "",
        lng=sum(o.lng for o in members) / len(members), lat=sum(o.lat for o in members) / len(members), now=now)
    return alert


# Snapshots older than this are deleted when a new one is taken (the page reads only the newest).
SNAPSHOT_KEEP = timedelta(days=1)


def hot_snapshot_take(*, now=None, days: int = SNAPSHOT_DAYS, threshold: float = 0.22) -> list[HotSnapshot]:
    """Group each city's orders of the last `days` and store the groups (the worker's job, every few minutes).

    One snapshot per city (its districts' orders); without a city in the territory, one of all orders.
    """
    now = now or timezone.now()
    cities = list(Division.objects.filter(level=Level.CITY).order_by("code"))
    out = []
    for city in cities or [None]:
        started = time.perf_counter()
        qs = (WorkOrder.objects.filter(created_at__gte=now - timedelta(days=days), created_at__lt=now)
              .exclude(state="merged").select_related("subject")
              .only("id", "title", "description", "created_at", "area_code", "reporter", "reporter_phone",
                    "subject__code", "urgency", "lng", "lat"))
        if city is not None:
            qs = qs.filter(district_code__in=Division.objects.filter(parent=city).values("code"))
        calls = [call_from_order(o) for o in qs.iterator(chunk_size=2000)]
        groups = rank(group_by_street(calls, days=days, threshold=threshold))
        data = [{"orders": [int(c.id) for c in g.calls], "title": g.title[:200], "size": g.size, "heat": g.heat,
                 "area_code": g.area_code} for g in groups]
        code = city.code if city is not None else ""
        with transaction.atomic():
            snap = HotSnapshot.objects.create(city_code=code, days=days, threshold=threshold, computed_at=now,
                                              order_count=len(calls), groups=data,
                                              elapsed_ms=int((time.perf_counter() - started) * 1000))
            HotSnapshot.objects.filter(city_code=code, days=days, computed_at__lt=now - SNAPSHOT_KEEP).delete()
        out.append(snap)
    return out


def hot_snapshot_due(*, now=None, every: timedelta = timedelta(minutes=5), days: int = SNAPSHOT_DAYS) -> bool:
    """Whether the newest snapshot is at least `every` old (or there is none)."""
    now = now or timezone.now()
    last = HotSnapshot.objects.filter(days=days).order_by("-computed_at").values_list("computed_at", flat=True).first()
    return last is None or now - last >= every
