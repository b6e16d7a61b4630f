from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import IngestError, UnsupportedFormatError
from ingest.parsers import parse_file
from tests.fixtures_files import write_csv, write_docx, write_markdown, write_pdf, write_xlsx


def test_markdown_front_matter_fields(tmp_path: Path) -> None:
    path = write_markdown(
        tmp_path / "talent" / "apartment.md",
        "talent-apartment",
        "人才公寓申请办法",
        "## 申请条件\n在江岸区工作。",
    )
    (doc,) = parse_file(path, tmp_path)
    assert doc.doc_id == "talent-apartment"
    assert doc.title == "人才公寓申请办法"
    assert doc.category == "人才政策"
    assert doc.department == "区人才工作局"
    assert doc.contact == "027-5000-0001"
    assert doc.updated == "2026-05-08"
    assert doc.sample is True
    assert "## 申请条件" in doc.text and "---" not in doc.text


def test_markdown_without_front_matter_uses_path_and_heading(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "guide.md"
    path.parent.mkdir()
    path.write_text("# 企业开办指南\n一个工作日办结。", encoding="utf-8")
    (doc,) = parse_file(path, tmp_path)
    assert doc.doc_id == "sub/guide"
    assert doc.title == "企业开办指南"


def test_bad_front_matter_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_text("---\ntitle: [unclosed\n---\n正文。", encoding="utf-8")
    with pytest.raises(IngestError, match="front matter"):
        parse_file(path, tmp_path)


def test_txt_title_is_first_line(tmp_path: Path) -> None:
    path = tmp_path / "notice.txt"
    path.write_text("关于减免租金的通知\n对入驻企业减免三个月租金。", encoding="utf-8")
    (doc,) = parse_file(path, tmp_path)
    assert (doc.doc_id, doc.title) == ("notice", "关于减免租金的通知")
    assert doc.text == "对入驻企业减免三个月租金。"


def test_single_line_txt_takes_its_head_as_title(tmp_path: Path) -> None:
    path = tmp_path / "n.txt"
    path.write_text(
        "市商务局关于做好外资企业复工复产服务的通知 内容概述 " + "各区商务主管部门：" * 20,
        encoding="utf-8",
    )
    (doc,) = parse_file(path, tmp_path)
    assert doc.title == "市商务局关于做好外资企业复工复产服务的通知"
    assert doc.text.startswith("市商务局")


def test_gb18030_text_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "gbk.txt"
    path.write_bytes("孵化器入驻须知\n租金前两年减半。".encode("gb18030"))
    (doc,) = parse_file(path, tmp_path)
    assert doc.title == "孵化器入驻须知"


def test_html_drops_scripts_and_keeps_headings(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><meta charset='utf-8'><title>众创空间入驻</title><script>alert(1)</script></head>"
        "<body><nav>首页 | 导航</nav><h1>众创空间入驻</h1><h2>入驻条件</h2><p>成立不满三年的科技型企业。</p></body></html>",
        encoding="utf-8",
    )
    (doc,) = parse_file(path, tmp_path)
    assert doc.title == "众创空间入驻"
    assert "## 入驻条件" in doc.text and "成立不满三年" in doc.text
    assert "alert" not in doc.text and "导航" not in doc.text


def test_docx_headings_paragraphs_and_tables(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "subsidy.docx",
        "安家补贴申领指南",
        {"补贴标准": "博士每人补贴十万元。", "申领材料": "身份证、学历证书。"},
    )
    (doc,) = parse_file(path, tmp_path)
    assert doc.doc_id == "subsidy"
    assert doc.title == "安家补贴申领指南"
    assert "补贴标准" in doc.text and "博士每人补贴十万元。" in doc.text
    assert "027-5000-0002" in doc.text


def test_pdf_text_and_title(tmp_path: Path) -> None:
    path = write_pdf(
        tmp_path / "loan.pdf",
        ["贷款贴息实施细则", "对科技型中小企业贷款给予百分之五十贴息。"],
        title="贷款贴息实施细则",
    )
    (doc,) = parse_file(path, tmp_path)
    assert doc.title == "贷款贴息实施细则"
    assert "百分之五十贴息" in doc.text


def test_csv_faq_rows_become_entries(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "faq.csv",
        [
            ("公司注册要多久？", "一个工作日。", "审批服务"),
            ("", "空问题被跳过", ""),
            ("孵化器在哪？", "岱家山科创城。", ""),
        ],
    )
    docs = parse_file(path, tmp_path)
    assert [d.doc_id for d in docs] == ["faq#1", "faq#3"]
    assert docs[0].title == "公司注册要多久？" and docs[0].text == "一个工作日。"
    assert docs[0].category == "审批服务" and docs[0].kind == "faq"


def test_faq_alternative_phrasings_column(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "faq.csv",
        [
            (
                "公司注册要多久？",
                "一个工作日。",
                "注册公司几天办完|开公司要几天；公司注册要多久？\n执照多久下来",
            )
        ],
        header=("question", "answer", "相似问法"),
    )
    (doc,) = parse_file(path, tmp_path)
    assert doc.alternatives == (
        "注册公司几天办完",
        "开公司要几天",
        "公司注册要多久？",
        "执照多久下来",
    )


def test_xlsx_faq(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "qa.xlsx", [("人才公寓租金多少？", "市场价的一半。")], header=("问题", "答案")
    )
    (doc,) = parse_file(path, tmp_path)
    assert (doc.doc_id, doc.title, doc.text) == ("qa#1", "人才公寓租金多少？", "市场价的一半。")


def test_faq_without_required_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", [("a", "b")], header=("foo", "bar"))
    with pytest.raises(IngestError, match="question,answer"):
        parse_file(path, tmp_path)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("broken.pdf", b"%PDF-1.4 not really"),
        ("broken.docx", b"PK\x03\x04 nope"),
        ("broken.xlsx", b"not a zip"),
        ("empty.txt", b"  \n"),
    ],
)
def test_corrupt_files_raise_ingest_error(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IngestError) as info:
        parse_file(path, tmp_path)
    assert name in info.value.message


