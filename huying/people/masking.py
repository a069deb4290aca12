"""Masking of personal data (脱敏): the one function family used by pages, API and exports.

What stays visible, and why:
- phone: first 3 and last 4 digits of a mobile number (138****5678) — the carrier prefix and the
  tail are what people use to recognise a number; shorter numbers keep less (see `mask_phone`).
- identity number: first 3 and last 4 characters (440***********123X). The first 6 digits would
  give the district of registration and, with the tail, narrow a person down; 3 give only the
  province and city block, which is enough to tell two records apart.
- name: the first character only (张三丰 → 张**, 张三 → 张*): the usual surname-only form in
  Chinese public notices. Latin names keep each word's first letter (John Smith → J*** S****).
- address: everything before the first digit — district, street, road or estate — then a fixed
  "****", so neither the house number nor the length of the detail shows.
Masks have the same length as the value except for addresses, so columns stay aligned.
"""

from __future__ import annotations

import re

MASK = "*"
_ADDRESS_TAIL = "****"
_DIGIT = re.compile(r"[0-9０-９]")


def _clean(value) -> str:
    return "" if value is None else str(value).strip()


def _keep(text: str, head: int, tail: int) -> str:
    masked = len(text) - head - tail
    return text[:head] + MASK * masked + (text[len(text) - tail:] if tail else "")


def mask_phone(value) -> str:
    """13812345678 → 138****5678; +86 and separators are kept in place, only digits are hidden."""
    text = _clean(value)
    if not text:
        return ""
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    n = len(digits)
    if n >= 11:
        # the last 11 digits are the mobile number; a country code in front stays visible
        start = n - 11
        hidden = set(digits[start + 3:start + 7])
    elif n >= 7:
        hidden = set(digits[3:n - 4])
    elif n >= 3:
        hidden = set(digits[1:n - 1])
    else:
        hidden = set(digits)
    if not hidden:
        return MASK * len(text)
    return "".join(MASK if i in hidden else ch for i, ch in enumerate(text))


def mask_id_number(value) -> str:
    """440104199001011234 → 440***********1234 (first 3, last 4); short values keep less."""
    text = _clean(value)
    n = len(text)
    if n == 0:
        return ""
    if n >= 10:
        return _keep(text, 3, 4)
    if n >= 4:
        return _keep(text, 1, 1)
    return MASK * n


def mask_name(value) -> str:
    """张三丰 → 张**; 张三 → 张*; a single character is hidden whole; John Smith → J*** S****."""
    text = _clean(value)
    if not text:
        return ""
    if len(text) == 1:
        return MASK
    if " " in text:
        return " ".join(word[:1] + MASK * (len(word) - 1) for word in text.split(" "))
    return text[0] + MASK * (len(text) - 1)


def mask_address(value) -> str:
    """广州市越秀区文德路12号3栋501 → 广州市越秀区文德路****; no number: the first half stays."""
    text = _clean(value)
    if not text:
        return ""
    match = _DIGIT.search(text)
    # Without a house number the detail is a building or estate name: hide the second half.
    keep = match.start() if match else len(text) // 2
    return text[:keep] + _ADDRESS_TAIL


MASKERS = {
    "phone": mask_phone,
    "id_number": mask_id_number,
    "name": mask_name,
    "address": mask_address,
}


def personal(value, kind: str, *, viewer, allowed: bool) -> str:
    """`value` as `viewer` may see it: unmasked only when `allowed` (the caller's scope decision).

    `kind` is one of "phone", "id_number", "name", "address". `viewer` is taken so every page, API
    and export passes through one signature; the decision itself is `allowed`.
    """
    try:
        masker = MASKERS[kind]
    except KeyError:
        raise ValueError(f"unknown kind of personal data {kind!r}; one of {sorted(MASKERS)}") from None
    if allowed:
        return _clean(value)
    return masker(value)
