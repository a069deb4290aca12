"""huying classify "TEXT" — the department family of one message, its confidence and the decision."""

import json

from django.core.management.base import BaseCommand, CommandError

from huying.dispatch.classifier import ClassifierError, classify


class Command(BaseCommand):
    help = "对一条留言分类：类别、置信度、决定（auto 自动派单 / triage 人工分拣）"

    def add_arguments(self, parser):
        parser.add_argument("text", help="留言标题（或整条留言）")
        parser.add_argument("--body", default="", help="留言正文（可选）")
        parser.add_argument("--json", action="store_true", help="输出 JSON（含各类别概率）")

    def handle(self, *args, text, body, json: bool = False, **opts):
        try:
            p = classify(text, body)
        except ClassifierError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        decision = "auto" if p.auto else "triage"
        if json:
            self.stdout.write(_dumps(p, decision))
            return
        self.stdout.write(f"label: {p.label}")
        self.stdout.write(f"confidence: {p.confidence:.4f}")
        self.stdout.write(f"decision: {decision}")


def _dumps(p, decision: str) -> str:
    payload = {"label": p.label, "confidence": p.confidence, "decision": decision, "scores": p.scores}
    return json.dumps(payload, ensure_ascii=False)
