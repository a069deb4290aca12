"""Scoring an official reply (答复质量) for relevance, completeness and timeliness (pure).

    total = 100 · (0.40·relevance + 0.35·completeness + 0.25·timeliness)     each component in 0–1

- relevance: how much of the message the reply is about — the mean of (a) the share of the
  title's character bigrams found in the reply (replies that answer the point name it) and (b)
  the cosine of the character-bigram count vectors of message and reply, scaled so that 0.5
  counts as full (a reply never repeats the whole message);
- completeness: the share of the parts a full reply has, each found by its usual wording:
  findings (经调查/经核实…), action taken or planned (已/将/责令/安排…), basis (根据/按照/规定…),
  follow-up or contact (如有/联系电话/咨询…), plus length (full at 150 characters; a bare
  "已收悉" is not an answer);
- timeliness: 1 within `due_days` calendar days (default 15, the usual limit for a written
  answer), falling linearly to 0 at 4× that; a reply dated before the message is refused.
Calendar days, not working days, so the scorer stays pure; `notes` says what is missing, including
`unaddressed:<words>` for runs of the title that the reply never mentions (what it leaves unanswered).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

WEIGHTS = {"relevance": 0.40, "completeness": 0.35, "timeliness": 0.25}
PARTS = {
    "findings": ("经调查", "经核实", "经查", "调查", "核实", "了解到", "经了解", "现场"),
    "action": ("已", "将", "责令", "安排", "要求", "督促", "处理", "整改", "协调", "落实"),
    "basis": ("根据", "按照", "依据", "规定", "条例", "办法", "政策", "文件", "法"),
    "follow_up": ("如有", "联系电话", "咨询", "电话", "联系", "欢迎", "监督", "反馈"),
}
FULL_LENGTH = 150


@dataclass(frozen=True)
class Score:
    total: float
    relevance: float
    completeness: float
    timeliness: float
    days: float | None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"total": self.total, "relevance": self.relevance, "completeness": self.completeness,
                "timeliness": self.timeliness, "days": self.days, "notes": list(self.notes)}


def _bigrams(text: str) -> Counter:
    text = "".join(ch for ch in text if not ch.isspace())
    return Counter(text[i:i + 2] for i in range(len(text) - 1))


def relevance(title: str, body: str, reply: str) -> float:
    r = _bigrams(reply)
    if not r:
        return 0.0
    t = _bigrams(title)
    coverage = sum(1 for g in t if g in r) / len(t) if t else 0.0
    m = _bigrams(f"{title}{body}")
    dot = sum(v * r[g] for g, v in m.items() if g in r)
    norm = math.sqrt(sum(v * v for v in m.values())) * math.sqrt(sum(v * v for v in r.values()))
    cosine = min(1.0, (dot / norm) / 0.5) if norm else 0.0
    return (coverage + cosine) / 2


def unaddressed(title: str, reply: str, *, limit: int = 3) -> list[str]:
    """Runs of at least two title characters not covered by any character bigram the reply shares."""
    r = _bigrams(reply)
    text = "".join(ch for ch in (title or "") if not ch.isspace())
    covered = [False] * len(text)
    for i in range(len(text) - 1):
        if text[i:i + 2] in r:
            covered[i] = covered[i + 1] = True
    runs, run = [], ""
    for ch, ok in zip(text, covered, strict=True):
        if not ok and ch.isalnum():
            run += ch
            continue
        if len(run) >= 2:
            runs.append(run)
        run = ""
    if len(run) >= 2:
        runs.append(run)
    return runs[:limit]


def completeness(reply: str) -> tuple[float, list[str]]:
    text = reply or ""
    found = {part: any(w in text for w in words) for part, words in PARTS.items()}
    length = min(1.0, len(text.strip()) / FULL_LENGTH)
    missing = [part for part, ok in found.items() if not ok]
    return (sum(found.values()) + length) / (len(PARTS) + 1), missing


def timeliness(asked_at: datetime, replied_at: datetime, *, due_days: float = 15) -> tuple[float, float]:
    days = (replied_at - asked_at).total_seconds() / 86400
    if days < 0:
        raise ValueError("the reply is dated before the message")
    if days <= due_days:
        return 1.0, days
    return max(0.0, 1 - (days - due_days) / (3 * due_days)), days


def reply_quality(message_title: str, message_body: str, reply_text: str, asked_at: datetime | None,
                  replied_at: datetime | None, *, due_days: float = 15) -> Score:
    """Score one reply; without both times, timeliness counts as 0 and a note says so."""
    notes = []
    rel = relevance(message_title or "", message_body or "", reply_text or "")
    comp, missing = completeness(reply_text or "")
    if (reply_text or "").strip():
        notes += [f"unaddressed:{words}" for words in unaddressed(message_title or "", reply_text)]
    notes += [f"missing:{part}" for part in missing]
    if len((reply_text or "").strip()) < FULL_LENGTH:
        notes.append("short")
    if asked_at is None or replied_at is None:
        tim, days = 0.0, None
        notes.append("no_times")
    else:
        tim, days = timeliness(asked_at, replied_at, due_days=due_days)
        if days > due_days:
            notes.append("late")
    total = 100 * (WEIGHTS["relevance"] * rel + WEIGHTS["completeness"] * comp + WEIGHTS["timeliness"] * tim)
    return Score(total=round(total, 1), relevance=round(rel, 3), completeness=round(comp, 3),
                 timeliness=round(tim, 3), days=round(days, 2) if days is not None else None, notes=notes)
