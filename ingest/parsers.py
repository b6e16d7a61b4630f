"""File parsers: every supported format becomes one or more `Document`s."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bot.errors import IngestError, UnsupportedFormatError
from bot.models import Document, web_url
from bot.policies import eligibility
from bot.policies.validity import from_text as validity_from_text
from bot.policies.validity import parse_date
from ingest import ocr as ocr_module
from ingest.markdown import flatten
from ingest.ocr import OcrContext

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_MD_TITLE = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.M)
FAQ_CATEGORY = "常见问题"
log = logging.getLogger(__name__)
logging.getLogger("pypdf").setLevel(logging.ERROR)  # it warns per object; we report per file


def default_doc_id(path: Path, root: Path) -> str:
    """Path relative to the ingested root, without suffix, with forward slashes."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        rel = Path(path.name)
    return rel.with_suffix("").as_posix()


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise IngestError(
        f"{path.name}: not UTF-8 or GB18030 text", message_zh=f"{path.name}：文本编码无法识别"
    )


def _require_text(path: Path, text: str) -> str:
    if not text.strip():
        raise IngestError(
            f"{path.name}: no text found in the file",
            message_zh=f"{path.name}：文件中没有可读取的文字",
        )
    return text


def _as_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _impossible_date(front_matter: str) -> tuple[str, str]:
    """The key and value of the front matter's first date that does not exist."""
    for m in re.finditer(r"^\s*([\w-]+)\s*:\s*(\d{4}-\d{1,2}-\d{1,2})\s*$", front_matter, re.M):
        try:
            dt.date.fromisoformat(m.group(2))
        except ValueError:
            return m.group(1), m.group(2)
    return "front matter", "?"


def parse_markdown(path: Path, root: Path) -> list[Document]:
    text = _read_text(path)
    meta: dict[str, Any] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            raise IngestError(
                f"{path.name}: bad front matter: {exc}",
                message_zh=f"{path.name}：文件头（front matter）格式错误",
            ) from exc
        except ValueError as exc:  # YAML read 2023-02-30 as a date and could not build it
            key, value = _impossible_date(match.group(1))
            raise IngestError(
                f"{path.name}: {key}: {value} is not a real date",
                message_zh=f"{path.name}：{key} 的日期 {value} 不存在",
            ) from exc
        if not isinstance(loaded, dict):
            raise IngestError(
                f"{path.name}: front matter is not a mapping",
                message_zh=f"{path.name}：文件头必须是键值对",
            )
        meta = loaded
        text = text[match.end() :]
    body = flatten(_require_text(path, text))
    heading = _MD_TITLE.search(body)
    title = _as_str(meta.get("title")) or (heading.group(1) if heading else path.stem)
    sample = meta.get("sample", False)
    return [
        Document(
            **_kind_fields(path, meta),
            doc_id=_as_str(meta.get("id")) or default_doc_id(path, root),
            title=title,
            text=body,
            category=_as_str(meta.get("category")),
            department=_as_str(meta.get("department")),
            contact=_as_str(meta.get("contact")),
            url=web_url(_as_str(meta.get("url"))),
            updated=_as_str(meta.get("updated")),
            sample=sample is True or str(sample).lower() in {"true", "yes", "1"},
        )
    ]


_KINDS = ("document", "service", "policy")


