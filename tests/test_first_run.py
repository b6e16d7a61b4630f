"""What district IT meets first (issue 13, point 8): packaging without warnings, a clean
Ctrl-C on `make serve`, `make admin`, a favicon, the settings view in Chinese."""

from __future__ import annotations

import os
import pty
import shutil
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.embedding import Embedder
from bot.index import KnowledgeIndex
from bot.records import Database
from bot.records.database import sqlite_url
from bot.staff import StaffStore
from ingest.pipeline import Ingestor
from tests.conftest import staff_client
from tests.fixtures_files import write_csv, write_markdown
from web.settings_zh import DESCRIPTIONS_ZH

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "s3cret-pass"
MAKE = shutil.which("make")
SETSID = shutil.which("setsid")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_wheel_builds_without_warnings_and_ships_the_pages(tmp_path: Path) -> None:
    """`pip install` used to end in a boxed "Package 'web.static' is absent from packages"."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for package in ("bot", "ingest", "web"):
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation"]
        + ["--no-cache-dir", "-w", str(tmp_path / "dist"), "-v"],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    output = built.stdout + built.stderr
    assert "absent from" not in output and "BuildBackendWarning" not in output, output[-3000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in (
        "web/static/admin.html",
        "web/static/admin.js",
        "web/static/widget.js",
        "web/static/favicon.ico",
        "web/static/favicon.svg",
        "bot/answering/synonyms.txt",
        "bot/policies/eligibility.py",  # a package the old hand-written list left out
        "web/settings_zh.py",
    ):
        assert shipped in names, shipped


@pytest.mark.skipif(MAKE is None or SETSID is None, reason="make or setsid is missing")
def test_ctrl_c_on_make_serve_is_a_clean_stop(tmp_path: Path, kb_settings: Settings) -> None:
    """`make serve` on a terminal (a pseudo-terminal here), then Ctrl-C typed on it: the
    server finishes and exits 0, and make reports nothing (it said `make: *** … Interrupt`
    or `Error 143`) and exits 0."""
    data = tmp_path / "data"
    shutil.copytree(
        kb_settings.data_dir, data
    )  # knowledge/ already indexed: `make ingest` is quick
    port = _port()
    env = {**os.environ, "BOT_DATA_DIR": str(data), "BOT_PORT": str(port)}
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        # a session of its own whose controlling terminal is the pty, as in a terminal window;
        # -o: the install stamp counts as done (this test must not reinstall the venv)
        [SETSID, "-w", "-c", MAKE, "-o", ".venv/.installed", "serve"],
        cwd=ROOT,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    output = bytearray()

    def drain() -> None:  # the terminal's screen; a full pty buffer would block the server
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return
            if not chunk:
                return
            output.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        deadline = time.time() + 240
        while time.time() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert proc.poll() is None, output.decode(errors="replace")
        os.write(master, b"\x03")  # Ctrl-C, typed
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(5)
        os.close(master)
    out = output.decode(errors="replace")
    assert proc.returncode == 0, out
    assert "Error" not in out and "Interrupt" not in out and "Traceback" not in out, out
    assert "已停止 stopped" in out


def test_sigterm_stops_the_server_with_status_0(tmp_path: Path, kb_settings: Settings) -> None:
    """A service manager's SIGTERM is a normal stop too (it was 143, "killed by SIGTERM")."""
    data = tmp_path / "data"
    shutil.copytree(kb_settings.data_dir, data)
    port = _port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "web", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "BOT_DATA_DIR": str(data)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 240
        while time.time() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/favicon.ico", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
