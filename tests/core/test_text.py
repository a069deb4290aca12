"""The one cleaning of residents' text (huying/core/text.py): examples and properties."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huying.core.errors import DomainError
from huying.core.text import check_json, clean_json, clean_text

# Anything a str can hold, surrogates and controls included, weighted towards the troublemakers.
TROUBLE = "\x00\x01\x07\x1b\x7f\x85\x9f\r\n\t\x0b\x0c\u2028\u2029\u200b\u200c\u200d\u202e\u2066\ufeff\u00a0" \
          "\u3000０１９\u0301\u212a\ud800\udfffe "
ANY_TEXT = st.text(alphabet=st.one_of(st.characters(codec=None, exclude_categories=()), st.sampled_from(TROUBLE)), max_size=60)
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u200b\u202a-\u202e\u2066-\u2069\ufeff]")


def _clean_or_none(value, **kw):
    try:
        return clean_text(value, field="title", **kw)
    except DomainError as exc:
        assert exc.code in ("core.text.bad_character", "core.text.too_long")
        assert exc.status == 400 and exc.field == "title"
        return None


@settings(max_examples=400, deadline=None)
@given(ANY_TEXT, st.booleans())
def test_clean_text_is_idempotent_and_leaves_nothing_bad(value, multiline):
    out = _clean_or_none(value, multiline=multiline)
    if out is None:
        assert "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value)
        return
    assert not FORBIDDEN.search(out)
    assert out == out.strip()
    assert not re.search("[０-９]", out)
    if not multiline:
        assert "\n" not in out and "\t" not in out
    assert clean_text(out, field="title", multiline=multiline) == out
    out.encode("utf-8")  # always encodable


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT, st.integers(min_value=0, max_value=30))
def test_clean_text_is_never_longer_than_the_limit(value, limit):
    out = _clean_or_none(value, max_length=limit)
    if out is not None:
        assert len(out) <= limit


@pytest.mark.parametrize("bad", ["标题\x00", "\ud800", "a\udc00b"])
def test_nul_and_lone_surrogates_are_refused_naming_the_field(bad):
    with pytest.raises(DomainError) as exc:
        clean_text(bad, field="title")
    assert exc.value.code == "core.text.bad_character"
    assert exc.value.field == "title" and exc.value.status == 400
    assert "标题" in exc.value.message


def test_too_long_names_the_limit():
    assert clean_text("  " + "x" * 60 + "\u200b ", field="reporter_name", max_length=60) == "x" * 60
    with pytest.raises(DomainError) as exc:
        clean_text("x" * 61, field="reporter_name", max_length=60)
    assert exc.value.code == "core.text.too_long" and exc.value.field == "reporter_name"
    assert "60" in exc.value.message and "诉求人" in exc.value.message


@pytest.mark.parametrize(("raw", "multiline", "want"), [
    ("  路灯\x07不亮\x1b[31m  ", False, "路灯不亮[31m"),
    ("第一行\r\n第二行\r第三行\u2028第四\t行", True, "第一行\n第二行\n第三行\n第四\t行"),
    ("第一行\r\n第二行\t完", False, "第一行 第二行 完"),
    ("电话１３８\u200b1234\u200d5678", False, "电话13812345678"),
    ("\u202e\u2066反转\u2069\ufeff", False, "反转"),
    ("Cafe\u0301\u00a0东路", False, "Café 东路"),
    ("一家人👨\u200d👩\u200d👧", False, "一家人👨\u200d👩\u200d👧"),
    (None, False, ""),
])
def test_cleaning_examples(raw, multiline, want):
    assert clean_text(raw, field="description", multiline=multiline) == want


def test_json_helpers_name_the_path_of_the_bad_string():
    body = {"title": "ok", "items": [{"address": "路\x00"}]}
    with pytest.raises(DomainError) as exc:
        check_json(body)
    assert exc.value.field == "items[0].address"
    assert check_json({"a": ["b", 1, None]}) == {"a": ["b", 1, None]}
    assert clean_json({"t\u200b": [" x\x07 ", 2]}) == {"t": ["x", 2]}
    with pytest.raises(DomainError):
        clean_json({"k": "\ud800"})