def _kind_fields(path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """`kind`, validity, `benefit` and `eligibility` from front matter, checked against DESIGN.md."""
    kind = _as_str(meta.get("kind")) or "document"
    if kind not in _KINDS:
        # another kind (info, notice …) is an ordinary document; the ingest warns of it
        log.warning(
            "%s: kind %r is read as a plain document (known: %s)",
            path.name,
            kind,
            ", ".join(_KINDS),
        )
        kind = "document"
    out = {"kind": kind, "benefit": _as_str(meta.get("benefit"))[:200]}
    out.update(_official_fields(path, meta))
    for key in ("valid_from", "valid_until"):
        if meta.get(key) in (None, ""):
            continue
        try:
            out[key] = parse_date(meta[key]).isoformat()
        except ValueError:
            raise IngestError(
                f"{path.name}: {key} must be a date YYYY-MM-DD, not {meta[key]!r}",
                message_zh=f"{path.name}：{key} 必须是日期（YYYY-MM-DD），现为 {meta[key]!r}",
            ) from None
    if out.get("valid_from") and out.get("valid_until") and out["valid_from"] > out["valid_until"]:
        raise IngestError(
            f"{path.name}: valid_from is after valid_until",
            message_zh=f"{path.name}：valid_from（生效日期）晚于 valid_until（失效日期）",
        )
    try:
        out["eligibility"] = eligibility.dumps(eligibility.parse(meta.get("eligibility")))
    except eligibility.EligibilityError as exc:
        raise IngestError(
            f"{path.name}: bad eligibility: {exc.message}",
            message_zh=f"{path.name}：适用条件（eligibility）有误：{exc.message_zh}",
        ) from None
    return out


def _official_fields(path: Path, meta: dict[str, Any]) -> dict[str, str]:
    """A government document's 文号, issuer and date of issue as its front matter gives them."""
    from ingest.govdoc import parse_date as official_date
    from ingest.govdoc import parse_doc_number

    out = {}
    number = _as_str(meta.get("doc_number"))
    if number:
        parsed = parse_doc_number(number if number.endswith("号") else number + "号")
        out["doc_number"] = str(parsed) if parsed else number
    if _as_str(meta.get("issuer")):
        out["issuer"] = _as_str(meta.get("issuer"))
    issued = _as_str(meta.get("issued"))
    if issued:
        try:
            out["issued"] = parse_date(issued).isoformat()
        except ValueError:
            out["issued"] = official_date(issued)
            if not out["issued"]:
                raise IngestError(
                    f"{path.name}: issued must be a date YYYY-MM-DD, not {issued!r}",
                    message_zh=f"{path.name}：issued（成文日期）必须是日期（YYYY-MM-DD），现为 {issued!r}",
                ) from None
    return out


def _with_validity(doc: Document) -> Document:
    """A term the text states (有效期至2025年12月31日), for documents whose front matter gives none."""
    if doc.kind == "faq" or doc.valid_from or doc.valid_until:
        return doc
    found = validity_from_text(doc.text)
    if not found:
        return doc
    return dataclasses.replace(
        doc,
        valid_from=found.valid_from,
        valid_until=found.valid_until,
        validity_phrase=found.phrase,
    )


def _title_from_first_line(line: str) -> str:
    """A plain-text title: the first line, or its head when the file is one long line."""
    line = line.strip()
    if len(line) <= 60:
        return line
    head = re.split(r"\s{1,}|(?<=[。！？])", line, maxsplit=1)[0]
    return head if len(head) <= 60 else head[:40] + "…"


def parse_txt(path: Path, root: Path) -> list[Document]:
    text = _require_text(path, _read_text(path)).strip()
    first, _, rest = text.partition("\n")
    if rest.strip() and len(first.strip()) <= 60:
        return [Document(doc_id=default_doc_id(path, root), title=first.strip(), text=rest.strip())]
    # One long line (or a long first paragraph): its head is the title, the text stays whole.
    return [
        Document(doc_id=default_doc_id(path, root), title=_title_from_first_line(first), text=text)
    ]


def parse_html(path: Path, root: Path) -> list[Document]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_text(path), "lxml")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "template"]):
        tag.decompose()
    meta_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    lines: list[str] = []
    body = soup.body or soup
    for el in body.find_all(
        ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "td", "th", "pre", "blockquote", "div"]
    ):
        if el.name == "div" and el.find(["p", "div", "li", "h1", "h2", "h3", "h4", "table"]):
            continue  # only leaf divs carry text of their own
        text = el.get_text(" ", strip=True)
        if not text:
            continue
        if el.name[0] == "h":
            lines.append("#" * int(el.name[1]) + " " + text)
        else:
            lines.append(text)
    content = _require_text(path, "\n".join(lines))
    h1 = soup.find("h1")
    title = meta_title or (h1.get_text(" ", strip=True) if h1 else "") or path.stem
    return [Document(doc_id=default_doc_id(path, root), title=title, text=content)]