def test_table_rows_name_their_row_first(tmp_path: Path) -> None:
    body = (
        "## 租金\n| 序号 | 人员类别 | 租金标准 | 面积上限 |\n|---|---|---|---|\n"
        "| 1 | A类人才 | 免租金 | 120平方米 |\n| 2 | C类人才 | 市场租金的50% | 90平方米 |\n\n"
        "## 奖励\n| 项目 | 标准 |\n|---|---|\n| 落户奖励 | 最高500万元 |\n"
    )
    (doc,) = parse_file(write_markdown(tmp_path / "t.md", "t", "租金", body), tmp_path)
    # the 序号 column is dropped, each value keeps its header, a generic header is left out
    assert "A类人才：租金标准为免租金，面积上限120平方米。" in doc.text
    assert "C类人才：租金标准为市场租金的50%，面积上限90平方米。" in doc.text
    assert "落户奖励：最高500万元。" in doc.text


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "image.bmp"
    path.write_bytes(b"BM\x00\x00")
    with pytest.raises(UnsupportedFormatError):
        parse_file(path, tmp_path)


def test_markdown_tables_and_emphasis_become_citable_sentences(tmp_path: Path) -> None:
    body = (
        "## 补贴标准\n**注意**：以下为[示例](https://example.org)。\n\n"
        "| 学历 | 安家补贴 |\n|---|---|\n| 博士 | 6万元 |\n| 硕士 | 3万元 |\n\n> 本文为示例资料。"
    )
    (doc,) = parse_file(write_markdown(tmp_path / "s.md", "s", "补贴", body), tmp_path)
    # one line per row, 「label：value」 with the value's header kept
    assert "\n博士：安家补贴6万元。\n" in doc.text
    assert "\n硕士：安家补贴3万元。\n" in doc.text
    assert "|" not in doc.text and "**" not in doc.text and "](" not in doc.text
    assert "注意：以下为示例。" in doc.text and "\n本文为示例资料。" in doc.text
    assert "## 补贴标准" in doc.text
