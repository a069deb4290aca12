import pytest

from huying.people.masking import mask_address, mask_id_number, mask_name, mask_phone, personal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812345678", "138****5678"),
        (" 13812345678 ", "138****5678"),
        ("+86 13812345678", "+86 138****5678"),
        ("020-83123456", "020-****3456"),  # a landline: 11 digits with the area code
        ("83123456", "831*3456"),
        ("12345", "1***5"),
        ("12", "**"),
        ("", ""),
        (None, ""),
        ("n/a", "***"),  # no digits: nothing is shown
    ],
)
def test_mask_phone(value, expected):
    assert mask_phone(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("440104199001011234", "440***********1234"),
        ("44010419900101123X", "440***********123X"),
        ("440104900101123", "440********1123"),  # an old 15-digit number
        ("E12345678", "E*******8"),  # a passport
        ("ABC", "***"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id_number(value, expected):
    assert mask_id_number(value) == expected
    assert len(mask_id_number(value)) == len((value or "").strip())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("张三丰", "张**"),
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("张", "*"),
        ("John Smith", "J*** S****"),
        ("Li", "L*"),
        ("阿卜杜·热合曼", "阿******"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_name(value, expected):
    assert mask_name(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("广州市越秀区文德路12号3栋501房", "广州市越秀区文德路****"),
        ("越秀区北京街流水井社区２８号", "越秀区北京街流水井社区****"),  # full-width digits
        ("12 Wende Road", "****"),
        ("越秀区某花园", "越秀区****"),  # no number: the first half
        ("路", "****"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_address(value, expected):
    assert mask_address(value) == expected


def test_mask_address_never_shows_the_whole_value():
    for value in ("广州市越秀区北京街", "ab", "流水井社区居民委员会"):
        assert mask_address(value) != value and value not in mask_address(value)


def test_personal_masks_unless_allowed():
    assert personal("13812345678", "phone", viewer=None, allowed=False) == "138****5678"
    assert personal("13812345678", "phone", viewer=None, allowed=True) == "13812345678"
    assert personal("张三丰", "name", viewer=None, allowed=False) == "张**"
    assert personal("440104199001011234", "id_number", viewer=None, allowed=False) == "440***********1234"
    assert personal("文德路12号", "address", viewer=None, allowed=False) == "文德路****"
    assert personal(None, "phone", viewer=None, allowed=True) == ""
    with pytest.raises(ValueError):
        personal("x", "email", viewer=None, allowed=False)
