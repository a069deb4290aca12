import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huying.people.masking import mask_address, mask_id_number, mask_name, mask_phone, mask_text, personal


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


# --- numbers inside free text (mask_text) ---------------------------------------------------------

NBSP = "\u00a0"

# Every way residents have been seen to type a phone or identity number into a title.
FORMATS = [
    ("plain", "电话13812345678请回电", "电话138********请回电"),
    ("dashes", "电话138-1234-5678", "电话138-****-****"),
    ("dots", "电话138.1234.5678", "电话138.****.****"),
    ("slashes", "电话138/1234/5678", "电话138/****/****"),
    ("spaces", "电话 138 1234 5678 谢谢", "电话 138 **** **** 谢谢"),
    ("non-breaking spaces", f"电话138{NBSP}1234{NBSP}5678", f"电话138{NBSP}****{NBSP}****"),
    ("ideographic and thin spaces", "138\u30001234\u20095678", "138\u3000****\u2009****"),
    ("zero-width marks", "138\u200b1234\u200b5678", "138\u200b****\u200b****"),
    ("full-width digits", "电话１３８１２３４５６７８", "电话１３８********"),
    ("full-width dashes", "１３８－１２３４－５６７８", "１３８－****－****"),
    ("+86", "+86 138 1234 5678", "+86 138 **** ****"),
    ("+86 joined", "+8613812345678", "+86138********"),
    ("0086", "008613812345678", "0086138********"),
    ("(+86)", "(+86)13812345678", "(+86)138********"),
    ("landline", "座机020-8888 6666", "座机020-**** ****"),
    ("landline in brackets", "（020）88886666", "（020）********"),
    ("local landline", "打83123456找我", "打********找我"),
    ("identity number", "身份证44010419900101123X", "身份证440***************"),
    ("identity number, small x", "身份证44010419900101123x", "身份证440***************"),
    ("identity number spaced", "440104 19900101 1234", "440*** ******** ****"),
    ("identity number with its birthday dashed", "440104-1990-01-01-1234", "440***-****-**-**-****"),
    ("old identity number", "老身份证440104900101123", "老身份证440************"),
    ("chinese numerals", "电话一三八一二三四五六七八", "电话一三八********"),
    ("chinese numerals with 〇 and 幺", "幺三八〇〇〇〇五六七八", "幺三八********"),
    ("chinese numerals with 零", "一三八零零零零五六七八", "一三八********"),
    ("chinese numerals spaced", "一三八 一二三四 五六七八", "一三八 **** ****"),
    ("mixed digits and numerals", "138一二三四5678", "138********"),
]


@pytest.mark.parametrize(("name", "text", "expected"), FORMATS, ids=[f[0] for f in FORMATS])
def test_mask_text_hides_numbers_in_every_format(name, text, expected):
    assert mask_text(text) == expected
    assert len(mask_text(text)) == len(text)


@pytest.mark.parametrize("text", [
    "2024年3月5日下午，路灯不亮", "2024-03-05 10:30 到现场", "2024.3.5-2024.3.8 施工", "2024/03/05 至 2024/03/08",
    "20240305 起", "赔偿100元", "共1000000元", "￥1234567", "造价 1234567.50 元", "金额2,000,000",
    "3号楼501房", "第12期", "二〇二四年三月五日", "一五一十地说", "时间 10:30-11:45", "粤A·12345",
    "", "无数字",
])
def test_mask_text_leaves_dates_and_amounts_alone(text):
    assert mask_text(text) == text


def test_mask_text_keeps_dates_next_to_a_number_apart():
    assert mask_text("13812345678 2024-03-05") == "138******** 2024-03-05"
    assert mask_text("2024-03-05 13812345678") == "2024-03-05 138********"
    assert mask_text(None) == ""


SEPARATORS = ["", "-", ".", "/", " ", NBSP, "\u3000", " - ", "－", "．", "／", "\u2009"]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
CN = str.maketrans("0123456789", "〇一二三四五六七八九")
TEXT = st.text(alphabet=st.sampled_from("路灯不亮小区门口请尽快处理谢谢，。"), max_size=8)


def _digits(text: str) -> str:
    cn = {"〇": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
    return "".join(cn.get(ch) or (str(unicodedata.decimal(ch)) if ch.isdecimal() else "") for ch in text)


@settings(max_examples=300, deadline=None)
@given(before=TEXT, after=TEXT, prefix=st.sampled_from(["", "1", "3", "5", "7", "8", "9"]),
       rest=st.text(alphabet="0123456789", min_size=9, max_size=9), sep=st.sampled_from(SEPARATORS),
       script=st.sampled_from(["ascii", "full", "cn"]), country=st.sampled_from(["", "+86 ", "0086", "+86-"]))
def test_mask_text_never_shows_a_mobile_number_s_last_eight_digits(before, after, prefix, rest, sep, script,
                                                                   country):
    number = ("1" + (prefix or "3") + rest)[:11]
    written = sep.join([number[:3], number[3:7], number[7:]])
    written = {"ascii": written, "full": written.translate(FULL_WIDTH), "cn": written.translate(CN)}[script]
    text = f"{before}{country}{written}{after}"
    masked = mask_text(text)
    assert len(masked) == len(text)
    # What stays readable: the country code and the first three digits, nothing else.
    assert _digits(masked) == _digits(country) + number[:3]


@settings(max_examples=200, deadline=None)
@given(body=st.text(alphabet="0123456789", min_size=17, max_size=17), check=st.sampled_from("0123456789Xx"),
       sep=st.sampled_from(["", " "]), before=TEXT, after=TEXT)
def test_mask_text_never_shows_an_identity_number_past_its_province(body, check, sep, before, after):
    number = body + check
    written = sep.join([number[:6], number[6:14], number[14:]])
    masked = mask_text(f"{before}身份证{written}{after}")
    assert _digits(masked) == number[:3] and masked.count("*") == 15
