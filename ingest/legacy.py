"""Legacy Word `.doc`, WPS Writer `.wps` and WPS spreadsheet `.et` files, read by converting
them with LibreOffice (headless) to .docx / .xlsx, which the usual parsers then read.

The conversion runs through `ingest.isolate`: a child process with a memory limit
(`MEMORY_MB`; LibreOffice reserves much address space, it fails below ~512 MB) and a wall-clock
timeout (`TIMEOUT_S`) at which the child's whole process group — soffice included — is killed.
Each conversion has a LibreOffice profile of its own in a temporary folder
(`-env:UserInstallation`), so conversions running at the same time do not share one.

Before anything is started the file's first bytes must be those of its format: an OLE2
compound file (D0 CF 11 E0 A1 B1 1A E1) — what Word 97–2003 and Kingsoft WPS write — or, for
.wps and .et, a zip (an Office Open XML file saved under the old name; checked against zip
bombs). An executable named .doc is refused by name ("an executable program").

Why LibreOffice and not antiword for .doc: antiword (0.37, unmaintained since 2005) is far
faster but gives plain text only — headings are lost and tables come out as drawn ASCII —
and LibreOffice is needed for .wps and .et anyway; through .docx the same `parse_docx` reads
headings and tables of every Word file alike (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bot.errors import IngestError
from bot.models import Document

TIMEOUT_S = 120.0  # a 300,000-character .doc (BOT_MAX_FILE_CHARS) takes ~30 s on one core
MEMORY_MB = 1536  # address space; LibreOffice 7.4 converts a 1 MB .doc within 512 MB
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP = b"PK\x03\x04"
_EXECUTABLE = (b"\x7fELF", b"MZ", b"#!", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe")
TARGET = {".doc": "docx", ".wps": "docx", ".et": "xlsx"}
# The import filter is named, not guessed: LibreOffice would read a damaged file as plain
# text (pages of mojibake). Kingsoft WPS writes its .wps/.et as Word/Excel 97 binaries.
_FILTER = {
    (".doc", "ole"): "MS Word 97",
    (".wps", "ole"): "MS Word 97",
    (".et", "ole"): "MS Excel 97",
    (".wps", "zip"): "MS Word 2007 XML",
    (".et", "zip"): "Calc MS Excel 2007 XML",
}
_KIND = {".doc": "a Word .doc file", ".wps": "a WPS Writer file", ".et": "a WPS spreadsheet"}
_KIND_ZH = {".doc": "Word 文档", ".wps": "WPS 文字文档", ".et": "WPS 表格"}


def soffice() -> str | None:
    """The LibreOffice program, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def magic_problem(name: str, head: bytes) -> tuple[str, str] | None:
    """Why a file named `name` starting with `head` is not a .doc/.wps/.et file (English,
    Chinese), or None when its first bytes are right."""
    suffix = Path(name).suffix.lower()
    if head.startswith(OLE2) or (suffix != ".doc" and head.startswith(ZIP)):
        return None
    if head.startswith(_EXECUTABLE):
        return (
            f"{name}: the content is an executable program, not {_KIND[suffix]}",
            f"{name}：文件内容是可执行程序，不是{_KIND_ZH[suffix]}，已拒绝",
        )
    return (
        f"{name}: not {_KIND[suffix]} (it does not start as an OLE2 compound file)",
        f"{name}：不是有效的{_KIND_ZH[suffix]}（文件头不符）",
    )


def to_office(path: Path, target: str, out: str, program: str) -> str:
    """Convert `path` to `target` ("docx"/"xlsx") with LibreOffice into the folder `out`;
    the converted file's path. Runs in the `ingest.isolate` child."""
    work = Path(out)
    suffix = path.suffix.lower()
    with path.open("rb") as f:
        container = "zip" if f.read(4) == ZIP else "ole"
    source = work / "in" / f"input{suffix}"
    source.parent.mkdir()
    shutil.copyfile(path, source)  # a plain name: no option-like or odd characters
    done = subprocess.run(
        [
            program,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--invisible",
            "--nologo",
            "--nodefault",
            "--norestore",
            "--nolockcheck",
            f"--infilter={_FILTER[suffix, container]}",
            "--convert-to",
            target,
            "--outdir",
            str(work / "out"),
            str(source),
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env={**os.environ, "HOME": str(work), "SAL_USE_VCLPLUGIN": "svp"},
        check=False,
    )
    converted = work / "out" / f"input.{target}"
    if not converted.is_file() or converted.stat().st_size == 0:
        said = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
        # LibreOffice's own words name the temporary folder: kept to the log (stderr of
        # this child), never put in a message that reaches staff's browsers
        if said:
            sys.stderr.write(f"soffice: {said[-1][:200]}\n")
        raise IngestError(
            f"{path.name}: LibreOffice could not read it (damaged, or not {_KIND[suffix]})",
            message_zh=f"{path.name}：文件已损坏或不是有效的{_KIND_ZH[suffix]}，无法读取",
        )
    return str(converted)


def parse(path: Path, root: Path, max_chars: int | None = None) -> list[Document]:
    """The documents of a .doc/.wps (as `parse_docx` reads them) or .et (as `parse_xlsx`
    does), with the doc ids, titles and reasons of the original file."""
    from ingest.isolate import convert
    from ingest.parsers import check_zip, default_doc_id, parse_docx, parse_xlsx

    suffix = path.suffix.lower()
    with path.open("rb") as f:
        head = f.read(8)
    problem = magic_problem(path.name, head)
    if problem:
        raise IngestError(problem[0], message_zh=problem[1])
    if head.startswith(ZIP):
        check_zip(path, max_chars)
    program = soffice()
    if program is None:
        raise IngestError(
            f"{path.name}: LibreOffice is not installed, so {suffix} files cannot be read"
            " (scripts/install-libreoffice.sh)",
            message_zh=f"{path.name}：未安装 LibreOffice，无法读取 {suffix} 文件",
        )
    target = TARGET[suffix]
    with tempfile.TemporaryDirectory(prefix="ingest-office-") as work:
        converted = Path(
            convert(
                "ingest.legacy:to_office",
                path,
                timeout_s=TIMEOUT_S,
                memory_mb=MEMORY_MB,
                args=(target, work, program),
            )
        )
        # Read it where its doc ids come out as the original's: <tmp>/ids/<id>.<target>
        ids = Path(work) / "ids"
        renamed = ids / f"{default_doc_id(path, root)}.{target}"
        renamed.parent.mkdir(parents=True, exist_ok=True)
        converted.rename(renamed)
        try:
            if target == "docx":
                return parse_docx(renamed, ids, max_chars)
            return parse_xlsx(renamed, ids)
        except IngestError as exc:
            raise IngestError(
                exc.message.replace(renamed.name, path.name),
                message_zh=exc.message_zh.replace(renamed.name, path.name),
            ) from exc
