"""Policy documents written for the tests (kind: policy), dated relative to today."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

TODAY = dt.date.today()
CHAT_PROFILE_QUESTION = (
    "我们是2023年在江岸区注册的软件公司，30人，是科技型中小企业，能申请哪些补贴？"
)


def day(offset: int) -> str:
    """Today plus `offset` days, ISO."""
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def years_ago(n: int, today: dt.date = TODAY) -> dt.date:
    try:
        return today.replace(year=today.year - n)
    except ValueError:  # 29 February
        return today.replace(year=today.year - n, day=28)


def _policy(
    doc_id: str,
    title: str,
    body: str,
    *,
    category: str,
    benefit: str = "",
    front: str = "",
    eligibility: str = "",
) -> str:
    return (
        f"---\nid: {doc_id}\ntitle: {title}\nkind: policy\ncategory: {category}\n"
        "department: 江岸区科技和经济信息化局\ncontact: 027-8276-1100\n"
        + (f"benefit: {benefit}\n" if benefit else "")
        + front
        + (f"eligibility:\n{eligibility}" if eligibility else "")
        + f"---\n# {title}\n{body}\n"
    )


GOOD = {
    # eligible for the chat profile: every condition kind but revenue / R&D
    "software.md": _policy(
        "software-growth",
        "江岸区软件企业成长补贴",
        "## 支持内容\n对在江岸区注册、成立不超过五年的软件和人工智能企业，按上年度研发投入给予"
        "成长补贴，最高补贴50万元。\n## 申报方式\n每年4月集中申报。",
        category="科技创新",
        benefit="最高补贴50万元",
        front=f"valid_until: {day(400)}\n",
        eligibility="  - registered_in: 江岸区\n"
        "  - established_years: {max: 5}\n"
        "  - industry: [软件和信息技术服务业, 人工智能]\n"
        "  - qualifications: {any: [高新技术企业, 科技型中小企业]}\n"
        "  - employees: {min: 10}\n",
    ),
    # ineligible for the chat profile (needs both qualifications)
    "hitech.md": _policy(
        "hitech-award",
        "高新技术企业认定奖励",
        "## 奖励标准\n首次认定为高新技术企业且为专精特新企业的，一次性奖励30万元。",
        category="科技创新",
        benefit="一次性奖励30万元",
        eligibility="  - registered_in: 江岸区\n"
        "  - qualifications: {all: [高新技术企业, 专精特新]}\n",
    ),
    # possible for the chat profile (revenue and R&D share unknown)
    "rd.md": _policy(
        "rd-subsidy",
        "企业研发投入后补助",
        "## 补助标准\n研发投入占营业收入比例不低于3%的企业，按研发投入的10%给予后补助，最高100万元。",
        category="科技创新",
        benefit="按研发投入的10%补助，最高100万元",
        eligibility="  - registered_in: 江岸区\n"
        "  - revenue_wan: {min: 500, max: 20000}\n"
        "  - rd_ratio: {min: 0.03}\n",
    ),
    # expired (front matter) and its current successor on the same topic
    "rent-2023.md": _policy(
        "rent-2023",
        "江岸区软件企业办公用房租金补贴（2023版）",
        "## 补贴标准\n软件企业办公用房租金补贴：在江岸区租用办公用房的软件企业，按实际租金的50%"
        "给予补贴，每年最高20万元，租金补贴标准为每平方米每月30元。",
        category="商贸物流",
        benefit="租金补贴50%",
        front="valid_until: 2025-12-31\n",
        eligibility="  - registered_in: 江岸区\n  - industry: 软件和信息技术服务业\n",
    ),
    "rent-2026.md": _policy(
        "rent-2026",
        "江岸区软件企业办公用房租金补贴（2026版）",
        "## 补贴标准\n在江岸区租用办公用房的软件企业，按实际租金的30%给予补贴，每年最高15万元。",
        category="商贸物流",
        benefit="租金补贴30%",
        front=f"valid_from: {day(-100)}\nvalid_until: {day(700)}\n",
        eligibility="  - registered_in: 江岸区\n  - industry: 软件和信息技术服务业\n",
    ),
    # expired (front matter), no successor
    "loan.md": _policy(
        "loan-interest",
        "创业担保贷款贴息办法",
        "## 贴息标准\n符合条件的小微企业创业担保贷款，按贷款合同利率的50%给予贴息，贴息期限不超过2年。",
        category="金融支持",
        benefit="贷款贴息50%",
        front="valid_until: 2025-12-31\n",
    ),
    # terms read off the text: 有效期至… / 自…起施行，有效期3年
    "housing.md": _policy(
        "talent-housing-old",
        "人才安居补贴暂行办法",
        "## 补贴标准\n新引进的博士每月发放安居补贴3000元，硕士每月1500元。\n"
        "## 附则\n本办法自2023年1月1日起施行，有效期至2025年12月31日。",
        category="人才政策",
    ),
    "exhibit.txt": "会展活动补贴实施细则\n一、对在江岸区举办的展会按场地租金的20%给予补贴。\n"
    "二、本细则自2022年1月1日起施行，有效期3年。\n",
    # expiring within 30 days, and one outside that window
    "green.md": _policy(
        "green-retrofit",
        "绿色低碳改造奖励",
        "## 奖励标准\n完成节能改造的企业按投资额的10%奖励。",
        category="绿色低碳",
        benefit="按投资额10%奖励",
        front=f"valid_until: {day(10)}\n",
    ),
    "logistics.md": _policy(
        "logistics-award",
        "物流企业上规奖励",
        "## 奖励标准\n首次纳入规上统计的物流企业奖励10万元。",
        category="商贸物流",
        benefit="奖励10万元",
        front=f"valid_until: {day(40)}\n",
    ),
}
BAD = {
    "bad-years.md": _policy(
        "bad-years",
        "条件写错的政策",
        "正文。",
        category="科技创新",
        eligibility='  - established_years: {max: "five"}\n',
    ),
    "bad-key.md": _policy(
        "bad-key",
        "条件名写错的政策",
        "正文。",
        category="科技创新",
        eligibility="  - turnover: {min: 5}\n",
    ),
    "bad-until.md": _policy(
        "bad-until",
        "有效期写错的政策",
        "正文。",
        category="科技创新",
        front="valid_until: 明年年底\n",
    ),
    "bad-until-quoted.md": _policy(
        "bad-until-quoted",
        "有效期日期不存在的政策",
        "正文。",
        category="科技创新",
        front='valid_until: "2023-02-30"\n',
    ),
    "bad-until-plain.md": _policy(
        "bad-until-plain",
        "有效期日期不存在的政策二",
        "正文。",
        category="科技创新",
        front="valid_until: 2023-02-30\n",
    ),
}


def write(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root
