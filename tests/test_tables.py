"""Tables (issue 16, point 3): a row becomes one sentence repeating the column headers, in
PDFs (pdfplumber), .docx (where the table stands) and .xlsx (a section per sheet), so a
question about one row is answered by quoting that row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.errors import IngestError
from bot.index import KnowledgeIndex
from ingest import parsers
from ingest.cleanup import strip_running_lines
from ingest.parsers import parse_file
from ingest.pipeline import Ingestor
from ingest.tables import pdf_page_text, pdf_pages_text, row_sentences
from tests.fixtures_files import write_xlsx

HEADER = ["人才类别", "一次性安家补贴", "每月租房补贴"]
ROWS = [["博士", "6万元", "3000元"], ["硕士", "3万元", "2000元"], ["本科", "1万元", "1000元"]]


def test_a_row_becomes_a_sentence_repeating_the_headers() -> None:
    assert row_sentences([HEADER, *ROWS]) == [
        "博士：一次性安家补贴6万元，每月租房补贴3000元。",
        "硕士：一次性安家补贴3万元，每月租房补贴2000元。",
        "本科：一次性安家补贴1万元，每月租房补贴1000元。",
    ]


def test_serial_numbers_units_blanks_and_a_repeated_header() -> None:
    rows = [
        ["序号", "企业名称", "奖励金额（万元）", "备注"],
        ["1", "武汉甲科技有限公司", "50", "—"],
        ["序号", "企业名称", "奖励金额（万元）", "备注"],  # the header again after a page break
        ["2", "武汉乙科技有限公司", "30", "首次认定"],
        ["3", "武汉丙科技有限公司", "", ""],
    ]
    assert row_sentences(rows) == [
        "武汉甲科技有限公司：奖励金额50万元。",
        "武汉乙科技有限公司：奖励金额30万元，备注：首次认定。",
        "武汉丙科技有限公司。",
    ]


def test_numbers_only_columns_years_and_a_headerless_serial_column() -> None:
    assert row_sentences([["年份", "企业数", "产值（亿元）"], ["2024", "120", "35.6"], ["2025", "130", "40"]]) == [
        "2024年：企业数120，产值35.6亿元。",
        "2025年：企业数130，产值40亿元。",
    ]  # fmt: skip
    assert row_sentences([["1", "甲公司", "50万元"], ["2", "乙公司", "30万元"], ["3", "丙公司", "-"]]) == [
        "甲公司：50万元。",
        "乙公司：30万元。",
        "丙公司。",
    ]  # fmt: skip


def test_merged_cells_two_header_rows_a_caption_and_group_rows() -> None:
    rows = [
        ["2026年人才补贴标准", None, None],  # a caption spanning the table
        ["人才类别", "补贴标准", None],  # 补贴标准 spans two columns …
        [None, "安家", "租房"],  # … over these two
        ["一、高层次人才", None, None],  # a group row
        ["博士", "6万元", "3000元"],
        [None, "（另）1万元", None],  # the label merged down from 博士
    ]
    assert row_sentences(rows) == [
        "2026年人才补贴标准",
        "一、高层次人才",
        "博士：补贴标准安家6万元，补贴标准租房3000元。",
        "博士：补贴标准安家：（另）1万元。",
    ]


def test_two_columns_are_label_and_value_and_wide_rows_are_split() -> None:
    assert row_sentences([["咨询电话", "027-5000-0002"], ["办理地点", "市民之家"]]) == [
        "咨询电话：027-5000-0002。",
        "办理地点：市民之家。",
    ]
    header = ["区域", *[f"{m}月" for m in range(1, 13)]]
    row = ["江岸", *[str(n) for n in range(1, 13)]]
    wide = row_sentences([header, row])
    assert len(wide) == 2 and all(s.startswith("江岸：") for s in wide)
    assert "1月1" in wide[0] and "12月12" in wide[1]


def write_table_pdf(
    path: Path, rows: list[list[str]], repeat_header: bool = True, running: bool = False
) -> Path:
    """A notice with a ruled table between two paragraphs (long tables break across pages);
    `running`: a running header and a page number on every page."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    style = ParagraphStyle("zh", fontName="STSong-Light", fontSize=11, leading=16)
    table = Table(rows, repeatRows=1 if repeat_header else 0)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "STSong-Light"),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ]
        )
    )

    def furniture(canvas: Any, doc: Any) -> None:
        if running:
            canvas.setFont("STSong-Light", 9)
            canvas.drawString(72, A4[1] - 40, "江岸区人才工作局文件汇编")
            canvas.drawCentredString(A4[0] / 2, 30, f"- {doc.page} -")

    SimpleDocTemplate(str(path), pagesize=A4, title="人才安家补贴标准").build(
        [
            Paragraph("关于公布人才安家补贴标准的通知", style),
            Paragraph("各有关单位：现将人才安家补贴标准公布如下。", style),
            table,
            Paragraph("本标准自发布之日起施行，由区人才工作局负责解释。", style),
        ],
        onFirstPage=furniture,
        onLaterPages=furniture,
    )
    return path


