"""huying classifier train|eval|info — train the message classifier, measure it, show its card."""

import json
import math
import os
import time

from django.core.management.base import BaseCommand, CommandError

from huying.dispatch.classifier import (
    ClassifierError,
    ClassifierModel,
    default_model_path,
    get_model,
    metrics,
    read_messages,
    save_model,
    train,
)
from huying.dispatch.classifier.data import join_text, read_csv
from huying.dispatch.classifier.runtime import MODELS_DIR


def _extra_rows(path: str) -> list[tuple[str, str, str]]:
    rows = read_csv(path, ["title", "body", "label"])
    return [(r["title"], r["body"], r["label"]) for r in rows]


class Command(BaseCommand):
    help = "留言分类模型：训练（train）、评估（eval）、查看模型卡（info）"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        t = sub.add_parser("train", help="从数据目录训练并写出带版本号的模型与模型卡")
        t.add_argument("--data", required=True, help="含 messages.csv（及可选 titles.csv、bodies.csv）的目录")
        t.add_argument("--out", default=str(MODELS_DIR), help="输出目录或 .npz 文件路径")
        t.add_argument("--extra", help="运营人员更正记录 CSV（title,body,label），并入训练")
        t.add_argument("--folds", type=int, default=5, help="交叉验证折数")
        t.add_argument("--precision", type=float, default=0.98, help="自动派单的目标准确率")
        t.add_argument("--no-nested", action="store_true", help="跳过嵌套交叉验证（更快，但不报告成绩）")
        t.add_argument("--jobs", type=int, default=min(5, os.cpu_count() or 1), help="并行进程数")
        e = sub.add_parser("eval", help="用模型评估带标签的 CSV（id,title,body,label）")
        e.add_argument("--data", required=True, help="CSV 文件")
        e.add_argument("--model", help="模型文件（默认：随附模型）")
        i = sub.add_parser("info", help="显示模型卡")
        i.add_argument("--model", help="模型文件（默认：随附模型）")

    def handle(self, *args, action, **opts):
        try:
            getattr(self, f"_{action}")(**opts)
        except ClassifierError as exc:
            raise CommandError(str(exc), returncode=2) from exc

    def _train(self, *, data, out, extra, folds, precision, no_nested, jobs, **_):
        if folds < 2:
            raise ClassifierError("--folds 至少为 2")
        extra_rows = _extra_rows(extra) if extra else []
        started = time.monotonic()
        model = train(
            data,
            extra_rows=extra_rows,
            folds=folds,
            target_precision=precision,
            nested=not no_nested,
            jobs=jobs,
            log=lambda msg: self.stderr.write(msg),
        )
        path = save_model(model, out)
        card = model.card
        if "scores" in card["cv"]:
            for k, v in card["cv"]["scores"].items():
                self.stdout.write(f"cv_{k}: {v:.4f}")
        self.stdout.write(f"threshold: {model.threshold:.4f}")
        self.stdout.write(f"model: {path}")
        self.stdout.write(f"size_bytes: {card['size_bytes']}")
        self.stdout.write(f"seconds: {time.monotonic() - started:.0f}")

    def _eval(self, *, data, model=None, **_):
        clf = ClassifierModel.load(model) if model else get_model()
        messages = read_messages(data)
        preds = clf.predict([_doc(m) for m in messages])
        figures = metrics(
            [m.label for m in messages],
            [p.label for p in preds],
            [p.confidence for p in preds],
            clf.threshold,
        )
        for name in ("macro_f1", "accuracy", "auto_share", "auto_precision"):
            v = figures[name]
            self.stdout.write(f"{name}: {'nan' if math.isnan(v) else f'{v:.4f}'}")
        self.stdout.write(f"messages: {len(messages)}")
        self.stdout.write(f"threshold: {clf.threshold:.4f}")

    def _info(self, *, model=None, **_):
        path = model or default_model_path()
        clf = ClassifierModel.load(path)
        self.stdout.write(json.dumps({"path": str(path), **clf.card}, ensure_ascii=False, indent=2))


def _doc(m) -> str:
    return join_text(m.title, m.body)
