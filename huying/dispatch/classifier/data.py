"""Reading labelled citizen messages in the data folder's CSV format, and the honest training side."""

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

# The seven first-level labels of the citizen-messages data: the department families we dispatch to.
LABELS = ("城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游", "卫生计生")

MESSAGES_FILE = "messages.csv"
TITLES_FILE = "titles.csv"
BODIES_FILE = "bodies.csv"

_SPACE = re.compile(r"\s+")


class ClassifierError(ValueError):
    """Bad input to the classifier (missing file or column, empty text, unusable data)."""


class MissingTrainingDependency(ClassifierError, ImportError):
    """Training needs scikit-learn, which only the `train` extra installs (pip install 'huying[train]')."""


@dataclass(frozen=True)
class Message:
    id: str
    title: str
    body: str
    label: str


# A training row: (title, body, label); either text may be empty (titles.csv / bodies.csv rows).
Row = tuple[str, str, str]


def squash(text: str) -> str:
    """Whitespace-free form used to recognise the same title or body in another file."""
    return _SPACE.sub("", text or "")


def join_text(title: str, body: str) -> str:
    """The one document the features are computed on: title, a full stop, then the body."""
    title = (title or "").strip()
    body = (body or "").strip()
    if title and body:
        return f"{title}。{body}"
    return title or body


def read_csv(path: str | Path, required: Sequence[str]) -> list[dict]:
    """Rows of a UTF-8 CSV as dicts; refuses a missing file or missing columns."""
    path = Path(path)
    if not path.is_file():
        raise ClassifierError(f"文件不存在：{path}")
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            columns = reader.fieldnames or []
            missing = [c for c in required if c not in columns]
            if missing:
                raise ClassifierError(
                    f"{path.name} 缺少列：{', '.join(missing)}（需要 {', '.join(required)}）"
                )
            rows = [{k: (v or "") for k, v in row.items() if k is not None} for row in reader]
    except UnicodeDecodeError as exc:
        raise ClassifierError(f"{path.name} 不是 UTF-8 编码：{exc}") from exc
    except csv.Error as exc:
        raise ClassifierError(f"{path.name} 不是有效的 CSV：{exc}") from exc
    return rows


def read_messages(path: str | Path, *, need_label: bool = True) -> list[Message]:
    """Whole messages (id, title, body[, label]); a row with neither title nor body is refused."""
    required = ["id", "title", "body"] + (["label"] if need_label else [])
    out = []
    for i, row in enumerate(read_csv(path, required), start=2):
        title, body = row["title"].strip(), row["body"].strip()
        if not (title or body):
            raise ClassifierError(f"{Path(path).name} 第 {i} 行：标题和正文都为空")
        label = row.get("label", "").strip()
        if need_label and not label:
            raise ClassifierError(f"{Path(path).name} 第 {i} 行：缺少类别")
        out.append(Message(row["id"].strip(), title, body, label))
    if not out:
        raise ClassifierError(f"{Path(path).name} 没有数据行")
    return out


def read_pairs(path: str | Path, column: str) -> list[tuple[str, str]]:
    """(text, label) rows of titles.csv or bodies.csv, skipping blank texts."""
    rows = read_csv(path, [column, "label"])
    return [(r[column].strip(), r["label"].strip()) for r in rows if r[column].strip() and r["label"].strip()]


@dataclass
class Dataset:
    """Everything `train` learns from, with where it came from (for the model card)."""

    messages: list[Message]
    titles: list[tuple[str, str]]
    bodies: list[tuple[str, str]]
    files: dict[str, int]


def read_data_dir(directory: str | Path) -> Dataset:
    """messages.csv (required), titles.csv and bodies.csv (optional) from one folder."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ClassifierError(f"数据目录不存在：{directory}")
    messages = read_messages(directory / MESSAGES_FILE)
    files = {MESSAGES_FILE: len(messages)}
    titles: list[tuple[str, str]] = []
    bodies: list[tuple[str, str]] = []
    if (directory / TITLES_FILE).is_file():
        titles = read_pairs(directory / TITLES_FILE, "title")
        files[TITLES_FILE] = len(titles)
    if (directory / BODIES_FILE).is_file():
        bodies = read_pairs(directory / BODIES_FILE, "body")
        files[BODIES_FILE] = len(bodies)
    return Dataset(messages, titles, bodies, files)


def training_rows(
    train: Iterable[Message],
    *,
    titles: Iterable[tuple[str, str]] = (),
    bodies: Iterable[tuple[str, str]] = (),
    extra_rows: Iterable[Row] = (),
    held_out: Iterable[Message] = (),
) -> list[Row]:
    """The training side: whole messages, then titles and bodies that are not forms of a held-out message.

    The same message appears in several files (its title in titles.csv, its body in bodies.csv), so
    measuring honestly means dropping every title and body equal to a held-out one (after squashing
    whitespace) — otherwise the model is scored on text it was trained on.
    """
    held_out = list(held_out)
    held_titles = {squash(m.title) for m in held_out if m.title}
    held_bodies = {squash(m.body) for m in held_out if m.body}

    def unseen(title: str, body: str) -> bool:
        return not (title and squash(title) in held_titles) and not (body and squash(body) in held_bodies)

    rows: list[Row] = [(m.title, m.body, m.label) for m in train]
    rows += [(t, "", label) for t, label in titles if unseen(t, "")]
    rows += [("", b, label) for b, label in bodies if unseen("", b)]
    for row in extra_rows:
        if len(row) != 3:
            raise ClassifierError(f"更正记录应为 (标题, 正文, 类别)：{row!r}")
        title, body, label = ((x or "").strip() for x in row)
        if not (title or body) or not label:
            raise ClassifierError(f"更正记录缺少文本或类别：{row!r}")
        if unseen(title, body):
            rows.append((title, body, label))
    return rows
