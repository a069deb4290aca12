"""The classification step of intake (自动分类): a submission without a subject gets one from the classifier.

`services.intake` calls three functions, in its own transaction:
- `classify_drafts` once per submission or batch (one `classify_many` call for all), after the
  checks: each draft without a subject gets the mapped subject (`LabelRoute`) and the decision —
  dispatched automatically at or above the model's threshold, else left submitted for triage;
- `apply_route` after routing: a mapping that names a department makes it the proposed unit;
- `record` with the written orders: the `Classification` rows and their audit rows.

Only residents' web reports and API submissions may leave the subject out; operators and grid
workers classify what they take in themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

from huying.core import rows
from huying.core.audit import audit_row
from huying.core.errors import DomainError
from huying.dispatch.classifier import classify_many, default_model_path, get_model

from .. import reference
from ..models import Channel, Subject, SubjectKind
from ..routing import Route
from .models import Classification, LabelRoute

# Channels whose submissions may come without a subject (residents' web reports, API clients): the
# classifier names it. Hotline operators, grid workers and the other apps' staff choose one themselves.
CLASSIFIED_CHANNELS = frozenset({Channel.WEB, Channel.API})
TOP_SCORES = 3
ROUTE_REASON = "label_route"

_versions: dict[int, str] = {}


@dataclass
class Classified:
    """What the classifier said about one draft, and what intake does with it."""

    label: str
    confidence: float
    auto: bool
    scores: list = field(default_factory=list)
    model_version: str = ""
    route: LabelRoute | None = None
    needs_triage: bool = True


def wants_classification(channel, subject) -> bool:
    """A submission on a classified channel that names no subject."""
    if isinstance(subject, Subject):
        return False
    return channel in CLASSIFIED_CHANNELS and not str(subject or "").strip()


def predict(texts: list[tuple[str, str]]) -> tuple[list, str]:
    """The classifier's predictions for (title, body) pairs and the model's version (tests stub this)."""
    predictions = classify_many(texts)
    version = next((v for p in predictions if (v := getattr(p, "model_version", ""))), "")
    if not version:  # a model from before predictions named their model: its file's name
        model = get_model()
        version = _versions.get(id(model)) or _versions.setdefault(id(model), default_model_path().stem)
    return predictions, version[:80]


def _routes() -> dict[str, LabelRoute]:
    return {r.label: r for r in LabelRoute.objects.select_related("department")}


def _fallback_subject(label: str) -> Subject | None:
    """The shipped tree's top-level 诉求 class of the same name, for a family without a usable mapping."""
    found = Subject.objects.filter(name=label, parent__isnull=True, kind=SubjectKind.REQUEST, active=True).first()
    return reference.subject(found.code) if found is not None else None


def _subject_required(message, index: int | None) -> DomainError:
    details = {"index": index} if index is not None else {}
    return DomainError("dispatch.subject_required", message, field="subject", **details)


def classify_drafts(drafts: list) -> None:
    """Give each draft without a subject the classifier's family, its mapped subject and the decision."""
    todo = [(i, d) for i, d in enumerate(drafts) if d.subject is None]
    if not todo:
        return
    batch = len(drafts) > 1
    try:
        predictions, version = predict([(d.body["title"], d.body["description"]) for _i, d in todo])
    except ValueError:  # ClassifierError: no model file, or nothing to read
        raise _subject_required(_("暂时无法自动分类，请选择事项分类。"), todo[0][0] if batch else None) from None
    routes = _routes()
    auto_allowed = settings.HUYING_CLASSIFIER_AUTO
    for (i, d), p in zip(todo, predictions, strict=True):
        route = routes.get(p.label)
        usable = route is not None and route.active and (
            route.department_id is None or route.department.active)
        subject = reference.subject(route.subject.code) if usable else None
        if subject is None:
            usable = False
            subject = _fallback_subject(p.label)
        if subject is None:
            raise _subject_required(_("无法确定事项分类，请选择事项分类。"), i if batch else None)
        scores = sorted(p.scores.items(), key=lambda kv: -kv[1])[:TOP_SCORES]
        needs_triage = not (p.auto and usable)
        d.subject, d.chain = subject, reference.subject_chain(subject)
        d.classified = Classified(label=p.label, confidence=round(float(p.confidence), 4), auto=bool(p.auto),
                                  scores=[[k, round(float(v), 4)] for k, v in scores], model_version=version,
                                  route=route if usable else None, needs_triage=needs_triage)
        d.auto_dispatch = auto_allowed and not needs_triage and d.auto_requested is not False


def apply_route(d) -> None:
    """A mapping that names a department sends the order there instead of where the rules would."""
    c = getattr(d, "classified", None)
    if c is None or c.route is None or c.route.department_id is None or d.unit is not None:
        return
    d.route = Route(unit_id=c.route.department_id, level="department", cohandler_ids=[], rule_id=None,
                    reason=ROUTE_REASON)


def record(orders: list, drafts: list, *, now) -> list[dict]:
    """Insert the Classification rows of the orders just written; returns their audit rows."""
    found, audits = [], []
    for order, d in zip(orders, drafts, strict=True):
        c = getattr(d, "classified", None)
        if c is None:
            continue
        found.append({"order_id": order.pk, "label": c.label, "confidence": c.confidence, "auto": c.auto,
                      "model_version": c.model_version, "scores": c.scores, "at": now,
                      "needs_triage": c.needs_triage, "final_label": ""})
        audits.append(audit_row(order, "dispatch.order.classified", actor=None,
                                data={"label": c.label, "confidence": c.confidence, "auto": c.auto,
                                      "needs_triage": c.needs_triage, "subject": d.subject.code,
                                      "model_version": c.model_version}))
    if found:
        rows.insert_rows(Classification, found, returning=False)
    return audits