def test_make_admin_asks_for_the_password_and_creates_the_account(tmp_path: Path) -> None:
    env = {**os.environ, "BOT_DATA_DIR": str(tmp_path)}
    run = subprocess.run(
        [MAKE, "-s", "-o", ".venv/.installed", "admin", "USER=zhang.wei", "ROLE=editor"],
        cwd=ROOT,
        env=env,
        input=f"{PASSWORD}\n{PASSWORD}\n",  # no terminal: getpass reads the two lines
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,  # no controlling terminal to prompt on
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "已创建账号" in run.stdout
    database = Database(sqlite_url(tmp_path / "records.sqlite3"))
    try:
        _, user = StaffStore(database).login("zhang.wei", PASSWORD)
    finally:
        database.close()
    assert user.role == "editor"
    # what the README shows is what make runs
    dry = subprocess.run(
        [MAKE, "-n", "-o", ".venv/.installed", "admin", "USER=li.na"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert '.venv/bin/python -m web create-admin "li.na"' in dry.stdout
    assert "make admin USER=" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture()
def client(tmp_path: Path, embedder: Embedder) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "data", admin_user="root", admin_password=PASSWORD)
    yield from staff_client(settings, embedder, "root", PASSWORD)


def test_favicon_is_served_and_linked(client: TestClient) -> None:
    ico = client.get("/favicon.ico")
    assert ico.status_code == 200 and ico.headers["content-type"] == "image/x-icon"
    assert ico.content[:4] == b"\x00\x00\x01\x00"  # an ICO header
    svg = client.get("/favicon.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg")
    for page in ("/", "/chat", "/admin"):
        assert '<link rel="icon" href="/favicon.svg"' in client.get(page).text, page


def test_every_setting_is_described_in_chinese(client: TestClient) -> None:
    assert set(DESCRIPTIONS_ZH) == set(Settings.model_fields)
    rows = client.get("/api/admin/settings").json()["settings"]
    top_k = next(r for r in rows if r["name"] == "BOT_TOP_K")
    assert top_k["description_zh"] == "每个回答列出的参考来源数。"
    assert top_k["description"] == "Sources returned per answer."  # kept, for compatibility
    assert all(r["description_zh"] for r in rows)


@pytest.fixture()
def library_client(tmp_path: Path, embedder: Embedder) -> Iterator[TestClient]:
    """Three deployed guides and an uploaded FAQ table of three rows."""
    kb = tmp_path / "kb"
    write_markdown(kb / "a.md", "startup", "企业开办指南", "## 时限\n一个工作日办结。", "企业开办")
    write_markdown(kb / "b.md", "talent-flat", "人才公寓申请指南", "## 条件\n硕士可申请。")
    write_markdown(kb / "c.md", "tax-refund", "留抵退税办理指南", "## 材料\n申请表一份。", "税收")
    settings = Settings(data_dir=tmp_path / "data", admin_user="root", admin_password=PASSWORD)
    index = KnowledgeIndex.open(settings, embedder)
    Ingestor(index, progress=False).run([kb])
    index.close()
    for client in staff_client(settings, embedder, "root", PASSWORD):
        table = write_csv(
            tmp_path / "人才服务问答.csv",
            [
                ("人才服务专窗在哪里？", "政务服务中心二楼。", "人才服务"),
                ("人才服务专窗几点上班？", "工作日九点至五点。", "人才服务"),
                ("人才驿站能住几天？", "免费入住七天。", "人才服务"),
            ],
        )
        res = client.post(
            "/api/admin/documents", files=[("files", (table.name, table.read_bytes(), "text/csv"))]
        )
        assert res.status_code == 201, res.text
        yield client


def test_documents_list_pages_searches_and_shows_an_faq_table_as_one_row(
    library_client: TestClient,
) -> None:
    client = library_client
    # unchanged without paging: a plain list, one entry per document (what DESIGN.md shows)
    plain = client.get("/api/admin/documents").json()
    assert isinstance(plain, list) and len(plain) == 6
    assert {"doc_id", "title", "origin", "file", "versions"} <= set(plain[0])

    # grouped: the table is one row, with its row count and ids; paged with a total
    first = client.get("/api/admin/documents", params={"group": "file", "limit": 3}).json()
    assert first["total"] == 4 and first["offset"] == 0 and len(first["documents"]) == 3
    rest = client.get(
        "/api/admin/documents", params={"group": "file", "limit": 3, "offset": 3}
    ).json()
    assert rest["total"] == 4 and len(rest["documents"]) == 1
    rows = first["documents"] + rest["documents"]
    assert len({r["doc_id"] for r in rows}) == 4
    (table,) = [r for r in rows if r["rows"] > 1]
    assert table["rows"] == 3 and len(table["doc_ids"]) == 3
    assert table["title"] == table["file"] == "人才服务问答.csv"
    assert table["origin"] == "upload" and table["versions"][0]["status"] == "live"
    assert table["category"] == "人才服务"
    # the filters' choices cover every document, not only this page
    assert {"企业开办", "人才政策", "税收", "人才服务"} <= set(first["categories"])

    # search: title, id (any case), a question inside a table, file name, department
    def found(q: str) -> list[str]:
        page = client.get("/api/admin/documents", params={"q": q, "group": "file", "limit": 50})
        return [r["title"] for r in page.json()["documents"]]

    assert found("公寓") == ["人才公寓申请指南"]
    assert found("TAX-REFUND") == ["留抵退税办理指南"]
    assert found("几点上班") == ["人才服务问答.csv"]
    assert found("问答.csv") == ["人才服务问答.csv"]
    assert found("人才工作局") == ["企业开办指南", "人才公寓申请指南", "留抵退税办理指南"]
    assert found("没有这个词") == []
    # search without paging stays a plain list
    assert [d["doc_id"] for d in client.get("/api/admin/documents?q=开办").json()] == ["startup"]
    # bad paging is refused with the usual 422
    assert client.get("/api/admin/documents?limit=0").status_code == 422
    assert client.get("/api/admin/documents?group=folder").status_code == 422
