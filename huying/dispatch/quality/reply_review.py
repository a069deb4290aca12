"""The quality of an order's resolution text (答复质量), shown to whoever closes the order by callback.

The order's title and description are the message, its resolution the reply; timeliness runs from
acceptance (受理) to resolution (办结), with the order's own resolve deadline as the limit when it has one.
A merged caller's reply is the resolution of the order it was merged into.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from ..models import State, WorkOrder
from .reply_quality import Score, reply_quality

# Below this total the page suggests sending the order back for rework (返工).
LOW_SCORE = 60
DEFAULT_DUE_DAYS = 15
REVIEW_STATES = (State.RESOLVED, State.CLOSED, State.MERGED)


def _note_text(note: str, score: Score, due_days: float) -> str:
    kind, _sep, arg = note.partition(":")
    if kind == "unaddressed":
        return _("未回应诉求中的“{words}”").format(words=arg)
    if kind == "missing":
        return {
            "findings": _("未说明调查核实情况"),
            "action": _("未说明办理结果（已采取或将采取的措施）"),
            "basis": _("未说明办理依据（政策、法规）"),
            "follow_up": _("未留联系方式或后续反馈渠道"),
        }.get(arg, note)
    if kind == "short":
        return _("答复过短（不足 150 字）")
    if kind == "late":
        return _("办结用时 {days} 天，超过时限 {due} 天").format(days=score.days, due=round(due_days, 1))
    if kind == "no_times":
        return _("缺少受理或办结时间，及时性按 0 计")
    return note


def order_reply_review(order: WorkOrder) -> dict | None:
    """Scores and hints for the reply an order's resident will be called back about, or None if none yet."""
    source = order.merged_into if order.state == State.MERGED and order.merged_into_id else order
    text = (source.resolution or "").strip()
    if order.state not in REVIEW_STATES or not text:
        return None
    asked, replied = order.created_at, source.resolved_at or source.closed_at
    due_days = DEFAULT_DUE_DAYS
    if source.resolve_due and asked:
        due_days = max(1.0, (source.resolve_due - asked).total_seconds() / 86400)
    try:
        score = reply_quality(order.title, order.description, text, asked, replied, due_days=due_days)
    except ValueError:  # a resolution dated before the call: score without times rather than fail the page
        score = reply_quality(order.title, order.description, text, None, None)
    return {
        **score.as_dict(),
        "percent": {k: round(100 * getattr(score, k)) for k in ("relevance", "completeness", "timeliness")},
        "due_days": round(due_days, 1),
        "hints": [_note_text(n, score, due_days) for n in score.notes],
        "low": score.total < LOW_SCORE,
        "low_score": LOW_SCORE,
    }