def test_pdf_page_text_keeps_the_order_of_text_and_table(tmp_path: Path) -> None:
    import pdfplumber

    path = write_table_pdf(tmp_path / "talent.pdf", [HEADER, *ROWS])
    with pdfplumber.open(str(path)) as pdf:
        text = pdf_page_text(pdf.pages[0])
    lines = text.splitlines()
    assert lines == [
        "关于公布人才安家补贴标准的通知",
        "各有关单位：现将人才安家补贴标准公布如下。",
        "博士：一次性安家补贴6万元，每月租房补贴3000元。",
        "硕士：一次性安家补贴3万元，每月租房补贴2000元。",
        "本科：一次性安家补贴1万元，每月租房补贴1000元。",
        "本标准自发布之日起施行，由区人才工作局负责解释。",
    ]


@pytest.mark.parametrize("running", [False, True])
@pytest.mark.parametrize("repeat_header", [True, False])
def test_a_table_continued_on_the_next_page_keeps_its_header(
    tmp_path: Path, repeat_header: bool, running: bool
) -> None:
    import pdfplumber

    rows = [HEADER] + [[f"第{i}类人才", f"{i}万元", f"{i}00元"] for i in range(1, 61)]
    path = write_table_pdf(tmp_path / "long.pdf", rows, repeat_header, running)
    with pdfplumber.open(str(path)) as pdf:
        assert len(pdf.pages) >= 2
        pages = strip_running_lines(list(pdf_pages_text(pdf.pages)))
    assert "汇编" not in "".join(pages) and "- 2 -" not in "".join(pages)
    text = "\n".join(pages)
    for i in (1, 45, 60):
        assert f"第{i}类人才：一次性安家补贴{i}万元，每月租房补贴{i}00元。" in text
    assert "人才类别" not in text  # the header is in every sentence, never a line of its own
    assert pages[-1].endswith("本标准自发布之日起施行，由区人才工作局负责解释。")


def write_table_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("企业研发奖励办法", level=0)
    document.add_paragraph("对认定的研发机构按级别给予一次性奖励，标准如下：")
    table = document.add_table(rows=4, cols=3)
    cells = [
        ["机构级别", "一次性奖励", "年度运行补贴"],
        ["国家级研发机构", "200万元", "50万元"],
        ["省级研发机构", "80万元", "20万元"],
        ["市级研发机构", "30万元", "—"],
    ]
    for i, row in enumerate(cells):
        for j, value in enumerate(row):
            table.cell(i, j).text = value
    merged = document.add_table(rows=3, cols=3)
    merged.cell(0, 0).text = "人员"
    merged.cell(0, 1).merge(merged.cell(0, 2)).text = "奖励"
    merged.cell(1, 1).text = "个人"
    merged.cell(1, 2).text = "团队"
    merged.cell(0, 0).merge(merged.cell(1, 0))
    merged.cell(2, 0).text = "首席科学家"
    merged.cell(2, 1).text = "10万元"
    merged.cell(2, 2).text = "40万元"
    document.add_paragraph("申报材料报区科技局。")
    document.save(str(path))
    return path


