"""Convert a model file of the old format (FORMAT 2, `.joblib`) into the current `.npz` format.

    python -m huying.dispatch.classifier.convert OLD.joblib [NEW.npz]

The weights are copied unchanged (same predictions, same digest, so the same version name with the
new suffix); the `.json` and `.md` cards are written beside the new file. Reading a `.joblib` file
unpickles it: convert only files you trust. Needs joblib (the `train` extra:
pip install 'huying[train]').
"""

import argparse
import datetime as dt
from pathlib import Path

from .data import ClassifierError, MissingTrainingDependency
from .model import SUFFIX, ClassifierModel
from .training import write_model_files

OLD_FORMAT = 2


def convert(old: str | Path, new: str | Path | None = None) -> Path:
    """Write `new` (default: `old` with the .npz suffix) from the FORMAT 2 joblib file `old`."""
    try:  # optional (`train` extra): only old joblib models need it
        import joblib
    except ImportError as exc:
        raise MissingTrainingDependency(
            f"转换旧模型需要 joblib：pip install 'huying[train]'（{exc}）"
        ) from exc
    old = Path(old)
    new = Path(new) if new else old.with_suffix(SUFFIX)
    if not old.is_file():
        raise ClassifierError(f"模型文件不存在：{old}")
    payload = joblib.load(old)
    if not isinstance(payload, dict) or payload.get("format") != OLD_FORMAT:
        raise ClassifierError(f"不是旧格式（format {OLD_FORMAT}）的模型文件：{old}")
    card = dict(payload.get("card") or {})
    card["file"] = new.name
    card.setdefault("labels", list(payload["labels"]))
    card.setdefault("threshold", float(payload["threshold"]))
    card.setdefault("calibration_scale", float(payload["scale"]))
    card.setdefault("confidence_params", list(payload["confidence"]))
    card["converted"] = {
        "from": old.name,
        "at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "note": "same weights; container changed from joblib (pickle) to npz + meta.json",
    }
    model = ClassifierModel(
        labels=payload["labels"],
        terms=payload["terms"],
        idf=payload["idf"],
        coef=payload["coef"],
        intercept=payload["intercept"],
        scale=payload["scale"],
        confidence=payload["confidence"],
        threshold=payload["threshold"],
        card=card,
        version=new.stem,
    )
    return write_model_files(model, new)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="旧模型文件（.joblib）")
    parser.add_argument("new", nargs="?", help="新模型文件（.npz；默认与旧文件同名）")
    args = parser.parse_args(argv)
    try:
        path = convert(args.old, args.new)
    except ClassifierError as exc:
        raise SystemExit(f"错误：{exc}") from exc
    print(f"model: {path}")
    print(f"size_bytes: {path.stat().st_size}")


if __name__ == "__main__":
    main()
