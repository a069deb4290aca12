"""Residents' text, cleaned once where it enters: one function family for every channel.

`clean_text` refuses what no store or consumer can hold (NUL, which PostgreSQL refuses and C-string
consumers cut at; lone surrogates, which UTF-8 cannot encode) with a clear 400, and quietly removes
what only hides or garbles text (other control characters, bidi overrides, zero-width characters),
so a title reads the same in a page, an export, an XML feed and the masking of phone numbers.
It then applies Unicode NFC, turns full-width digits into ASCII ones (a phone typed on a Chinese
keyboard), trims, and checks the length against the column it is stored in.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huying.core.errors import DomainError

# NUL and any UTF-16 surrogate code point: in a Python str a surrogate is always unpaired (a
# decoded pair is one astral character).
BAD_RE = re.compile("[\x00\ud800-\udfff]")
# Line breaks of every kind; kept (as \n) in multi-line text, a space in a one-line field.
_BREAKS_RE = re.compile("\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
# C0 and C1 controls and DEL, tabs and line breaks excepted (handled above and below).
_CONTROL_RE = re.compile("[\x01-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
# Invisible format characters: bidi embeddings, overrides, isolates and marks (they can reverse how a
# title reads), zero-width space, word joiner, invisible operators, BOM, soft hyphen, Mongolian vowel
# separator, interlinear annotation marks.
_FORMAT_RE = re.compile("[\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
                        "\ufeff\ufff9-\ufffb]")
# Zero-width (non-)joiners belong in emoji sequences and some scripts; beside a digit or an ASCII
# character they only split a phone number so that masking misses it.
_JOINER_NEAR_ASCII_RE = re.compile("[\u200c\u200d]+(?=[\x00-\x7f]|[０-９])|(?<=[\x00-\x7f])[\u200c\u200d]+"
                                   "|(?<=[０-９])[\u200c\u200d]+")
# Spaces that look like a space: non-breaking, fixed-width, narrow (the ideographic space U+3000 stays).
_SPACES_RE = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f]")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")

# The names people know the fields by, for the messages.
LABELS = {
    "title": gettext_lazy("标题"), "description": gettext_lazy("诉求内容"), "address": gettext_lazy("地址"),
    "reporter_name": gettext_lazy("诉求人"), "reporter_phone": gettext_lazy("联系电话"),
    "note": gettext_lazy("说明"), "reason": gettext_lazy("理由"), "override_reason": gettext_lazy("理由"),
    "result": gettext_lazy("办理结果"), "legal_basis": gettext_lazy("退单依据"), "name": gettext_lazy("名称"),
    "idempotency_key": gettext_lazy("幂等键"), "q": gettext_lazy("搜索词"), "path": gettext_lazy("网址"),
    "query": gettext_lazy("网址参数"), "body": gettext_lazy("请求内容"),
}


def field_label(field: str | None) -> str:
    if not field:
        return _("输入内容")
    return str(LABELS[field]) if field in LABELS else field


def bad_character_error(field: str | None, *, label: str | None = None) -> DomainError:
    """The 400 for text holding NUL or a lone surrogate (the middleware answers with it too)."""
    return DomainError(
        "core.text.bad_character",
        _("“%(field)s”含有无法保存的字符（空字符或无效的 Unicode 代理字符），请删除后重新提交。")
        % {"field": label or field_label(field)},
        field=field, status=400,
    )


def too_long_error(field: str | None, max_length: int, *, label: str | None = None) -> DomainError:
    return DomainError(
        "core.text.too_long",
        _("“%(field)s”不能超过 %(n)d 个字符。") % {"field": label or field_label(field), "n": max_length},
        field=field, status=400, max_length=max_length,
    )


def has_bad_character(value: str) -> bool:
    return BAD_RE.search(value) is not None


def check_text(value, *, field: str | None, label: str | None = None) -> str:
    """`value` as text, unchanged, or the 400 if it holds NUL or a lone surrogate (keys, codes)."""
    value = "" if value is None else str(value)
    if BAD_RE.search(value):
        raise bad_character_error(field, label=label)
    return value


def _strip_invisible(value: str) -> str:
    value = _CONTROL_RE.sub("", value)
    value = _FORMAT_RE.sub("", value)
    return _JOINER_NEAR_ASCII_RE.sub("", value)


def clean_text(value, *, field: str | None, max_length: int | None = None, multiline: bool = False,
               label: str | None = None) -> str:
    """Residents' text as it is stored: see the module docstring. None is "".

    Refuses NUL and lone surrogates (`core.text.bad_character`) and text longer than `max_length`
    after cleaning (`core.text.too_long`), both 400 naming `field`. In `multiline` text line breaks
    become \\n and tabs stay; in a one-line field both become a space.
    """
    value = check_text(value, field=field, label=label)
    if value.isascii() and value.isprintable() and value == value.strip():
        cleaned = value  # the common case of short codes, numbers and plain names: nothing to do
    else:
        if multiline:
            value = _BREAKS_RE.sub("\n", value)
        else:
            value = _BREAKS_RE.sub(" ", value).replace("\t", " ")
        value = _strip_invisible(value)
        value = _SPACES_RE.sub(" ", value)
        cleaned = unicodedata.normalize("NFC", value).translate(_FULLWIDTH_DIGITS).strip()
        if not cleaned.isascii():
            # NFC can compose across a character removed above; one more pass is then a fixed point.
            cleaned = unicodedata.normalize("NFC", _strip_invisible(cleaned)).strip()
    if max_length is not None and len(cleaned) > max_length:
        raise too_long_error(field, max_length, label=label)
    return cleaned


def clean_optional(value, *, field: str | None, max_length: int | None = None, multiline: bool = False,
                   label: str | None = None) -> str:
    """`clean_text` for an optional input (the same; named for readers of the call sites)."""
    return clean_text(value, field=field, max_length=max_length, multiline=multiline, label=label)


def find_bad_in_json(value, path: str = "") -> str | None:
    """The path (`a.b[2]`) of the first string, key or value, in a nested JSON value that holds NUL
    or a lone surrogate; None when there is none."""
    if isinstance(value, str):
        return (path or "body") if BAD_RE.search(value) else None
    if isinstance(value, dict):
        for k, v in value.items():
            here = f"{path}.{k}" if path else str(k)
            if isinstance(k, str) and BAD_RE.search(k):
                return path or "body"
            found = find_bad_in_json(v, here)
            if found:
                return found
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            found = find_bad_in_json(v, f"{path}[{i}]")
            if found:
                return found
    return None


def check_json(value, *, field: str | None = None):
    """`value` unchanged, or the 400 naming the first string in it with NUL or a lone surrogate."""
    where = find_bad_in_json(value)
    if where is not None:
        raise bad_character_error(field or where, label=field_label(field) if field else where)
    return value


def clean_json(value, *, field: str | None = None, multiline: bool = True):
    """A copy of a nested JSON value with every string (keys too) through `clean_text`; refuses NUL
    and lone surrogates anywhere in it."""
    check_json(value, field=field)

    def walk(v):
        if isinstance(v, str):
            return clean_text(v, field=field, multiline=multiline)
        if isinstance(v, dict):
            return {clean_text(k, field=field) if isinstance(k, str) else k: walk(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [walk(x) for x in v]
        return v

    return walk(value)
