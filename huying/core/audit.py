"""The append-only audit trail. Services call `audit_log` inside their own transaction."""

from django.db import models

from .models import AuditEntry


def _label(obj) -> str:
    return str(obj)[:255]


def audit_log(
    target: models.Model,
    action: str,
    *,
    actor=None,
    old: dict | None = None,
    new: dict | None = None,
    data: dict | None = None,
    reason: str = "",
) -> AuditEntry:
    """Record one state change of `target`; `action` is a stable dotted code like `territory.grid.merged`."""
    row = audit_row(target, action, actor=actor, old=old, new=new, data=data, reason=reason)
    row.pop("actor_id")
    return AuditEntry.objects.create(actor=actor if getattr(actor, "pk", None) else None, **row)


def audit_row(
    target: models.Model,
    action: str,
    *,
    actor=None,
    old: dict | None = None,
    new: dict | None = None,
    data: dict | None = None,
    reason: str = "",
) -> dict:
    """The field values (by attname) of the row `audit_log` writes, for services that insert many rows at once."""
    if not action or "." not in action:
        raise ValueError("audit action codes are dotted strings, e.g. 'dispatch.order.accepted'")
    return dict(
        actor_id=actor.pk if getattr(actor, "pk", None) else None,
        actor_label=(actor.get_username() if getattr(actor, "pk", None) else (str(actor) if actor else "system"))[:150],
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=_label(target),
        old=old,
        new=new,
        data=data or {},
        reason=reason or "",
    )


def audit_trail(target: models.Model):
    """The audit rows of one object, oldest first.

    A model that moved to another app keeps its older rows under its former label: it lists those
    labels in `audit_former_labels` (e.g. hot.Alert: ("dispatch.alert",)); the log itself is never rewritten.
    """
    labels = [target._meta.label_lower, *getattr(target, "audit_former_labels", ())]
    return AuditEntry.objects.filter(target_type__in=labels, target_id=str(target.pk)).order_by("id")
