"""The 34 province-level divisions (省级行政区) by the first two digits of a GB/T 2260 code.

A division's code names its province: 440104 (越秀区) lies in 44 广东省, 440304 (福田区) too,
110101 (东城区) in 11 北京市. The locator reads this table to tell the loaded city's own province
(accepted as an address prefix) from every other one (an address naming it is outside).
"""

PROVINCES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省",
    "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省",
    "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区", "46": "海南省",
    "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区",
    "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区", "65": "新疆维吾尔自治区",
    "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}

# The everyday short forms people write (广东, 内蒙古, 广西); the generic suffix is the rest.
_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "省", "市")


def province_short_name(name: str) -> str:
    """广东省→广东, 广西壮族自治区→广西, 香港特别行政区→香港, 北京市→北京."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def province_of(code: str) -> str | None:
    """The province-level name a division code lies in, None when its first two digits name none."""
    return PROVINCES.get(str(code or "")[:2])
