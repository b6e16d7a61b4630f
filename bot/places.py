"""Place names, to notice questions about somewhere the knowledge base does not cover."""

from __future__ import annotations

import re

# City or district → the province (or city) it lies in, so evidence about 广州 also covers
# a question about 广东, and evidence about 江岸 covers 武汉 and 湖北.
_PARENT = {
    "广州": "广东", "深圳": "广东", "珠海": "广东", "东莞": "广东", "佛山": "广东", "南山区": "深圳",
    "福田": "深圳", "前海": "深圳", "杭州": "浙江", "宁波": "浙江", "温州": "浙江", "南京": "江苏",
    "苏州": "江苏", "无锡": "江苏", "常州": "江苏", "徐州": "江苏", "成都": "四川", "西安": "陕西",
    "长沙": "湖南", "郑州": "河南", "合肥": "安徽", "青岛": "山东", "济南": "山东", "烟台": "山东",
    "潍坊": "山东", "厦门": "福建", "福州": "福建", "沈阳": "辽宁", "大连": "辽宁", "哈尔滨": "黑龙江",
    "长春": "吉林", "昆明": "云南", "贵阳": "贵州", "南宁": "广西", "南昌": "江西", "太原": "山西",
    "石家庄": "河北", "雄安": "河北", "兰州": "甘肃", "乌鲁木齐": "新疆", "呼和浩特": "内蒙古",
    "银川": "宁夏", "西宁": "青海", "拉萨": "西藏", "海口": "海南", "三亚": "海南", "浦东": "上海",
    "海淀": "北京", "滨海新区": "天津", "襄阳": "湖北", "宜昌": "湖北", "荆州": "湖北", "黄石": "湖北",
    "十堰": "湖北", "孝感": "湖北", "黄冈": "湖北", "咸宁": "湖北", "随州": "湖北", "恩施": "湖北",
    "鄂州": "湖北", "荆门": "湖北", "武汉": "湖北", "江岸": "武汉", "汉口": "武汉", "武昌": "武汉",
    "汉阳": "武汉", "洪山": "武汉", "江汉区": "武汉", "硚口": "武汉", "青山区": "武汉",
    "东西湖": "武汉", "蔡甸": "武汉", "江夏": "武汉", "黄陂": "武汉", "新洲": "武汉", "汉南": "武汉",
    "东湖高新": "武汉", "光谷": "武汉",
}  # fmt: skip
_PROVINCES = (
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖南 湖北 "
    "广东 广西 海南 四川 贵州 云南 西藏 陕西 甘肃 青海 宁夏 新疆 内蒙古 香港 澳门 台湾"
).split()
PLACES = sorted(set(_PROVINCES) | set(_PARENT), key=len, reverse=True)
_PLACE_RE = re.compile("|".join(PLACES))


def places_in(text: str) -> set[str]:
    """Place names from the list above that occur in the text."""
    return set(_PLACE_RE.findall(text))


def _with_parents(places: set[str]) -> set[str]:
    out = set(places)
    for place in places:
        while place in _PARENT:
            place = _PARENT[place]
            out.add(place)
    return out


def home_places(texts: list[str], share: float = 0.6) -> set[str]:
    """Places most documents of a knowledge base name: where it is about (江岸, 武汉)."""
    counts: dict[str, int] = {}
    for text in texts:
        for place in places_in(text):
            counts[place] = counts.get(place, 0) + 1
    return {p for p, n in counts.items() if texts and n / len(texts) >= share}


def foreign_places(
    question: str, evidence: str, home: set[str] | frozenset[str] = frozenset()
) -> set[str]:
    """Places the question names that the evidence is clearly not about.

    Evidence that names no place ("我省", "我市", an FAQ row) is taken to be about the
    knowledge base's home places, or given the benefit of the doubt when there are none;
    evidence about 江岸 does not answer a question about 上海.
    """
    asked = places_in(question)
    if not asked:
        return set()
    named = places_in(evidence) or set(home)
    if not named:
        return set()
    return asked - _with_parents(named)


def other_places(asked: set[str], named: set[str]) -> bool:
    """Whether text naming `named` is about somewhere else than `asked`: no place of one
    lies in (or is) a place of the other (成都 and 四川 are one region, 湖北 and 重庆 are not)."""
    if not asked or not named:
        return False
    return not any(a in _with_parents({n}) or n in _with_parents({a}) for a in asked for n in named)