# The most XML a .docx may unpack to per character of text it is allowed: Word writes
# heavy markup (a run per formatting change, revision marks), rarely 30 bytes a character.
XML_BYTES_PER_CHAR = 64
MAX_UNZIPPED = 50 * 1024 * 1024  # what any Office file may unpack to (XML this size costs GBs)


def too_much_text(name: str, chars: int | None, limit: int) -> IngestError:
    """The refusal of a file holding more text than `BOT_MAX_FILE_CHARS` (None: counting stopped)."""
    said = f"{chars:,}" if chars is not None else f"more than {limit:,}"
    said_zh = f"约 {chars:,} 字" if chars is not None else f"超过 {limit:,} 字"
    return IngestError(
        f"{name}: too much text ({said} characters; at most {limit:,} per file,"
        " BOT_MAX_FILE_CHARS): split it into smaller files",
        message_zh=f"{name}：文字过多（{said_zh}，每个文件最多 {limit:,} 字，"
        "见设置 BOT_MAX_FILE_CHARS），请拆分成较小的文件后再上传",
    )


def check_zip(path: Path, max_chars: int | None = None) -> None:
    """Refuse an Office file before decompressing it when it unpacks to too much.

    The sizes come from the zip directory, so a 3 KB file that would unpack to
    hundreds of MB (or to more XML than `max_chars` of text can need) costs nothing.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise IngestError(
            f"{path.name}: not a valid Office file ({exc})",
            message_zh=f"{path.name}：不是有效的 Office 文件",
        ) from exc
    total = sum(i.file_size for i in infos)
    if total > MAX_UNZIPPED:
        raise IngestError(
            f"{path.name}: unpacks to {total // (1024 * 1024)} MB, more than"
            f" {MAX_UNZIPPED // (1024 * 1024)} MB (a zip bomb?)",
            message_zh=f"{path.name}：解压后达 {total // (1024 * 1024)} MB，"
            f"超过 {MAX_UNZIPPED // (1024 * 1024)} MB 上限，已拒绝",
        )
    body = next((i.file_size for i in infos if i.filename == "word/document.xml"), 0)
    if max_chars is not None and body > max_chars * XML_BYTES_PER_CHAR:
        raise too_much_text(path.name, None, max_chars)


def parse_docx(path: Path, root: Path, max_chars: int | None = None) -> list[Document]:
    """Paragraphs (headings as Markdown headings) and tables (a sentence per row) in body
    order; stops past `max_chars`."""
    import docx

    check_zip(path, max_chars)
    try:
        doc = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several unrelated types for broken files
        raise IngestError(
            f"{path.name}: not a readable .docx file ({exc.__class__.__name__})",
            message_zh=f"{path.name}：无法读取的 Word 文件",
        ) from exc
    title = (doc.core_properties.title or "").strip()
    # Style names by id, read once: `paragraph.style` searches every style for the default
    # on each call, which made 3,000 paragraphs take 5 s.
    style_names = {s.style_id: s.name or "" for s in doc.styles}
    lines: list[str] = []
    size = 0

    def add(line: str) -> None:
        nonlocal size
        lines.append(line)
        size += len(line) + 1
        if max_chars is not None and size > max_chars:
            raise too_much_text(path.name, None, max_chars)

    from docx.table import Table

    from ingest.tables import docx_rows, row_sentences

    # The body in order: a table's rows become sentences where the table stands.
    for block in doc.iter_inner_content():
        if isinstance(block, Table):
            for sentence in row_sentences(docx_rows(block)):
                add(sentence)
            continue
        para = block
        text = para.text.strip()
        if not text:
            continue
        style_id = para._p.style
        style = style_names.get(style_id, "") if style_id else ""
        if style == "Title":
            title = title or text
            add("# " + text)
        elif style.startswith("Heading"):
            level = int(style.split()[-1]) if style.split()[-1].isdigit() else 2
            add("#" * min(level + 1, 6) + " " + text)
        else:
            add(text)
    content = _require_text(path, "\n".join(lines))
    return [
        Document(
            doc_id=default_doc_id(path, root),
            title=title or _title_from_first_line(lines[0]),
            text=content,
        )
    ]


def parse_pdf(
    path: Path, root: Path, max_chars: int | None = None, ocr: OcrContext | None = None
) -> list[Document]:
    """The text of every page (tables as row sentences); pages without a text layer read
    by OCR when `ocr` is given (ingest/pdf.py); stops reading past `max_chars`."""
    from ingest import pdf

    pages, meta_title, confidences, notes = pdf.parse(path, max_chars, ocr)
    pages = _clean_pages(pages)
    content = _require_text(path, "\n".join(p.strip() for p in pages if p.strip()))
    title = _pdf_title(meta_title) or _title_from_first_line(content.splitlines()[0])
    return [
        Document(
            doc_id=default_doc_id(path, root),
            title=title,
            text=content,
            ocr_pages=ocr_module.pages_json(confidences) if confidences else "",
            page_texts=tuple(pages),
            notes=tuple((n.message, n.message_zh) for n in notes),
        )
    ]


_PLACEHOLDER_TITLES = {"untitled", "无标题", "anonymous", "document", "文档"}


def _pdf_title(meta_title: str) -> str:
    """A PDF's metadata title when it names the document: not a tool's placeholder
    ("untitled"), and without the "Microsoft Word - x.doc" a printer driver puts there."""
    title = re.sub(r"^Microsoft (?:Word|Excel|PowerPoint) - ", "", meta_title.strip())
    title = re.sub(r"\.(?:docx?|wps|xlsx?|pptx?)$", "", title, flags=re.I).strip()
    return "" if title.casefold() in _PLACEHOLDER_TITLES else title


def _clean_pages(pages: list[str]) -> list[str]:
    """Pages without the headers, footers and page numbers repeated on them."""
    from ingest.cleanup import strip_running_lines

    return strip_running_lines(pages)


def parse_image(path: Path, root: Path, ocr: OcrContext | None = None) -> list[Document]:
    """A photographed or scanned notice (.png, .jpg), read by OCR."""
    if ocr is None or not ocr_module.available():
        raise IngestError(
            f"{path.name}: an image, and OCR is not available",
            message_zh=f"{path.name}：图片文件需要文字识别（OCR），当前未启用",
        )
    ocr_module.image_size(path)  # an image bomb is refused before it is decoded
    found = ocr_module.ocr_images(path.name, [(1, path)], ocr).get(1)
    if found is None:
        exc = ocr.failed.pop(1, None)
        if exc is not None:
            raise exc
    content = _require_text(path, found.text if found else "")
    lines = [line for line in content.splitlines() if line.strip()]
    return [
        Document(
            doc_id=default_doc_id(path, root),
            title=_title_from_first_line(lines[0]),
            text=content,
            ocr_pages=ocr_module.pages_json({1: found.confidence}) if found else "",
            page_texts=(content,),
        )
    ]


_QUESTION_COLS = {"question", "问题", "q"}
_ANSWER_COLS = {"answer", "答案", "回答", "a"}
_ALTERNATIVE_COLS = {"alternatives", "相似问法", "相似问题", "其他问法"}
# Alternative phrasings in one cell: one per line, or separated by | or ；
_ALTERNATIVE_SPLIT = re.compile(r"[\n|｜；;]+")


def split_alternatives(cell: str) -> tuple[str, ...]:
    """The other ways of asking an FAQ question, from one table cell."""
    return tuple(dict.fromkeys(a.strip() for a in _ALTERNATIVE_SPLIT.split(cell) if a.strip()))


def _faq_documents(path: Path, root: Path, rows: list[list[Any]]) -> list[Document]:
    if not rows:
        raise IngestError(
            f"{path.name}: the FAQ table is empty", message_zh=f"{path.name}：问答表为空"
        )
    header = [_as_str(h).lower() for h in rows[0]]
    try:
        qi = next(i for i, h in enumerate(header) if h in _QUESTION_COLS)
        ai = next(i for i, h in enumerate(header) if h in _ANSWER_COLS)
    except StopIteration:
        raise IngestError(
            f"{path.name}: a FAQ table needs the columns question,answer[,category]; found {header}",
            message_zh=f"{path.name}：问答表必须包含 question、answer 列（可选 category）",
        ) from None
    col = {
        name: header.index(name)
        for name in ("category", "department", "contact", "url")
        if name in header
    }
    alt = next((i for i, h in enumerate(header) if h in _ALTERNATIVE_COLS), None)
    base = default_doc_id(path, root)
    docs: list[Document] = []
    for n, row in enumerate(rows[1:], start=1):
        cells = [_as_str(c) for c in row] + [""] * len(header)
        question, answer = cells[qi], cells[ai]
        if not question or not answer:
            continue
        docs.append(
            Document(
                doc_id=f"{base}#{n}",
                title=question,
                text=answer,
                category=cells[col["category"]] if "category" in col else FAQ_CATEGORY,
                department=cells[col["department"]] if "department" in col else "",
                contact=cells[col["contact"]] if "contact" in col else "",
                url=web_url(cells[col["url"]]) if "url" in col else "",
                kind="faq",
                alternatives=split_alternatives(cells[alt]) if alt is not None else (),
            )
        )
    if not docs:
        raise IngestError(
            f"{path.name}: no question/answer rows",
            message_zh=f"{path.name}：问答表中没有有效的问答行",
        )
    return docs


def parse_csv(path: Path, root: Path) -> list[Document]:
    try:
        rows = list(csv.reader(io.StringIO(_read_text(path))))
    except csv.Error as exc:
        raise IngestError(
            f"{path.name}: malformed CSV ({exc})", message_zh=f"{path.name}：CSV 格式错误"
        ) from exc
    return _faq_documents(path, root, rows)


# What a spreadsheet that is not an FAQ table may hold: more is refused (a sheet of a
# million formula rows is data, not a document to answer from).
MAX_SHEET_ROWS = 20_000
MAX_WORKBOOK_CELLS = 500_000


def _is_faq_header(row: list[Any]) -> bool:
    header = {_as_str(h).lower() for h in row}
    return bool(header & _QUESTION_COLS) and bool(header & _ANSWER_COLS)


def parse_xlsx(path: Path, root: Path, max_chars: int | None = None) -> list[Document]:
    """An FAQ table (first sheet with question/answer columns: one entry per row), else one
    document whose sections are the sheets, one sentence per row (ingest/tables.py)."""
    import zipfile

    from openpyxl import load_workbook

    check_zip(path)
    try:
        wb = load_workbook(str(path), read_only=True, data_only=True)
        try:
            title = _as_str(wb.properties.title)
            sheets = _sheet_rows(path, wb)
        finally:
            wb.close()
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise IngestError(
            f"{path.name}: not a readable .xlsx file ({exc})",
            message_zh=f"{path.name}：无法读取的 Excel 文件",
        ) from exc
    first = sheets[0][1] if sheets else []
    if first and _is_faq_header(first[0]):
        return _faq_documents(path, root, first)
    return [_workbook_document(path, root, sheets, title, max_chars)]


def _sheet_rows(path: Path, wb: Any) -> list[tuple[str, list[list[Any]]]]:
    """Each sheet's non-empty rows, bounded by MAX_SHEET_ROWS and MAX_WORKBOOK_CELLS; only
    the first sheet's when it is an FAQ table (read as before: the rest is not looked at)."""
    sheets: list[tuple[str, list[list[Any]]]] = []
    cells = 0
    for ws in wb.worksheets:
        if len(sheets) == 1 and sheets[0][1] and _is_faq_header(sheets[0][1][0]):
            break
        rows: list[list[Any]] = []
        for row in ws.iter_rows(values_only=True):
            if not any(c is not None for c in row):
                continue
            rows.append(list(row))
            cells += len(row)
            faq = not sheets and _is_faq_header(rows[0])  # an FAQ table: unbounded, as before
            if not faq and (len(rows) > MAX_SHEET_ROWS or cells > MAX_WORKBOOK_CELLS):
                raise IngestError(
                    f"{path.name}: sheet {ws.title!r} is too large (more than"
                    f" {MAX_SHEET_ROWS:,} rows or {MAX_WORKBOOK_CELLS:,} cells)",
                    message_zh=f"{path.name}：工作表“{ws.title}”过大（超过 {MAX_SHEET_ROWS:,} 行"
                    f"或 {MAX_WORKBOOK_CELLS:,} 个单元格），请拆分后再上传",
                )
        sheets.append((str(ws.title), rows))
    return sheets


