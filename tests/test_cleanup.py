"""Text read off pages (issue 16, point 4): running headers, footers and page numbers go,
lines broken inside sentences are joined, full-width letters and digits made half-width."""

from __future__ import annotations

from pathlib import Path

from ingest.cleanup import join_broken_lines, normalise_width, strip_running_lines
from ingest.parsers import parse_file

BODY = [
    "江岸区人民政府文件\n岸政发〔2026〕3号\n关于印发人才政策的通知\n第一页正文。",
    "第二页正文第一句。\n第二页正文第二句。",
    "第三页正文。\n附件1",
    "第四页正文。",
]


def test_page_numbers_in_every_spelling_are_removed() -> None:
    for number in ("- {n} -", "— {n} —", "第{n}页 共4页", "第 {n} 页/共 4 页", "{n}/4", "{n}"):
        pages = [f"{body}\n{number.format(n=n)}" for n, body in enumerate(BODY, start=1)]
        assert strip_running_lines(pages) == BODY, number


def test_a_running_header_is_removed_and_the_first_page_keeps_its_red_header() -> None:
    header = "江岸区人民政府关于印发人才政策的通知"
    pages = [BODY[0] + "\n- 1 -"] + [
        f"{header}\n{body}\n- {n} -" for n, body in enumerate(BODY[1:], start=2)
    ]
    assert strip_running_lines(pages) == BODY


def test_lines_that_only_look_alike_stay() -> None:
    # a number at the foot of one page only is data, not a page number, on a single page
    assert strip_running_lines(["补贴标准如下：\n50"]) == ["补贴标准如下：\n50"]
    assert strip_running_lines(["正文。\n- 1 -"]) == ["正文。"]
    # a line at the top of only one of four pages is not a running header
    pages = ["甲。\n正文一。", "乙。\n正文二。", "丙。\n正文三。", "丁。\n正文四。"]
    assert strip_running_lines(pages) == pages


NOTICE = (
    "关于做好2026年度高新技术企业认定工作的通知\n"
    "各街道办事处、区直各部门：\n"
    "\u3000\u3000为贯彻落实国家创新驱动发展战略，进一步加快培育高新技术企业，根据科技部、财政\n"
    "部、税务总局《高新技术企业认定管理办法》有关规定，现就做好我区2026年度高新技术企业认\n"
    "定工作通知如下。\n"
    "\u3000\u3000一、申报条件\n"
    "（一）在江岸区注册成立一年以上的居民企业，通过自主研发、受让、受赠、并购等方式获得对\n"
    "其主要产品在技术上发挥核心支持作用的知识产权的所有权；\n"
    "（二）科技人员占企业当年职工总数的比例不低于10%。\n"
    "二、申报时间\n"
    "2026年4月1日至4月30日，逾期不予受理，请各企业按照要求及时准备材料并在规定时间内\n"
    "1. 登录系统填报\n"
    "附件：1.申报表\n"
    "江岸区科学技术局\n"
    "2026年3月5日"
)


def test_broken_lines_are_joined_and_headings_list_items_and_signatures_kept() -> None:
    assert join_broken_lines(NOTICE).splitlines() == [
        "关于做好2026年度高新技术企业认定工作的通知",
        "各街道办事处、区直各部门：",
        "\u3000\u3000为贯彻落实国家创新驱动发展战略，进一步加快培育高新技术企业，根据科技部、财政"
        "部、税务总局《高新技术企业认定管理办法》有关规定，现就做好我区2026年度高新技术企业认"
        "定工作通知如下。",
        "\u3000\u3000一、申报条件",
        "（一）在江岸区注册成立一年以上的居民企业，通过自主研发、受让、受赠、并购等方式获得对"
        "其主要产品在技术上发挥核心支持作用的知识产权的所有权；",
        "（二）科技人员占企业当年职工总数的比例不低于10%。",
        "二、申报时间",
        "2026年4月1日至4月30日，逾期不予受理，请各企业按照要求及时准备材料并在规定时间内",
        "1. 登录系统填报",
        "附件：1.申报表",
        "江岸区科学技术局",
        "2026年3月5日",
    ]


def test_markdown_headings_and_table_sentences_are_never_joined() -> None:
    text = (
        "## 补贴标准说明这一节的标题写得比较长而且没有标点符号结尾\n"
        "博士：一次性安家补贴6万元，每月租房补贴3000元。\n"
        "硕士：一次性安家补贴3万元，每月租房补贴2000元。"
    )
    assert join_broken_lines(text) == text


def test_widths_are_normalised() -> None:
    assert normalise_width("ＡＢＣ公司２０２６年　第１号") == "ABC公司2026年 第1号"
    assert normalise_width("联系电话:027-8277-0001,工作日9:00开放;周末休息") == (
        "联系电话：027-8277-0001，工作日9:00开放；周末休息"
    )
    assert (
        normalise_width("管理办法(试行)，见岸政发(2026)3号")
        == "管理办法（试行），见岸政发（2026）3号"
    )
    # English and numbers keep their own punctuation
    assert normalise_width("see (note), 3,000 and https://a.cn/(x)") == (
        "see (note), 3,000 and https://a.cn/(x)"
    )
    assert normalise_width("“双创”。（一）") == "“双创”。（一）"


def test_plain_text_is_cleaned_on_ingest_and_markdown_is_not(tmp_path: Path) -> None:
    (tmp_path / "notice.txt").write_text(NOTICE.replace("2026年度", "２０２６年度"), "utf-8")
    (doc,) = parse_file(tmp_path / "notice.txt", tmp_path)
    assert "财政部、税务总局" in doc.text and "２" not in doc.text
    broken = "# 标题\n这一行在句子中间断开了但是作者就是这样写的因为这是Markdown文件里的\n内容"
    (tmp_path / "note.md").write_text(broken, "utf-8")
    (md,) = parse_file(tmp_path / "note.md", tmp_path)
    assert md.text == broken


def test_rows_and_sentences_alike_from_page_to_page_stay() -> None:
    # every page ends with a table row of the same shape, then its page number
    pages = [f"正文{n}。\n第{n}类人才：补贴{n}万元，租房{n}00元\n- {n} -" for n in range(1, 5)]
    assert strip_running_lines(pages) == [
        f"正文{n}。\n第{n}类人才：补贴{n}万元，租房{n}00元" for n in range(1, 5)
    ]
    pages = [f"甲{n}。\n本页小结：见下页。" for n in range(1, 5)]
    assert strip_running_lines(pages) == pages


def test_numbers_that_differ_are_text_not_page_furniture() -> None:
    # two pages each ending in a contact line: phone numbers (5+ digits) are not page numbers
    pages = ["正文第一页。\n联系电话：82345678", "正文第二页。\n联系电话：82345679"]
    assert strip_running_lines(pages) == pages


def test_a_short_heading_is_not_joined_to_the_line_before() -> None:
    text = (
        "联系电话：027-12345678，咨询时间为工作日上午九点至下午五点半，节假日除外请提前预约\n"
        "所需材料\n"
        "营业执照副本复印件一份，法定代表人身份证复印件一份，以及申请表原件一份。"
    )
    assert join_broken_lines(text).splitlines()[1] == "所需材料"
