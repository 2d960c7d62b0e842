"""MOFCOM e-keys are handed out by the issuing authority (发证机构) of the company's region:
the commerce department of the province, or of one of the five cities with provincial
powers, or the XPCC's. 37 in all (the MOFCOM guide). The region is read off the credit
code: its characters 3–8 are the division code of the registering authority (GB 32100)."""

from __future__ import annotations

PROVINCES = {
    "11": "北京市商务局",
    "12": "天津市商务局",
    "13": "河北省商务厅",
    "14": "山西省商务厅",
    "15": "内蒙古自治区商务厅",
    "21": "辽宁省商务厅",
    "22": "吉林省商务厅",
    "23": "黑龙江省商务厅",
    "31": "上海市商务委员会",
    "32": "江苏省商务厅",
    "33": "浙江省商务厅",
    "34": "安徽省商务厅",
    "35": "福建省商务厅",
    "36": "江西省商务厅",
    "37": "山东省商务厅",
    "41": "河南省商务厅",
    "42": "湖北省商务厅",
    "43": "湖南省商务厅",
    "44": "广东省商务厅",
    "45": "广西壮族自治区商务厅",
    "46": "海南省商务厅",
    "50": "重庆市商务委员会",
    "51": "四川省商务厅",
    "52": "贵州省商务厅",
    "53": "云南省商务厅",
    "54": "西藏自治区商务厅",
    "61": "陕西省商务厅",
    "62": "甘肃省商务厅",
    "63": "青海省商务厅",
    "64": "宁夏回族自治区商务厅",
    "65": "新疆维吾尔自治区商务厅",
}
CITIES = {
    "2102": "大连市商务局",
    "3302": "宁波市商务局",
    "3502": "厦门市商务局",
    "3702": "青岛市商务局",
    "4403": "深圳市商务局",
    "6590": "新疆生产建设兵团商务局",
}
UNKNOWN = "待定（无法从信用代码判断地区，请人工指定）"


def issuing_authority(uscc: str) -> str:
    """The authority that hands out a MOFCOM e-key of the company with this credit code."""
    code = uscc.strip().upper()
    if len(code) != 18:
        return UNKNOWN
    division = code[2:8]
    return CITIES.get(division[:4]) or PROVINCES.get(division[:2]) or UNKNOWN


ALL = frozenset({*PROVINCES.values(), *CITIES.values()})
"""Every issuing authority (37): the organisations a MOFCOM 核验 reviewer may belong to."""
