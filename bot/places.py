"""Place names, to notice questions about somewhere the knowledge base does not cover."""

from __future__ import annotations

import re

# Provinces, major cities and well-known districts. A question naming one of these gets an
# answer only when the cited evidence names it too ("上海的人才公寓" is not 江岸's).
PLACES = (
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖南 广东 "
    "广西 海南 四川 贵州 云南 西藏 陕西 甘肃 青海 宁夏 新疆 内蒙古 香港 澳门 台湾 "
    "深圳 广州 杭州 南京 苏州 成都 西安 长沙 郑州 合肥 青岛 济南 厦门 福州 宁波 无锡 东莞 佛山 "
    "沈阳 大连 哈尔滨 长春 昆明 贵阳 南宁 南昌 太原 石家庄 兰州 乌鲁木齐 呼和浩特 银川 西宁 拉萨 "
    "海口 三亚 珠海 温州 常州 徐州 烟台 潍坊 襄阳 宜昌 荆州 黄石 十堰 孝感 黄冈 咸宁 随州 恩施 "
    "鄂州 荆门 浦东 海淀 南山区 福田 前海 滨海新区 雄安 武昌 汉阳 洪山 江汉区 硚口 青山区 东西湖 "
    "蔡甸 江夏 黄陂 新洲 汉南 东湖高新 光谷"
).split()
_PLACE_RE = re.compile("|".join(sorted(PLACES, key=len, reverse=True)))


def places_in(text: str) -> set[str]:
    """Place names from the list above that occur in the text."""
    return set(_PLACE_RE.findall(text))