def test_docx_tables_are_sentences_where_they_stand(tmp_path: Path) -> None:
    (doc,) = parse_file(write_table_docx(tmp_path / "rd.docx"), tmp_path)
    assert doc.text.splitlines() == [
        "# 企业研发奖励办法",
        "对认定的研发机构按级别给予一次性奖励，标准如下：",
        "国家级研发机构：一次性奖励200万元，年度运行补贴50万元。",
        "省级研发机构：一次性奖励80万元，年度运行补贴20万元。",
        "市级研发机构：一次性奖励30万元。",
        "首席科学家：奖励个人10万元，奖励团队40万元。",
        "申报材料报区科技局。",
    ]


def write_table_xlsx(path: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "停车补贴"
    ws.append(["2026年园区企业停车补贴标准"])
    ws.merge_cells("A1:C1")
    ws.append(["企业类型", "每月停车补贴（元）", "补贴车位数"])
    ws.append(["总部企业", 800, 20])
    ws.append(["高新技术企业", 500.0, 10])
    contacts = wb.create_sheet("咨询电话")
    contacts.append(["部门", "电话"])
    contacts.append(["区商务局", "027-8277-0001"])
    wb.create_sheet("空白")
    wb.save(str(path))
    return path


def test_xlsx_without_faq_columns_is_a_document_with_a_section_per_sheet(tmp_path: Path) -> None:
    (doc,) = parse_file(write_table_xlsx(tmp_path / "parking.xlsx"), tmp_path)
    assert doc.kind == "document" and doc.title == "2026年园区企业停车补贴标准"
    assert doc.text == (
        "## 停车补贴\n2026年园区企业停车补贴标准\n"
        "总部企业：每月停车补贴800元，补贴车位数20。\n"
        "高新技术企业：每月停车补贴500元，补贴车位数10。\n\n"
        "## 咨询电话\n区商务局：027-8277-0001。"
    )


def test_xlsx_with_faq_columns_stays_an_faq_and_big_sheets_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faq = write_xlsx(tmp_path / "qa.xlsx", [("人才公寓租金多少？", "市场价的一半。")])
    (entry,) = parse_file(faq, tmp_path)
    assert entry.kind == "faq" and entry.text == "市场价的一半。"
    path = write_table_xlsx(tmp_path / "parking.xlsx")
    with pytest.raises(IngestError, match="too much text"):
        parse_file(path, tmp_path, max_chars=40)
    monkeypatch.setattr(parsers, "MAX_SHEET_ROWS", 2)
    with pytest.raises(IngestError, match="too large"):
        parse_file(path, tmp_path)


@pytest.fixture(scope="module")
def table_bot(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Assistant]:
    """The three tables, one per format, ingested together."""
    root = tmp_path_factory.mktemp("tables")
    folder = root / "kb"
    folder.mkdir()
    write_table_pdf(folder / "talent.pdf", [HEADER, *ROWS])
    write_table_docx(folder / "rd.docx")
    write_table_xlsx(folder / "parking.xlsx")
    settings = Settings(data_dir=root / "data")
    index = KnowledgeIndex.open(settings, embedder)
    report = Ingestor(index, progress=False).run([folder])
    index.close()
    assert report.ok, report.failed
    bot = Assistant(settings, embedder=embedder)
    yield bot
    bot.close()


@pytest.mark.parametrize(
    ("question", "doc_id", "row"),
    [
        ("博士的一次性安家补贴是多少？", "talent", "博士：一次性安家补贴6万元"),
        ("省级研发机构一次性奖励多少钱？", "rd", "省级研发机构：一次性奖励80万元"),
        ("高新技术企业每月停车补贴多少？", "parking", "高新技术企业：每月停车补贴500元"),
    ],
)
def test_a_question_about_one_row_is_answered_with_that_row(
    table_bot: Assistant, question: str, doc_id: str, row: str
) -> None:
    answer = table_bot.ask(question)
    assert answer.answered, answer.refusal_reason
    assert answer.sources[0].doc_id == doc_id
    assert row in answer.text
