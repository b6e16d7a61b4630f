"""The text of an OFD file (GB/T 33190, the national fixed-layout format), read from its
XML package directly.

An .ofd is a zip: `OFD.xml` names each document's root (`DocBody/DocRoot`, e.g.
`Doc_0/Document.xml`), which lists its pages (`Pages/Page@BaseLoc`, relative to the
document's folder or absolute from the package root); each page's `Content.xml` holds
`TextObject`s placed by their `Boundary` ("x y width height", millimetres) and, inside them,
`TextCode`s with their own `X`/`Y` offset. Real files often put every character in an
object of its own, so the text is rebuilt by position: pieces whose baselines lie within
half a character of each other form one line, read left to right; lines top to bottom.

No PyPI reader was usable offline and maintained (easyofd pulls in OpenCV and renders; the
others are unmaintained), and the format's text is plain XML, so this reads it with the
same hardened lxml parser as everywhere else. It runs inside `ingest.isolate` (a child
process with a time and memory limit); the zip is also checked against bombs before
anything is unpacked.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from bot.errors import IngestError

MAX_UNPACKED = 200 * 1024 * 1024  # all XML members together
MAX_RATIO = 200  # unpacked / packed, per member (a zip bomb's is in the thousands)
MAX_PAGES = 2000


@dataclass
class _Piece:
    x: float
    y: float  # baseline
    size: float
    text: str


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(node: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in node.iter() if _local(c.tag) == name]


def _refuse(path: Path, why: str, why_zh: str) -> IngestError:
    return IngestError(f"{path.name}: {why}", message_zh=f"{path.name}：{why_zh}")


class _Package:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError):
            raise _refuse(
                path, "not an OFD file (not a zip package)", "不是有效的 OFD 文件"
            ) from None
        total = 0
        for info in self.zip.infolist():
            total += info.file_size
            if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(
                info.compress_size, 1
            ):
                raise _refuse(
                    path,
                    "a member unpacks to far more than it holds (a zip bomb?)",
                    "文件内容异常（疑似压缩炸弹）",
                )
        if total > MAX_UNPACKED:
            raise _refuse(
                path, f"unpacks to more than {MAX_UNPACKED // 2**20} MB", "解压后内容过大"
            )
        self.names = {info.filename.lstrip("/"): info.filename for info in self.zip.infolist()}

    def xml(self, name: str) -> etree._Element:
        name = posixpath.normpath(name.lstrip("/"))
        member = self.names.get(name)
        if member is None:
            raise _refuse(self.path, f"the package lacks {name}", f"OFD 包中缺少 {name}")
        data = self.zip.read(member)
        if b"<!DOCTYPE" in data[:2048] or b"<!ENTITY" in data:
            raise _refuse(
                self.path, f"{name} declares a DOCTYPE or entities", "OFD 内容含有不允许的声明"
            )
        try:
            return etree.fromstring(data, _parser())
        except etree.XMLSyntaxError:
            raise _refuse(
                self.path, f"{name} is not well-formed XML", f"OFD 中的 {name} 已损坏"
            ) from None


def _numbers(text: str | None, count: int) -> list[float]:
    try:
        values = [float(v) for v in (text or "").split()]
    except ValueError:
        values = []
    return (values + [0.0] * count)[:count]


def _page_pieces(page: etree._Element) -> list[_Piece]:
    pieces: list[_Piece] = []
    for obj in _children(page, "TextObject"):
        bx, by, _w, bh = _numbers(obj.get("Boundary"), 4)
        size = _numbers(obj.get("Size"), 1)[0] or bh or 3.5
        for code in _children(obj, "TextCode"):
            text = "".join(code.itertext())
            if not text.strip():
                continue
            x = bx + _numbers(code.get("X"), 1)[0]
            y = by + _numbers(code.get("Y"), 1)[0]
            pieces.append(_Piece(x, y, size, text))
    return pieces


def _lines(pieces: list[_Piece]) -> list[str]:
    """Pieces on one baseline (within half their size) make a line, left to right."""
    lines: list[list[_Piece]] = []
    for piece in sorted(pieces, key=lambda p: (p.y, p.x)):
        if lines and abs(lines[-1][0].y - piece.y) <= max(lines[-1][0].size, piece.size) / 2:
            lines[-1].append(piece)
        else:
            lines.append([piece])
    out = []
    for line in lines:
        line.sort(key=lambda p: p.x)
        text = ""
        for prev, piece in zip([None, *line[:-1]], line, strict=True):
            gap = piece.x - (prev.x + prev.size * len(prev.text)) if prev else 0.0
            if prev and gap > prev.size * 1.5 and text and not text.endswith(" "):
                text += " "  # a wide gap between table cells or columns
            text += piece.text
        out.append(text.strip())
    return [line for line in out if line]


def read_ofd(path: Path) -> str:
    """The text of every page of every document in the package, pages in order."""
    package = _Package(path)
    root = package.xml("OFD.xml")
    pages_text: list[str] = []
    for doc_root in _children(root, "DocRoot"):
        doc_path = (doc_root.text or "").strip()
        document = package.xml(doc_path)
        base = posixpath.dirname(doc_path.lstrip("/"))
        pages = [p for p in _children(document, "Page") if p.get("BaseLoc")]
        if len(pages) > MAX_PAGES:
            raise _refuse(path, f"more than {MAX_PAGES} pages", f"页数超过 {MAX_PAGES}")
        for page in pages:
            loc = str(page.get("BaseLoc"))
            where = loc.lstrip("/") if loc.startswith("/") else posixpath.join(base, loc)
            lines = _lines(_page_pieces(package.xml(where)))
            if lines:
                pages_text.append("\n".join(lines))
    return "\n\n".join(pages_text)


def read(path: Path) -> dict[str, str]:
    """`{"title", "text"}` of the package (run through `ingest.isolate`)."""
    package = _Package(path)
    titles = _children(package.xml("OFD.xml"), "Title")
    return {"title": (titles[0].text or "").strip() if titles else "", "text": read_ofd(path)}
