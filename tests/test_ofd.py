"""OFD (GB/T 33190) files built in the test from their XML structure, read by ingest/ofd.py
in a child process (ingest/isolate.py); broken and hostile packages refused with a reason."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.errors import IngestError
from bot.index import KnowledgeIndex
from ingest.isolate import convert
from ingest.parsers import parse_file
from ingest.pipeline import Ingestor

NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'
TARGETS = Path(__file__).resolve().parent / "isolate_targets.py"


def _text_objects(lines: list[tuple[float, float, str]], per_char: bool) -> str:
    """TextObjects at (x, baseline y) in mm; per_char: one object per character, as real
    OFD writers often do."""
    out, oid = [], 10
    for x, y, text in lines:
        pieces = [(x + 4.0 * i, ch) for i, ch in enumerate(text)] if per_char else [(x, text)]
        for px, piece in pieces:
            oid += 1
            out.append(
                f'<ofd:TextObject ID="{oid}" Boundary="{px} {y - 4} {4 * len(piece)} 5" '
                f'Font="3" Size="4"><ofd:TextCode X="0" Y="4">{piece}</ofd:TextCode>'
                "</ofd:TextObject>"
            )
    return "".join(out)


def _page(lines: list[tuple[float, float, str]], per_char: bool = False) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {NS}><ofd:Content>'
        f'<ofd:Layer ID="2">{_text_objects(lines, per_char)}</ofd:Layer>'
        "</ofd:Content></ofd:Page>"
    )


def write_ofd(path: Path, pages: list[str], title: str = "", absolute: bool = False) -> Path:
    doc_info = f"<ofd:DocInfo><ofd:Title>{title}</ofd:Title></ofd:DocInfo>" if title else ""
    page_refs = "".join(
        f'<ofd:Page ID="{n + 1}" BaseLoc="{"/Doc_0/" if absolute else ""}Pages/Page_{n}/Content.xml"/>'
        for n in range(len(pages))
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "OFD.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {NS} Version="1.0" DocType="OFD">'
            f"<ofd:DocBody>{doc_info}<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>"
            "</ofd:DocBody></ofd:OFD>",
        )
        z.writestr(
            "Doc_0/Document.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {NS}><ofd:CommonData>'
            "<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>"
            f"</ofd:CommonData><ofd:Pages>{page_refs}</ofd:Pages></ofd:Document>",
        )
        for n, page in enumerate(pages):
            z.writestr(f"Doc_0/Pages/Page_{n}/Content.xml", page)
    return path


FIRST = [
    (60.0, 40.0, "江岸区人民政府文件"),
    (80.0, 60.0, "岸政发〔2026〕3号"),
    (30.0, 80.0, "关于支持青年人才安家的通知"),
    (20.0, 100.0, "博士研究生一次性安家补贴6万元。"),
]
SECOND = [(20.0, 40.0, "附件1"), (20.0, 60.0, "硕士研究生一次性安家补贴3万元。")]


@pytest.mark.parametrize("per_char", [False, True])
@pytest.mark.parametrize("absolute", [False, True])
def test_an_ofd_is_read_page_by_page_in_reading_order(
    tmp_path: Path, per_char: bool, absolute: bool
) -> None:
    path = write_ofd(
        tmp_path / "notice.ofd",
        [_page(list(reversed(FIRST)), per_char), _page(SECOND, per_char)],  # written out of order
        title="关于支持青年人才安家的通知",
        absolute=absolute,
    )
    [doc] = parse_file(path, tmp_path)
    assert doc.title == "关于支持青年人才安家的通知" and doc.doc_id == "notice"
    assert doc.text.splitlines() == [
        "江岸区人民政府文件",
        "岸政发〔2026〕3号",
        "关于支持青年人才安家的通知",
        "博士研究生一次性安家补贴6万元。",
        "",
        "## 附件1",  # an attachment's start is a section (ingest/govdoc.py)
        "硕士研究生一次性安家补贴3万元。",
    ]


def test_an_ofd_without_a_title_is_named_by_its_first_line(tmp_path: Path) -> None:
    plain = [(20.0, 40.0, "青年人才安家须知"), (20.0, 60.0, "博士研究生一次性安家补贴6万元。")]
    [doc] = parse_file(write_ofd(tmp_path / "a.ofd", [_page(plain)]), tmp_path)
    assert doc.title == "青年人才安家须知"
    # a red-header notice is named by its own title line, not by 「…文件」 (ingest/govdoc.py)
    [notice] = parse_file(write_ofd(tmp_path / "b.ofd", [_page(FIRST)]), tmp_path)
    assert notice.title == "关于支持青年人才安家的通知"
    assert notice.doc_number == "岸政发〔2026〕3号" and notice.issuer == "江岸区人民政府"


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: (p.write_bytes(b"MZ\x90\x00 not a zip at all"), p)[1], "not an OFD file"),
        (lambda p: _zip(p, {"readme.txt": b"hi"}), "lacks OFD.xml"),
        (lambda p: _zip(p, {"OFD.xml": b"<ofd:OFD"}), "not well-formed"),
        (
            lambda p: _zip(
                p,
                {"OFD.xml": b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'},
            ),
            "DOCTYPE",
        ),
        (lambda p: _zip(p, {"OFD.xml": b"<x/>", "big.xml": b"\0" * (60 * 2**20)}), "zip bomb"),
        (lambda p: write_ofd(p, [_page([])]), "no text"),
    ],
)
def test_broken_and_hostile_packages_are_refused_with_a_reason(
    tmp_path: Path, make: object, reason: str
) -> None:
    path = make(tmp_path / "bad.ofd")  # type: ignore[operator]
    with pytest.raises(IngestError) as refused:
        parse_file(path, tmp_path)
    assert reason in refused.value.message and refused.value.message_zh


def test_a_converter_is_stopped_at_its_memory_and_time_limits(tmp_path: Path) -> None:
    path = tmp_path / "x.doc"
    path.write_bytes(b"x")
    with pytest.raises(IngestError, match="memory") as hog:
        convert(f"{TARGETS}:hog", path, memory_mb=512)
    assert "内存" in hog.value.message_zh
    with pytest.raises(IngestError, match="longer than 1 s"):
        convert(f"{TARGETS}:loop", path, timeout_s=1)
    with pytest.raises(IngestError, match="converter failed"):
        convert(f"{TARGETS}:crash", path)


def test_an_ofd_notice_is_ingested_and_answered(tmp_path: Path, embedder: Embedder) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    write_ofd(
        folder / "talent.ofd", [_page(FIRST, per_char=True), _page(SECOND)], "青年人才安家通知"
    )
    settings = Settings(data_dir=tmp_path / "data")
    index = KnowledgeIndex.open(settings, embedder)
    report = Ingestor(index, progress=False).run([folder])
    index.close()
    assert report.ok, report.failed
    bot = Assistant(settings, embedder=embedder)
    try:
        answer = bot.ask("博士研究生安家补贴是多少？")
        assert answer.answered and "6万元" in answer.text
        assert answer.sources[0].doc_id == "talent"
    finally:
        bot.close()
