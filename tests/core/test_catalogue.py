"""The English catalogue covers every literal string the Python code marks for translation,
including the lazy aliases (`_l`, `_lazy`) that Django's stock makemessages does not read."""

import ast
import gettext
from pathlib import Path

import huying

ROOT = Path(huying.__file__).parent
MARKERS = {"_", "_l", "_lazy", "gettext", "gettext_lazy"}


def _marked_strings():
    for path in ROOT.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MARKERS
                    and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                yield path.relative_to(ROOT), node.args[0].value


def test_every_marked_python_string_has_an_english_translation():
    catalogue = gettext.translation("django", localedir=ROOT / "locale", languages=["en"])
    strings = list(_marked_strings())
    assert len(strings) > 1000  # the walk found the code base
    missing = sorted({f"{where}: {text}" for where, text in strings
                      if any("\u4e00" <= ch <= "\u9fff" for ch in text) and catalogue.gettext(text) == text})
    assert not missing, f"{len(missing)} strings without English: " + "; ".join(missing[:20])


def test_no_translation_alias_that_makemessages_would_not_read():
    """`gettext_lazy as _h` hides every string marked with `_h(…)` from makemessages and from the test above."""
    odd = []
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
                odd += [f"{path.relative_to(ROOT)}: {a.name} as {a.asname}" for a in node.names
                        if a.name.startswith(("gettext", "pgettext", "ngettext")) and a.asname
                        and a.asname not in MARKERS]
    assert not odd, odd
