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
- free text (titles, descriptions): every phone and identity number in it, in any way it is
  written, down to its first three digits (`mask_text`; the notes above it say why not the last four).
Masks have the same length as the value except for addresses, so columns stay aligned.
"""

from __future__ import annotations

import re
import unicodedata

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


# --- free text -----------------------------------------------------------------------------------
# Residents type their phone and identity numbers into titles and descriptions in every form:
# 138-1234-5678, 138.1234.5678, 138/1234/5678, with (non-breaking) spaces, full-width digits,
# +86 / 0086 in front, 020-8888 6666, 44010419900101123X, and read aloud as 一三八一二三四五六七八.
# `mask_text` finds any run of 7 or more digits (of any script, or Chinese numerals) joined by at
# most three separator characters, and hides it. Only the first three digits of a number of ten or
# more stay (the carrier prefix or area code, the province block of an identity number): unlike
# `mask_phone`, the last four never show, because on the tracking page they are what proves the
# reporter (dispatch.selectors.work_order_track). Shorter numbers are hidden whole.
# Left alone, as not personal: dates (2024-03-05, 2024.3.5, 20240305), amounts (1000000元, ¥1234567,
# 1234567.50) and numbers written with thousands commas (2,000,000).

# Chinese numerals as read out on the phone: 〇/○/零 for 0, 幺 for 1, 两 for 2, and the financial forms.
_CN_DIGITS = {
    **dict.fromkeys("〇○零洞", "0"), **dict.fromkeys("一幺壹", "1"), **dict.fromkeys("二两贰貳", "2"),
    **dict.fromkeys("三叁參", "3"), **dict.fromkeys("四肆", "4"), **dict.fromkeys("五伍", "5"),
    **dict.fromkeys("六陆陸", "6"), **dict.fromkeys("七柒拐", "7"), **dict.fromkeys("八捌", "8"),
    **dict.fromkeys("九玖勾", "9"),
}
_SEPARATORS = frozenset("-./\\_()（）·・．／＼－＿\t")
_MAX_GAP = 3  # separator characters allowed between two digits of one number (" - ")
_MIN_DIGITS = 7  # the shortest local landline number
_ID_CHECK = frozenset("XxＸｘ")
_AMOUNT_AFTER = frozenset("元块圆万亿%％")
_AMOUNT_BEFORE = frozenset("¥￥$＄")
_DATE = re.compile(
    r"(?<!\d)(?:19|20)\d{2}\s?[-./／．－]\s?(\d{1,2})\s?[-./／．－]\s?(\d{1,2})(?!\d)")


def _digit(ch: str) -> str | None:
    if ch in _CN_DIGITS:
        return _CN_DIGITS[ch]
    if ch.isdecimal():
        return str(unicodedata.decimal(ch))
    return None


def _is_separator(ch: str) -> bool:
    # Zs: every kind of space (non-breaking, ideographic, thin); Pd: every dash; Cf: zero-width marks.
    return ch in _SEPARATORS or unicodedata.category(ch) in ("Zs", "Pd", "Cf")


def _touches_digits(text: str, start: int, end: int) -> tuple[bool, bool]:
    """Whether a span is joined through separators to a digit before it, and after it."""
    i = start - 1
    while i >= 0 and start - i <= _MAX_GAP and _is_separator(text[i]):
        i -= 1
    j = end
    while j < len(text) and j - end < _MAX_GAP and _is_separator(text[j]):
        j += 1
    before = i >= 0 and _digit(text[i]) is not None
    after = j < len(text) and _digit(text[j]) is not None
    return before, after


def _dates(text: str) -> set[int]:
    """Positions of written dates; one embedded in a longer number (an identity number) is no date."""
    protected: set[int] = set()
    for m in _DATE.finditer(text):
        month, day = int(m.group(1)), int(m.group(2))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            continue
        before, after = _touches_digits(text, m.start(), m.end())
        if before and after:
            continue
        protected.update(range(m.start(), m.end()))
    return protected


def _is_compact_date(digits: str) -> bool:
    if len(digits) != 8 or digits[:2] not in ("19", "20"):
        return False
    month, day = int(digits[4:6]), int(digits[6:8])
    return 1 <= month <= 12 and 1 <= day <= 31


def _neighbour(text: str, i: int, step: int) -> str:
    while 0 <= i < len(text) and unicodedata.category(text[i]) == "Zs":
        i += step
    return text[i] if 0 <= i < len(text) else ""


def _is_amount(text: str, start: int, end: int, positions: list[int]) -> bool:
    if _neighbour(text, end, 1) in _AMOUNT_AFTER or _neighbour(text, start - 1, -1) in _AMOUNT_BEFORE:
        return True
    # 1234567.50: one decimal point with one or two digits after it, and no other separator
    gaps = [(a, b) for a, b in zip(positions, positions[1:], strict=False) if b - a > 1]
    if len(gaps) == 1:
        a, b = gaps[0]
        tail = sum(1 for p in positions if p > a)
        return b - a == 2 and text[a + 1] in ".．" and tail <= 2
    return False


def _visible(text: str, start: int, digits: str) -> int:
    """How many leading digits of a number stay visible: a country code, then three more."""
    offset = 0
    plus = _neighbour(text, start - 1, -1) in ("+", "＋")
    if digits.startswith("0086") and len(digits) - 4 >= _MIN_DIGITS:
        offset = 4
    elif digits.startswith("86") and (plus or (len(digits) == 13 and digits[2] == "1")):
        offset = 2
    return offset + (3 if len(digits) - offset >= 10 else 0)


def mask_text(text) -> str:
    """Free text with every phone and identity number in it hidden (see the notes above)."""
    text = "" if text is None else str(text)
    if sum(1 for ch in text if _digit(ch) is not None) < _MIN_DIGITS:
        return text
    protected = _dates(text)
    out = list(text)
    n = len(text)
    i = 0
    while i < n:
        if i in protected or _digit(text[i]) is None:
            i += 1
            continue
        positions = [i]
        j = i + 1
        while j < n:
            if j not in protected and _digit(text[j]) is not None:
                positions.append(j)
                j += 1
                continue
            k = j
            while k < n and k - j < _MAX_GAP and _is_separator(text[k]):
                k += 1
            if k > j and k < n and k not in protected and _digit(text[k]) is not None:
                j = k
                continue
            break
        end = positions[-1] + 1
        digits = "".join(_digit(text[p]) for p in positions)
        if len(digits) == 17:  # an identity number whose check character is X
            k = end
            while k < n and k - end < _MAX_GAP and _is_separator(text[k]):
                k += 1
            if k < n and text[k] in _ID_CHECK:
                positions.append(k)
                end = k + 1
        if (len(positions) >= _MIN_DIGITS and not _is_amount(text, i, end, positions)
                and not (end - i == 8 and _is_compact_date(digits))):
            for p in positions[_visible(text, i, digits):]:
                out[p] = MASK
        i = end
    return "".join(out)
