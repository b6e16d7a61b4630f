"""What a question asks about an item — time, fee, place, materials … — and where a document says it.

Three views of one vocabulary:
- `asked_aspects(question)`: the aspects a question asks, from colloquial wording too
  (多久 / 几天 / 什么时候能拿到 → time, 要钱吗 / 免费吗 → fee, 带啥 → materials);
- `heading_aspects(heading)`: the aspects a section heading names (办理时限 → time,
  收费标准 → fee, 奖励标准 → amount, 申报时间 → deadline);
- `states(aspect, text)`: whether a sentence itself states that aspect (a number of working
  days, a phone number, an address, an amount in 元 …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

ASPECTS = (
    "count",
    "time",
    "fee",
    "place",
    "hours",
    "phone",
    "contact",
    "materials",
    "steps",
    "conditions",
    "amount",
    "deadline",
    "online",
)

# Chinese names, for refusals and the staff's hit test.
LABELS = {
    "count": "数量",
    "time": "办理时限",
    "fee": "收费",
    "place": "办理地点",
    "hours": "办公时间",
    "phone": "咨询电话",
    "contact": "联系方式",
    "materials": "所需材料",
    "steps": "办理流程",
    "conditions": "申请条件",
    "amount": "支持标准",
    "deadline": "申报时间",
    "online": "网上办理",
}

# Aspects whose answer is a list: quoted whole, from its first item.
LIST_ASPECTS = frozenset({"materials", "steps", "conditions", "amount"})

_BENEFIT = r"补|奖|资助|贴|扶持|支持|优惠|减免|返还"
# a length of time the applicant must have reached (交满多久, 成立几年): a condition
_THRESHOLD_PATTERN = (
    r"((交|缴|干|做|住)满|满|工作|经营|运营|成立|注册)(多久|多长时间|几年|几个月|多少年|多少个月)"
    r"(?!.{0,3}(能|可以)?(拿到|办好|办完|下来|到账|批))"
)
# 区里补贴吗 / 也能拿…奖励吗: a benefit asked of with no word of how much
_BARE_BENEFIT = re.compile(r"(给|发)?(补贴|补助|奖励|资助)[吗么]")
# A statistic asked (总投资多少, 人口有多少): the noun stays the question's subject, so it
# is matched behind the cue, not in it.
_STATISTIC = (
    "(?:"
    + "|".join(
        f"(?<={w})"
        for w in "总投资 投资额 投资规模 收入 产值 营收 总额 产量 销售额 税收 增加值 生产总值 经济总量 gdp 人口".split()
    )
    + ")"
)
_STATISTIC_CUE = r"(是|有|达到|达|约|大概|一共|总共)?(多少|几)"
# where a statistic is asked (the noun before it is the subject)
STATISTIC_ASKED = re.compile(_STATISTIC + _STATISTIC_CUE)
_APPLY = r"申报|申请|报名|受理|提交|开始|截止|报送|兑现"
_BENEFIT_NOUN = r"补贴|补助|奖励|奖补|奖金|资助|扶持|支持|优惠|贴息|减免|返还|好处|福利|待遇"

# Question wording → aspect. Each pattern is matched against the normalised question. A
# benefit noun alone is the topic, not the aspect (租金补贴怎么申请 asks for steps); asked
# for — 有什么补贴, 补多少 — it is the amount.
_ASKED: dict[str, str] = {
    "count": _STATISTIC
    + _STATISTIC_CUE
    + r"|(?<!哪)(多少家|(?<!好)几家|多少个(?!工作日|月|小时)|(?<!好)几个(?!工作日|月|小时|星期)|多少项|(?<!好)几项|多少名|多少人|多少栋|几栋|多少座|多少所|多少种|几种|多少批)",
    "time": (
        r"多久|多长时间|多少天|几天|几个?工作日|多少个?工作日|多快|最快|时限|办结|要等(?!到)|等多少|"
        r"(?<![这近前头过])几年|多少年|多长期限|期限多长|期限是多久|多长周期|审批周期|几个小时|当天能|当场|立等|能办好(?!的)|办好(?!的)|办下来(?!的)|下证|出证|拿证|"
        rf"(什么时候|何时|啥时候|哪天)(?!.{{0,6}}({_APPLY}))(.{{0,8}})(拿到|办好|办完|下来|出来|批|能用|到账|发放|办下来)|"
        r"(能|可以)?(当天|马上)(拿|办)"
    ),
    "fee": (
        r"收费|费用|要钱|花钱|掏钱|出钱|交钱|付钱|付费|收钱|免费|收不收|贵不贵|花多少|多少费|"
        r"多少钱|价格|价钱|工本费|(租金|房租|租费|单价|物业费|押金|保证金|定金)(是|要|需要|大概|大约|一般)?(交|缴|付)?多少|"
        r"要不要钱|要.{0,2}钱[吗么]|(交(?!通)|缴|付|收)(取)?.{0,4}费[吗么]|(交|缴|付)多少.{0,3}费"
    ),
    "place": (
        r"在哪(?!些|一|个方面|个?(平台|网站|app|小程序|公众号|系统))|去哪(?!些)|哪里|哪儿|什么地方|地址|地点|位置|哪个窗口|什么窗口|几号窗口|窗口在|几楼|哪个楼|哪层|几号楼|怎么去|怎么走|"
        r"哪个大厅|哪个中心|(哪个|什么|几号)(办公室|房间)|到哪(?=里|儿|去|办)|跑哪|哪去办|哪个区域|什么区域|哪个位置|什么位置|哪个地方"
    ),
    "hours": (
        r"几点|上班时间|下班|办公时间|工作时间|营业时间|开门|关门|周末|周六|周日|星期[六天日]|"
        r"节假日|午休|延时|上班|中午|午间"
    ),
    "phone": r"电话|号码|热线|(?<![钱款])打给(谁|哪)|拨打|手机号|座机",
    "contact": (
        r"找?哪个(科室|处室|部门|单位|科(?![技学研]))|什么科室|找谁|(交|提交|递交|送)(给|到)谁|联系谁|问谁|咨询谁|联系方式|联系人|哪个部门|什么部门|哪个单位|谁负责|谁管|"
        r"主管部门|对接|找哪|(怎么|如何|去哪|找谁|向谁|跟谁)咨询|咨询方式"
    ),
    "materials": (
        r"材料|资料|带什么|带啥|带哪些|准备什么|准备啥|准备哪些|提交什么|交什么|交哪些|证件|"
        r"哪些东西|什么东西|啥东西|清单|要带|"
        # 证书要不要交 / 还要交复印件吗: whether a paper is among the materials
        r"(证书|证明|复印件|原件|照片|合同|报告|执照|证|表)(还)?(要不要|需不需要|用不用|需要|要|得)(交|提交|提供|带)(?!钱|费|税|款|租|社保)|"
        r"(要不要|需不需要|用不用|还要|需要)(交|提交|提供|带).{0,8}(证书|证明|复印件|原件|照片|合同|报告|执照)"
    ),
    "steps": (
        r"流程|步骤|程序|手续|怎么申请|如何申请|怎样申请|怎么办理|如何办理|怎样办理|怎么办|"
        r"怎么弄|怎么搞|咋弄|咋办|咋申请|怎么操作|如何操作|怎么报|怎么做|办理方式|申请方式|"
        r"申报方式|哪几步|几个步骤|几步|先(干|做|办|弄)(啥|什么)|怎么个(办法|办|流程)|(哪些|什么|几个)环节|怎么评|如何评|怎么审|如何审|怎么核|走什么程序|怎么走|怎么入驻|如何入驻|怎么领|如何领取|怎么享受|如何享受|怎么兑现|怎么用|如何使用|怎么使用|怎样使用|怎么加入|如何加入"
    ),
    "conditions": (
        r"条件|(有什么|有哪些|有何|有啥|什么|哪些|啥)(硬性|具体|基本|特殊|额外|其他|主要|特别)?要求|要求是什么|门槛|资格(?!证)|符合什么|谁能|谁可以|哪些人|"
        r"哪些(单位|主体|机构|人员|对象)|什么(单位|主体|机构|人员)可以|"
        r"什么人|哪些企业|什么企业|什么样的企业|哪类企业|能不能(申请|享受|办|入驻|参加|报)|"
        r"可以(申请|享受|入驻|参加|报)吗|能(申请|享受|入驻|参加|报)吗|(能|可以)(申请|享受|参加).{0,8}吗|够不够|够格|适用于|"
        r"适用对象|申请对象|支持对象|哪些对象|认定标准|限制|年限要求|不超过多少|多大年纪|多少岁|几岁|"
        r"哪些(店|门店|商户|商家|行业|场所|经营者|项目)|(最少|至少|最小|最低)要?(多大|多少|多长|多高|几)|多大面积|面积(要)?多大|"
        + _THRESHOLD_PATTERN
    ),
    "amount": (
        rf"({_BENEFIT}).{{0,3}}(多少|几(?![月号日天年点])|多大|什么标准)|(多少|几万|几千).{{0,3}}({_BENEFIT})|"
        r"标准(?=[是为多怎如有吗呢?？，,。]|$)|额度|上限|最高|多少万|比例|给多少|能拿多少|拿多少|多少钱的?(补|奖)|"
        rf"(什么|哪些|啥)(样的)?({_BENEFIT_NOUN})|({_BENEFIT_NOUN})(有哪些|是什么|有什么|有多少)|"
        rf"(有什么|有哪些|有啥|有何)({_BENEFIT_NOUN})|有.{{0,2}}(奖|补贴|补助)[吗么]|(?<![技功性智职效体产储])能补|可以补|"
        r"(能|可以)?(贷|借)(款)?多少|最多(能|可以)?(贷|借|补|奖|拿|给|领)|" + _BARE_BENEFIT.pattern
    ),
    "deadline": (
        r"申报时间|申请时间|报名时间|受理时间|申报期|截止|截至|几月|哪个月|期限|"
        rf"(什么时候|何时|啥时候|哪天|几号)(之前|以前|前)?(可以|能|开始|才能|要)?({_APPLY}|报(?!告|道|销)|交(?!通|流|易))|({_APPLY}).{{0,4}}(什么时候|何时|啥时候)|"
        r"赶趟|来得及|来不来得及|赶得上|赶不上|晚不晚|晚了吗|"
        r"过期|有效期|还有效|什么时候开始|最晚|最迟|(能|可以)(用|设置|保留|有效|挂|租|住)(多久|几年|多长时间|多少年)|(多久|多长时间)(报|申报|申请|评|受理|开展|组织)?一次|一年(报|申报|评|受理)?几次|每年几次|"
        rf"(多久|多长时间|多少天|几天|几个月|多少个月)(之内|以内|内).{{0,3}}({_APPLY}|提出)|"
        r"提前(多久|多长时间|多少天|几天|几个月|多少个?工作日|几个工作日)"
    ),
    "online": (
        r"网上|在线|线上|网办|手机上|手机办|app|小程序|公众号|网站|不用跑|跑几趟|跑一趟|跑腿|"
        r"不跑|零跑|远程|什么渠道|哪些渠道|哪个渠道|什么平台|哪个平台"
    ),
}

# A cue's gap (.{0,3} in 补.{0,3}多少) holds the question's own words — 有安家补贴吗 asks an
# amount, but 安家 is the subject: the gaps become named groups, left out of the cue's span.
_GAP = re.compile(r"(?<!\(\?!)(?<!\(\?=)\.\{0,(\d+)\}")


def _with_gaps(pattern: str) -> str:
    count = iter(range(1000))
    return _GAP.sub(lambda m: f"(?P<gap{next(count)}>.{{0,{m.group(1)}}})", pattern)


_ASKED_RE = {a: re.compile(_with_gaps(p)) for a, p in _ASKED.items()}
_THRESHOLD = re.compile(_THRESHOLD_PATTERN)
# conditions asked in so many words (not only 能申请吗)
_CONDITION_WORDS = r"条件|要求|门槛|资格|谁能|谁可以|哪些人|什么人|哪些企业|什么企业|限制|对象"

# Section headings → aspects (a heading may name several: 租金标准 is both fee and amount).
_HEADING: dict[str, str] = {
    # 许可期限 / 有效期限 is how long a permit lasts, not how long the office takes
    # 许可期限 / 占道期限 is how long a permit lasts, not how long the office takes
    "time": r"时限|(办理|审批|办结|承诺|法定|贷款|借款)期限|与期限|^期限|办结|时效|办理周期|审批周期|承诺时间|法定时间",
    "fee": r"收费|费用|免费|租金|价格",
    # 经营场所要求 is what the premises must be, not where to apply
    "place": r"地点|窗口|地址|受理点|(?<!经营)(?<!营业)(?<!生产)(?<!办公)(?<!公共)场所|位置|办公地|服务大厅|交通",
    "hours": r"办公时间|办理时间|工作时间|服务时间|开放时间|营业时间|接待时间|受理时间",
    "phone": r"电话|咨询方式|联系方式|热线",
    "contact": r"联系|咨询|主管部门|责任单位|受理部门|受理单位|服务单位",
    "materials": r"材料|资料|要件|清单",
    "steps": r"流程|程序|步骤|办理方式|申报方式|申请方式|办事指南|操作指引|入驻方式|使用方法|使用方式|办理方法|申请方法|操作方法",
    "conditions": r"条件|对象|范围|资格|要求|门槛|认定标准|适用",
    "amount": (
        r"(?<!收费)(?<!认定)标准|奖励|补贴|支持|扶持|资助|措施|政策内容|优惠|补助|贴息|待遇|"
        r"额度|金额|政策内容|扶持内容|支持内容"
    ),
    "deadline": r"(申报|申请|受理|报送|提交|报名|兑付|兑现|备案|登记)(时间|期限|日期)|截止|时间安排|申报期|有效期|施行|(许可|有效|设置|使用|占道|占用|租赁)期限",
    "online": r"网上|在线|网办|线上|掌上|一网通办|渠道|平台",
}
_HEADING_RE = {a: re.compile(p) for a, p in _HEADING.items()}

# What a sentence says when it states the aspect itself.
_STATES: dict[str, str] = {
    # (a statistic asked — 总投资多少, 收入多少 — is stated by a figure with its unit)
    "count": (
        r"\d+\s*(家|个|项|名|人|栋|座|所|种|批|余)|[一二两三四五六七八九十百千万]+(家|个|项|名|栋|座|所|种|批)|"
        r"\d+(\.\d+)?\s*(亿元|万元|元|亿|%|万人|万户|万家|万名)"
    ),
    "time": (
        r"\d+(\.\d+)?\s*个?(工作日|自然日|日|天|小时|分钟|个月|周)|(?<!\d)\d{1,2}\s*年|"
        r"[一二两三四五六七八九十半]+个?(工作日|日|天|小时|个月|周|年)|即办|当场|当日|当天|立等|即时|"
        r"即报即得|马上|实时"
    ),
    "fee": r"免费|收费|不收取|费用|\d+(\.\d+)?\s*[万亿]?元|买单|承担|免租|减半|租金|[一二三四五六七八九十百千万]+元",
    "place": (
        r"地址|地点|\d+号|[路街道]\d|大道|大厦|大楼|广场|中心|窗口|[0-9一二三四五六七八九十]+楼|"
        r"[0-9一二三四五六七八九十]+层|\d+室|园区|专区|大厅|网站|网址|http|平台|专栏|公众号|小程序|app"
    ),
    "hours": r"\d{1,2}\s*[:：]\s*\d{2}|工作日|周[一二三四五六日]|星期|上午|下午|节假日|全天|24小时",
    "phone": r"\d{3,4}-\d{4}-?\d{0,4}|\d{7,}|(?<!\d)(95|96|12)\d{3}(?!\d)|热线|电话",
    "contact": r"\d{3,4}-\d{4}|电话|联系人|联系方式|咨询",
    "materials": r"《|证|书|表|合同|证明|复印件|材料|凭证|报告|清单|执照|文件",
    "steps": r"登录|提交|审核|受理|公示|拨付|签订|领取|申请|填报|办理|递交|审批|核准|认定",
    "conditions": r"符合|应当|具有|注册|条件|满|以上|不低于|须|需|持有|具备|对象|企业",
    "amount": (
        r"\d+(\.\d+)?\s*(万元|元|亿元|%|倍|平方米|万)|最高|不超过|补贴|奖励|免租|减半|免费|"
        r"[一二三四五六七八九十百千]+(万元|元|%)|资助|贴息"
    ),
    "deadline": (
        r"\d+月|截止|截至|之前|[一二三四五六七八九十]+月|每年\d|每年[一二三四五六七八九十]|季度|集中受理|"
        r"申报期|全年受理|随时|常年|提前\s*[0-9一二两三四五六七八九十]+\s*个?(工作日|自然日|日|天|周|个月)|\d+\s*个?(月|日|天|工作日)(之内|以内|内)|[一二两三四五六七八九十]+个?(月|日|天|工作日)(之内|以内|内)"
    ),
    "online": r"网|app|APP|小程序|线上|在线|一网通办|掌上|公众号|零跑动|跑|邮寄|寄递|登录|平台|微信",
}
_STATES_RE = {a: re.compile(p, re.I) for a, p in _STATES.items()}


@dataclass(frozen=True)
class AskedAspects:
    aspects: frozenset[str]
    # The question text that named them.
    cues: tuple[str, ...]
    # Where the cue's own words are in the question (its gaps left out): not focus terms.
    spans: tuple[tuple[int, int], ...] = ()


@lru_cache(maxsize=4096)
def asked_aspects(question: str) -> AskedAspects:
    """The aspects a (normalised) question asks, and the words that said so."""
    text = question.lower()
    found: set[str] = set()
    cues: list[str] = []
    spans: list[tuple[int, int]] = []
    for aspect, cue in _ASKED_RE.items():
        for m in cue.finditer(text):
            found.add(aspect)
            cues.append(m.group(0))
            start = m.start()
            gaps = sorted(
                m.span(name)
                for name, value in m.groupdict().items()
                if name.startswith("gap") and value
            )
            for gap_start, gap_end in gaps:
                if gap_start > start:
                    spans.append((start, gap_start))
                start = max(start, gap_end)
            if m.end() > start:
                spans.append((start, m.end()))
    # "多少钱" with a benefit word is an amount, not a fee: 补贴多少钱
    if (
        "fee" in found
        and "amount" in found
        and not re.search(r"收费|费用|要钱|花钱|掏钱|出钱|交钱|付|免费|工本费", text)
    ):
        found.discard("fee")
    # 几点 / 上班 asks hours; "什么时候能拿到" asks time; a date to apply is a deadline
    if "deadline" in found and "time" in found and re.search(_APPLY, text):
        found.discard("time")
    # 社保要交满多久 / 成立几年能申请 ask a threshold; 多久报一次 / 最晚多久 a date to keep;
    # 能设置几年 how long a permit lasts
    if "time" in found and (
        _THRESHOLD.search(text)
        or (
            "deadline" in found
            and re.search(r"最晚|最迟|一次|几次|提前|(能|可以)(用|设置|保留|有效|挂|租|住)", text)
        )
    ):
        found.discard("time")
    # 也能拿…奖励吗 asks whether one qualifies (and for how much); 区里补贴吗 whether there is any
    bare = [c for c in cues if _BARE_BENEFIT.fullmatch(c)]
    if bare and re.search(r"(能|可以)(拿|享受|申请|领|申报)", text):
        found.add("conditions")
    # 弄丢了能补吗 asks for a new copy, not a subsidy
    if "amount" in found and re.search(r"(丢|遗失|丢失|损坏|坏了).{0,6}(能|可以)补", text):
        found.discard("amount")
    # 营业收入多少能申请 asks the threshold to reach, not the statistic
    if "count" in found and re.search(r"多少.{0,3}(才)?(能|可以)(申请|享受|报|认定)", text):
        found.discard("count")
        found.add("conditions")
    # 去哪个窗口交材料 asks where; the materials are what is handed in there
    if (
        "place" in found
        and "materials" in found
        and re.search(r"(交|提交|递交|送)(申请)?材料", text)
        and not re.search(
            r"什么材料|哪些材料|材料有哪些|材料清单|带什么|准备什么|交什么|交哪些", text
        )
    ):
        found.discard("materials")
    # 网上能交材料吗 / 材料交给谁 / 最晚哪天交材料 ask how, where and when to hand them in,
    # not what they are
    if (
        "materials" in found
        and ({"online", "contact", "place", "deadline"} & found)
        and re.search(r"(交|提交|递交|上传|送)(申请)?材料|材料.{0,2}(交|提交|递交|送)(给|到)", text)
        and not re.search(
            r"什么材料|哪些材料|材料有哪些|材料清单|带什么|准备什么|交什么|交哪些", text
        )
    ):
        found.discard("materials")
    # 手续能在网上弄吗 asks whether it can be done online, not what the steps are
    if (
        "online" in found
        and "steps" in found
        and not re.search(r"流程|步骤|程序|几步|环节|怎么|如何|怎样|咋", text)
    ):
        found.discard("steps")
    # 网上能申请吗 asks whether it can be done online, not who may apply
    if "online" in found and "conditions" in found and not re.search(_CONDITION_WORDS, text):
        found.discard("conditions")
    return AskedAspects(
        frozenset(found), tuple(sorted(set(cues), key=len, reverse=True)), tuple(sorted(set(spans)))
    )


def plainly_asked(question: str) -> frozenset[str]:
    """The aspects a question asks in so many words: 也能拿…奖励吗 asks whether one qualifies,
    not how much (an FAQ entry so worded has not answered 能拿多少奖励)."""
    asked = asked_aspects(question)
    found = set(asked.aspects)
    bare = [c for c in asked.cues if _BARE_BENEFIT.fullmatch(c)]
    if (
        bare
        and "conditions" in found
        and not any(_ASKED_RE["amount"].search(c) for c in asked.cues if c not in bare)
    ):
        found.discard("amount")
    return frozenset(found)


@lru_cache(maxsize=4096)
def heading_aspects(heading: str) -> frozenset[str]:
    """The aspects a section heading names."""
    if not heading:
        return frozenset()
    out = {a for a, cue in _HEADING_RE.items() if cue.search(heading)}
    if "fee" in out and re.search(r"收费|费用|免费|价格", heading):
        out.discard("amount")  # 收费标准 is what the enterprise pays, not a benefit
    if "deadline" in out and "受理时间" not in heading:
        out.discard("hours")  # 申报时间 is a date window, not office hours (受理时间 is either)
    if "phone" in out or "contact" in out:
        out.discard("steps")
    if (
        "amount" in out
        and re.search(r"对象|范围|条件|资格", heading)
        and not re.search(r"标准|金额|额度|内容", heading)
    ):
        out.discard("amount")  # 支持对象 is who may apply, not what they get
    return frozenset(out)


# A sum of money given (奖补30万元, 补贴5000元): a benefit, not a fee to pay.
_GIVEN_SUM = re.compile(rf"({_BENEFIT}|奖补|给予|发放)[^，。；;,]{{0,8}}$")
_SUM = re.compile(r"\d+(\.\d+)?\s*[万亿]?元|[一二三四五六七八九十百千万]+元")


def states(aspect: str, text: str) -> bool:
    """Whether the text itself states the aspect (a number of days, a phone number, …)."""
    cue = _STATES_RE.get(aspect)
    if aspect == "fee" and cue is not None:
        # a fee is a sum to pay: a sum given (一次性奖补30万元) states no fee
        for m in cue.finditer(text):
            if not _SUM.fullmatch(m.group(0)) or not _GIVEN_SUM.search(text[: m.start()]):
                return True
        return False
    return bool(cue and cue.search(text))


# An amount that is a threshold to reach (交易额在30万元以上的), not what is given.
_AMOUNT_FIGURE = re.compile(
    r"(\d+(\.\d+)?|[一二两三四五六七八九十百千]+)\s*(万元|元|亿元|%|倍)(?!\s*(\(含\)|（含）)?(以上|以下|及以上|及以下))"
)


def states_plainly(aspect: str, text: str) -> bool:
    """Like `states`, for a short answer that must give the aspect itself: an amount is a
    figure that is not a threshold (…30万元以上的，可申请奖励 does not say how much)."""
    if aspect == "amount":
        return bool(_AMOUNT_FIGURE.search(text)) or bool(re.search(r"免租|减半|免费|全额", text))
    return states(aspect, text)
