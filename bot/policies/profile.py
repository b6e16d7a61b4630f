"""An enterprise profile read off a chat message: 「我们是2023年在江岸区注册的软件公司，30人，
是科技型中小企业，能申请哪些补贴？」 → district, industry, founding year, staff, qualifications.

Only what the message states is read; a field it does not mention stays out (the matcher
then calls the condition unknown rather than guessing).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bot.policies.eligibility import qualification

_DIGIT = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "俩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNIT = {"十": 10, "百": 100, "千": 1000}
NUM = r"(?:\d+(?:\.\d+)?|[零〇一二两俩三四五六七八九十百千万]+)"


def number(text: str) -> float | None:
    """12 · 1.5 · 三十 · 一百二十 · 两千 · 五万 → a number (None if it is none)."""
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _DIGIT:
            digit = _DIGIT[ch]
        elif ch in _UNIT:
            section += (digit if digit is not None else 1) * _UNIT[ch]
            digit = None
        elif ch == "万":
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
        else:
            return None
    return float(total + section + (digit or 0))


_DISTRICTS = (
    "江岸 江汉 硚口 汉阳 武昌 青山 洪山 东西湖 汉南 蔡甸 江夏 黄陂 新洲 东湖高新 东湖".split()
)
_NOT_PLACE = set(
    "园 社 开发 片 城 辖 本 我 全 该 景 街 校 试验 示范 新 功能 保税 自贸 商 住宅 小 老城 郊".split()
)
_PLACE = re.compile(
    r"(?:在|位于|落户|注册在|注册于|注册地[是为在]?|地址在|公司在)\s*([\u4e00-\u9fff]{2,4}?)(区|县|市)"
    r"|(?<![\u4e00-\u9fff])([\u4e00-\u9fff]{2,3})(区|县)(?=注册|成立|的|企业|公司)"
    rf"|(?:在|位于|落户|注册在)\s*({'|'.join(_DISTRICTS)})(?!区)"
)
_INDUSTRIES = (
    "软件和信息技术服务业 软件开发 软件 信息技术 人工智能 生物医药 医疗器械 医药 集成电路 半导体 光电子 "
    "新能源汽车 新能源 新材料 智能制造 高端装备 装备制造 汽车零部件 汽车 制造业 制造 "
    "跨境电商 电子商务 电商 互联网 大数据 云计算 区块链 物联网 数字经济 网络安全 "
    "餐饮 餐馆 饭店 餐厅 饭馆 住宿 酒店 旅游 文化创意 文创 动漫游戏 游戏 影视 传媒 广告 "
    "物流 供应链 仓储 批发零售 批发 零售 商贸 外贸 进出口 贸易 "
    "金融科技 金融 保险 证券 融资租赁 "
    "建筑业 建筑 工程设计 设计 咨询 法律服务 会计 人力资源 科技服务 检验检测 "
    "教育培训 教育 培训 医疗 养老 家政 体育 农业 食品 环保 节能环保 绿色低碳 房地产"
).split()
_INDUSTRY_WORDS = {
    "ai": "人工智能",
    "AI": "人工智能",
    "IT": "信息技术",
    "餐馆": "餐饮",
    "饭店": "餐饮",
    "餐厅": "餐饮",
    "饭馆": "餐饮",
}
_INDUSTRY = re.compile("(" + "|".join(sorted(_INDUSTRIES, key=len, reverse=True)) + r"|AI|ai|IT)")
_YEAR_EVENT = r"(?:成立|注册|创办|创立|设立|开业|开办|办的|注册的|成立的|起步)"
_FOUNDED = re.compile(
    rf"(?:成立于|注册于|创办于|创立于|成立时间[是为：:]?|注册时间[是为：:]?)\s*(\d{{4}})\s*年?(?:(\d{{1,2}})\s*月)?"
    rf"|(\d{{4}})\s*年\s*(?:(\d{{1,2}})\s*月)?[^，。,；0-9]{{0,10}}?{_YEAR_EVENT}"
    rf"|(今年|去年|前年|大前年)\s*(?:(\d{{1,2}})\s*月)?[^，。,；]{{0,12}}?{_YEAR_EVENT}"
)
_AGE = re.compile(
    rf"(?:成立|注册|创办|开业|开|办)了?\s*({NUM})\s*(?:多|来)?\s*年(?:多|了)?|(?:成立|开业)(?:有|已|已经)+\s*({NUM})\s*(?:多|来)?年"
)
_PEOPLE = re.compile(
    rf"(?:员工|职工|人员|雇员|团队|在职|规模|员工人数|职工人数|从业人员|社保参保)[^，。,；\d一二两三四五六七八九十百千]{{0,5}}?({NUM})\s*(?:来|多|余)?\s*(?:个|位)?\s*(?:人|名)?"
    rf"|({NUM})\s*(?:来|多|余)?\s*(?:个|位)?\s*(?:人|名|员工|职工|雇员|伙计)(?:左右)?(?:员工|职工|的团队|的规模)?(?![\u4e00-\u9fff]{{0,2}}(?:民币|才|次|年))"
)
_MONEY_UNIT = r"(亿|千万|百万|万)\s*元?"
_REVENUE = re.compile(
    rf"(?:年)?(?:营收|营业收入|营业额|销售收入|销售额|主营业务收入|年收入|收入|产值|流水)[^，。,；\d一二两三四五六七八九十]{{0,6}}?"
    rf"({NUM})\s*(?:个)?\s*(?:多)?\s*{_MONEY_UNIT}"
    rf"|({NUM})\s*(?:个)?\s*(?:多)?\s*{_MONEY_UNIT}(?:的)?(?:年)?(?:营收|营业收入|营业额|销售收入|销售额|收入|产值)"
)
_RD = re.compile(
    rf"研发(?:投入|费用|经费|支出)?(?:占|占比|比例|比重)?[^，。,；\d]{{0,10}}?(?:(\d+(?:\.\d+)?)\s*%|百分之({NUM}))"
)
_QUALIFICATIONS = (
    "国家级专精特新小巨人 专精特新小巨人 小巨人 专精特新中小企业 专精特新 国家高新技术企业 高新技术企业 "
    "高新企业 高企 国高 科技型中小企业 科小 规模以上工业企业 规模以上企业 规上企业 规上 规模以上"
).split()
_QUALIFICATION = re.compile("(" + "|".join(_QUALIFICATIONS) + ")")
_NEGATED = re.compile(r"(?:不是|还不是|并非|没有|没|未|尚未|还没|不属于)[^，。,；]{0,4}$")
# 高企、专精特新都不是 / 高企证书到期没续: negated after the name, in the same clause
_NEGATED_AFTER = re.compile(
    r"^[^，。,；！？]{0,8}?(?:都不是|也不是|不是|都没有|也没有|没评上|没评|没续|没有续|"
    r"(?<![没未不])(?:到期|过期)|被取消|已取消|被撤销|失效)"
)
# a district named anywhere (我们是江岸区做商贸的, 武昌区的软件企业): when no phrase says where
_KNOWN_DISTRICT = re.compile("(" + "|".join(sorted(_DISTRICTS, key=len, reverse=True)) + ")区")
# 咨询一下 / 咨询个事: the verb, not the consulting industry
_VERB_USE = {"咨询": re.compile(r"^(?:一下|下|个|问|：|:|，|,)")}


def _wan(value: str, unit: str) -> float | None:
    n = number(value)
    if n is None:
        return None
    return n * {"亿": 10000, "千万": 1000, "百万": 100, "万": 1}[unit]


def extract(text: str, today: dt.date | None = None) -> dict[str, Any]:
    """The profile fields the text states (DESIGN.md "Policies"); `established` is YYYY or
    YYYY-MM when only that is said, `established_years` when an age is given instead."""
    today = today or dt.date.today()
    profile: dict[str, Any] = {}
    m = _PLACE.search(text)
    if m is None:
        known = _KNOWN_DISTRICT.search(text)
        if known:
            profile["registered_in"] = known.group(1) + "区"
    if m:
        if m.group(5):
            name, suffix = m.group(5), "区"
        else:
            name, suffix = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if name not in _NOT_PLACE and not any(name.endswith(w) for w in _NOT_PLACE if len(w) > 1):
            profile["registered_in"] = name + suffix
    for m in _INDUSTRY.finditer(text):
        word = m.group(1)
        verb = _VERB_USE.get(word)
        if verb is not None and verb.match(text[m.end() :]):
            continue
        profile["industry"] = _INDUSTRY_WORDS.get(word, word)
        break
    m = _FOUNDED.search(text)
    if m:
        if m.group(5):
            back = {"今年": 0, "去年": 1, "前年": 2, "大前年": 3}[m.group(5)]
            month = m.group(6)
            year = str(today.year - back)
            profile["established"] = (
                f"{year}-{int(month):02d}" if month and 1 <= int(month) <= 12 else year
            )
        else:
            year = m.group(1) or m.group(3)
            month = m.group(2) or m.group(4)
            if 1950 <= int(year) <= today.year:
                profile["established"] = (
                    f"{year}-{int(month):02d}" if month and 1 <= int(month) <= 12 else year
                )
    else:
        m = _AGE.search(text)
        if m:
            n = number(m.group(1) or m.group(2))
            if n is not None and 0 <= n <= 200:
                profile["established_years"] = int(n)
    for m in _PEOPLE.finditer(text):
        raw = m.group(1) or m.group(2)
        start = m.start(1) if m.group(1) else m.start(2)
        if text[max(0, start - 1) : start] in ("第",) or re.match(r"\s*年", text[m.end() :]):
            continue
        n = number(raw)
        if (
            n is not None
            and n.is_integer()
            and 0 < n < 10_000_000
            and not re.search(r"[万亿]\s*元?$", m.group(0))
        ):
            profile["employees"] = int(n)
            break
    m = _REVENUE.search(text)
    if m:
        wan = _wan(m.group(1), m.group(2)) if m.group(1) else _wan(m.group(3), m.group(4))
        if wan is not None:
            profile["revenue_wan"] = round(wan, 2)
    m = _RD.search(text)
    if m:
        pct = number(m.group(1) or m.group(2))
        if pct is not None and 0 <= pct <= 100:
            profile["rd_ratio"] = round(pct / 100, 4)
    held: list[str] = []
    denied: set[str] = set()
    said = False
    for m in _QUALIFICATION.finditer(text):
        said = True
        name = qualification(m.group(1))
        name = "规上企业" if name == "规模以上" else name
        if _NEGATED.search(text[max(0, m.start() - 8) : m.start()]) or _NEGATED_AFTER.match(
            text[m.end() :]
        ):
            denied.add(name)  # said not to hold it anywhere: not held
            continue
        if name not in held:
            held.append(name)
    if said:
        profile["qualifications"] = [q for q in held if q not in denied]
    return profile


_ASKS_MATCH = re.compile(
    r"(能|可以|可|能够|够)(申请|享受|申报|拿|领|争取|获得|报)(到)?(哪些|什么|啥|哪几|几项|多少)"
    r"|符合(哪些|什么|啥)|适合(哪些|什么|啥)|(有|享受)(哪些|什么|啥)(政策|补贴|优惠|扶持|奖励|支持)"
    r"|(哪些|什么|啥)(政策|补贴|优惠|扶持|奖励)(能|可以|适合|符合)"
    r"|政策匹配|匹配(一下)?政策"
)
_FIRST_PERSON = re.compile(r"我们|我司|本公司|我公司|我家|我的公司|咱们|我是|我们是|我在")


def describes_enterprise(text: str, profile: dict[str, Any]) -> bool:
    """Whether a message describes its own enterprise and asks which policies it can get."""
    if not _ASKS_MATCH.search(text):
        return False
    facts = len(profile)
    return facts >= 2 or (facts >= 1 and bool(_FIRST_PERSON.search(text)))
