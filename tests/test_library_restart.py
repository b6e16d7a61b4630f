"""A server killed (SIGKILL) while it indexes an upload: on restart the index, the stored
originals and their version records agree, and nothing that was live is lost."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "s3cret-pass"
OLD = """---
id: water-subsidy
title: 江岸区节水改造补贴
category: 绿色低碳
department: 区水务局
---
## 补贴标准
企业完成节水改造的，按投资额的百分之十给予补贴。
"""


def _big_notice() -> bytes:
    """A new version long enough (≈60 chunks) that indexing takes several seconds."""
    body = "\n".join(
        f"## 第{i}条\n"
        + f"第{i}批节水改造项目按投资额的百分之二十给予补贴，单个项目最高{i}万元。" * 12
        for i in range(1, 60)
    )
    return OLD.replace("按投资额的百分之十给予补贴。", body).encode()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`python -m web` as a child process, so it can be killed like a real server."""

    def __init__(self, data_dir: Path) -> None:
        self.port = _port()
        env = {
            **os.environ,
            "BOT_DATA_DIR": str(data_dir),
            "BOT_ADMIN_USER": "root",
            "BOT_ADMIN_PASSWORD": PASSWORD,
            "HF_HUB_OFFLINE": "1",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "web", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            self.kill()
            raise RuntimeError("the server did not start")
        token = httpx.post(
            f"{self.url}/api/admin/login",
            json={"username": "root", "password": PASSWORD},
            timeout=60,
        ).json()["token"]
        self.api = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=120
        )

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


@pytest.fixture()
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data"


def _query(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(data_dir / "records.sqlite3")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def _statuses(data_dir: Path) -> dict[object, object]:
    return dict(
        _query(data_dir, "SELECT version, status FROM library_versions WHERE name='water.md'")
    )


def _indexed_sha(data_dir: Path) -> str | None:
    rows = _query(
        data_dir, "SELECT fingerprint FROM files WHERE path = 'library/water.md'"
    )
    return str(rows[0][0]).split(":")[0] if rows else None


def test_killed_during_a_replace_keeps_the_previous_version(data_dir: Path) -> None:
    server = Server(data_dir)
    try:
        first = server.api.post(
            "/api/admin/documents",
            files=[("files", ("water.md", OLD.encode(), "text/markdown"))],
            data={"contact": "027-1111-1111"},
        )
        assert first.status_code == 201, first.text

        def replace() -> None:
            try:
                server.api.put(
                    "/api/admin/documents/water-subsidy",
                    files={"file": ("water.md", _big_notice(), "text/markdown")},
                    data={"base_version": "1", "contact": "027-2222-2222"},
                )
            except httpx.HTTPError:
                pass  # the server is killed under it

        worker = threading.Thread(target=replace)
        worker.start()
        deadline = time.time() + 60
        while _statuses(data_dir).get(2) != "pending" and time.time() < deadline:
            time.sleep(0.05)
        assert _statuses(data_dir).get(2) == "pending"
        time.sleep(1.0)  # well into embedding ≈60 chunks
        server.kill()
        worker.join(30)
    finally:
        if server.proc.poll() is None:
            server.kill()
    # the half-done state that was left behind: version 2 stored, still pending
    assert _statuses(data_dir) == {1: "live", 2: "pending"}

    server = Server(data_dir)  # start again
    try:
        old_sha = hashlib.sha256(OLD.encode()).hexdigest()
        download = server.api.get("/api/admin/documents/water-subsidy/original")
        assert download.content == OLD.encode()
        assert _indexed_sha(data_dir) == old_sha
        assert _statuses(data_dir) == {1: "live", 2: "rejected"}
        docs = {d["doc_id"]: d for d in server.api.get("/api/admin/documents").json()}
        assert docs["water-subsidy"]["contact"] == "027-1111-1111"  # not the interrupted one's
        versions = docs["water-subsidy"]["versions"]
        assert versions[1]["reason"].startswith("interrupted")
        answer = server.api.post(
            "/api/chat", json={"question": "节水改造补贴按投资额的多少？"}
        ).json()
        assert answer["sources"][0]["doc_id"] == "water-subsidy"
        assert "百分之十" in answer["answer"] and "百分之二十" not in answer["answer"]
        # The editor can simply try again, from the version that is still live.
        again = server.api.put(
            "/api/admin/documents/water-subsidy",
            files={"file": ("water.md", _big_notice(), "text/markdown")},
            data={"base_version": "1"},
        )
        assert again.status_code == 200 and again.json()["version"] == 3
        assert _indexed_sha(data_dir) == hashlib.sha256(_big_notice()).hexdigest()
        audit = [a["action"] for a in server.api.get("/api/admin/audit").json()]
        assert "interrupted" in audit
    finally:
        server.stop()