def _workbook_document(
    path: Path,
    root: Path,
    sheets: list[tuple[str, list[list[Any]]]],
    title: str,
    max_chars: int | None,
) -> Document:
    """One section per sheet; the title: the workbook's, its first caption row, the file name."""
    from ingest.tables import row_sentences

    parts: list[str] = []
    size = 0
    for name, rows in sheets:
        sentences = row_sentences([[_cell_text(c) for c in r] for r in rows])
        if not sentences:
            continue
        parts.append(f"## {name}\n" + "\n".join(sentences))
        size += len(parts[-1])
        if max_chars is not None and size > max_chars:
            raise too_much_text(path.name, None, max_chars)
    content = _require_text(path, "\n\n".join(parts))
    first = sheets[0][1] if sheets else []
    caption = [_as_str(c) for c in first[0] if _as_str(c)] if first else []
    if not title and len(caption) == 1 and len(first) > 1 and len(caption[0]) <= 60:
        title = caption[0]
    return Document(doc_id=default_doc_id(path, root), title=title or path.stem, text=content)


def _cell_text(value: Any) -> str | None:
    """A spreadsheet value as text (None kept: a cell under a merge); 60000.0 → 60000."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None if value is None else _as_str(value)


def parse_ofd(path: Path, root: Path) -> list[Document]:
    """An OFD (GB/T 33190) package's text, read in a child process with a time and memory
    limit (ingest/ofd.py, ingest/isolate.py)."""
    from ingest.isolate import convert

    result = convert("ingest.ofd:read", path)
    content = _require_text(path, str(result.get("text", "")))
    title = str(result.get("title", "")).strip() or _title_from_first_line(content.splitlines()[0])
    return [Document(doc_id=default_doc_id(path, root), title=title, text=content)]


def parse_office_legacy(path: Path, root: Path, max_chars: int | None = None) -> list[Document]:
    """A legacy Word .doc, WPS Writer .wps or WPS spreadsheet .et, converted by LibreOffice
    in a child process with a time and memory limit, then read as .docx / .xlsx
    (ingest/legacy.py)."""
    from ingest.legacy import parse

    return parse(path, root, max_chars)


def parse_pptx(path: Path, root: Path, max_chars: int | None = None) -> list[Document]:
    """A PowerPoint .pptx's slides ("## 第N页 title", their text, tables and notes), read in
    a child process with a time and memory limit (ingest/slides.py)."""
    from ingest.isolate import convert

    check_zip(path, max_chars)
    result = convert("ingest.slides:read", path)
    content = _require_text(path, str(result.get("text", "")))
    if max_chars is not None and len(content) > max_chars:
        raise too_much_text(path.name, len(content), max_chars)
    first = next(line for line in content.splitlines() if line.strip())
    title = str(result.get("title", "")).strip() or _title_from_first_line(first.lstrip("# "))
    return [Document(doc_id=default_doc_id(path, root), title=title, text=content)]


PARSERS: dict[str, Callable[[Path, Path], list[Document]]] = {
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".txt": parse_txt,
    ".html": parse_html,
    ".htm": parse_html,
    ".docx": parse_docx,
    ".pdf": parse_pdf,
    ".csv": parse_csv,
    ".xlsx": parse_xlsx,
    ".ofd": parse_ofd,
    ".doc": parse_office_legacy,
    ".wps": parse_office_legacy,
    ".et": parse_office_legacy,
    ".pptx": parse_pptx,
    ".png": parse_image,  # read by OCR: parse_file passes the OCR context
    ".jpg": parse_image,
    ".jpeg": parse_image,
}


# Parsers that stop reading once a file holds more than the allowed text.
_BOUNDED: dict[str, Callable[[Path, Path, int | None], list[Document]]] = {
    ".docx": parse_docx,
    ".doc": parse_office_legacy,
    ".wps": parse_office_legacy,
    ".pptx": parse_pptx,
    ".xlsx": parse_xlsx,
}


def parse_file(
    path: Path, root: Path, max_chars: int | None = None, ocr: OcrContext | None = None
) -> list[Document]:
    """Parse one file into documents; raises `IngestError` with the reason.

    `max_chars` (BOT_MAX_FILE_CHARS): a file whose documents hold more text is refused,
    before its text is read further where the format allows (.docx, .pdf). `ocr`: how
    scanned pages and images are read (None: they are not).
    """
    suffix = path.suffix.lower()
    parser = PARSERS.get(suffix)
    if parser is None:
        raise UnsupportedFormatError(
            f"{path.name}: unsupported format {path.suffix or '(none)'}; supported: {', '.join(sorted(PARSERS))}",
            message_zh=f"{path.name}：不支持的文件格式",
        )
    if suffix == ".pdf":
        docs = parse_pdf(path, root, max_chars, ocr)
    elif suffix in ocr_module.IMAGE_SUFFIXES:
        docs = parse_image(path, root, ocr)
    elif suffix in _BOUNDED:
        docs = _BOUNDED[suffix](path, root, max_chars)
    else:
        docs = parser(path, root)
    chars = sum(len(d.text) for d in docs)
    if max_chars is not None and chars > max_chars:
        raise too_much_text(path.name, chars, max_chars)
    return [
        _with_validity(
            _as_read(
                dataclasses.replace(d, source_path=str(path), title=d.title.strip() or d.doc_id),
                path.suffix.lower(),
            )
        )
        for d in docs
    ]


# Formats whose lines are the author's own: kept as written (Markdown), or rows (tables).
_OWN_LINES = {".md", ".markdown", ".csv", ".xlsx"}


def _as_read(doc: Document, suffix: str) -> Document:
    """A document as the reader should see it: lines broken inside sentences joined and
    full-width letters and digits made half-width (ingest/cleanup.py), its 文号, issuer, date
    of issue and attachments read off the text (ingest/govdoc.py). FAQ entries as written."""
    from ingest.cleanup import join_broken_lines, normalise_width
    from ingest.govdoc import enrich

    if doc.kind == "faq":
        return doc
    markdown = suffix in (".md", ".markdown")
    if not markdown:
        text = doc.text if suffix in _OWN_LINES else join_broken_lines(doc.text)
        doc = dataclasses.replace(
            doc, text=normalise_width(text), title=normalise_width(doc.title).strip()
        )
    return enrich(doc, retitle=not markdown)
