"""A subject change that moves a classified order into another family records a correction, in the
change's own transaction (through `order_event`, sent inside it). Connected by `DispatchConfig.ready()`."""

from ..signals import order_changed, order_event
from .services import correction_after_subject_change


def _subject_changed(sender, *, announced=None, order_id=None, action=None, **kwargs):
    if announced is not order_changed or action != "subject_changed" or order_id is None:
        return
    correction_after_subject_change(order_id)


def connect() -> None:
    order_event.connect(_subject_changed, dispatch_uid="dispatch.triage.subject_changed")
