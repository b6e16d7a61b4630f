"""Staff accounts: create-admin, log-in, roles on every admin route, rate limiting."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.errors import ConflictError
from tests.conftest import ROOT
from web.app import create_app

PASSWORD = "s3cret-pass"


@pytest.fixture()
def admin_settings(kb_settings: Settings) -> Settings:
    return kb_settings.model_copy(update={"admin_user": "root", "admin_password": PASSWORD})


@pytest.fixture()
def client(admin_settings: Settings, assistant: Assistant) -> Iterator[TestClient]:
    with TestClient(create_app(admin_settings, assistant)) as c:
        yield c


def _login(client: TestClient, username: str, password: str) -> str:
    res = client.post("/api/admin/login", json={"username": username, "password": password})
    assert res.status_code == 200, res.text
    return str(res.json()["token"])


def test_create_admin_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "web", "create-admin", *args, "--data-dir", str(tmp_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    ok = run("alice", "--password", PASSWORD)
    assert ok.returncode == 0 and "created admin alice" in ok.stdout
    assert run("alice", "--password", PASSWORD).returncode == 1  # exists
    short = run("bob", "--password", "short")
    assert short.returncode == 2 and "密码至少" in short.stderr
    (stored,) = (
        sqlite3.connect(tmp_path / "records.sqlite3")
        .execute("SELECT password_hash FROM staff_users WHERE username='alice'")
        .fetchone()
    )
    assert stored.startswith("$2b$") and PASSWORD not in stored


def test_login_gives_a_token_and_a_cookie(client: TestClient) -> None:
    res = client.post("/api/admin/login", json={"username": "root", "password": PASSWORD})
    assert res.status_code == 200 and res.json()["role"] == "admin"
    assert "jiangan_admin" in res.cookies
    token = res.json()["token"]
    me = client.get("/api/admin/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {"username": "root", "role": "admin"}
    client.cookies.set("jiangan_admin", token)
    assert client.get("/api/admin/me").status_code == 200  # the pages' cookie works too
    client.cookies.clear()
    wrong = client.post("/api/admin/login", json={"username": "root", "password": "nope-nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
    assert wrong.headers["www-authenticate"] == "Bearer"
    client.post("/api/admin/logout", headers={"Authorization": f"Bearer {token}"})
    assert (
        client.get("/api/admin/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


def test_every_admin_route_checks_the_role(client: TestClient) -> None:
    admin = {"Authorization": f"Bearer {_login(client, 'root', PASSWORD)}"}
    made = client.post(
        "/api/admin/users",
        json={"username": "ed", "password": PASSWORD, "role": "editor"},
        headers=admin,
    )
    assert made.status_code in (201, 409)
    editor = {"Authorization": f"Bearer {_login(client, 'ed', PASSWORD)}"}
    bogus = {"Authorization": "Bearer not-a-token"}
    admin_only = {
        ("GET", "/api/admin/users"),
        ("POST", "/api/admin/users"),
        ("GET", "/api/admin/audit"),
        ("DELETE", "/api/admin/users/{username}"),
        ("GET", "/api/admin/settings"),
        ("GET", "/api/admin/sensitive-words"),
        ("PUT", "/api/admin/sensitive-words"),
        ("DELETE", "/api/admin/sensitive-words"),
    }
    paths = client.get("/openapi.json").json()["paths"]
    calls = sorted(
        (
            (method.upper(), path)
            for path, operations in paths.items()
            if path.startswith("/api/admin") and path != "/api/admin/login"
            for method in operations
        ),
        key=lambda call: call[1].endswith("/logout"),  # logging out last
    )
    assert len(calls) >= 4
    body = {"username": "x1", "password": PASSWORD, "role": "editor"}
    client.cookies.clear()  # the log-ins above left a session cookie behind
    for method, path in calls:
        for headers in (None, bogus):
            res = client.request(method, path, json=body, headers=headers)
            assert res.status_code == 401, (method, path, res.status_code)
        res = client.request(method, path, json=body, headers=editor)
        if (method, path) in admin_only:
            assert res.status_code == 403, (method, path)
        else:  # let in (the dummy body may still be refused as a bad request)
            assert res.status_code not in (401, 403), (method, path, res.status_code)
    listed = client.get("/api/admin/users", headers=admin).json()
    assert {"username": "ed", "role": "editor"} in listed
    dup = client.post(
        "/api/admin/users", json={"username": "ed", "password": PASSWORD}, headers=admin
    )
    assert dup.status_code == 409


def test_guessing_passwords_is_rate_limited(client: TestClient) -> None:
    for _ in range(5):
        res = client.post("/api/admin/login", json={"username": "root", "password": "guess-123"})
        assert res.status_code == 401
    blocked = client.post("/api/admin/login", json={"username": "root", "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert blocked.json()["error"]["message_zh"] == "登录失败次数过多，请稍后再试"


def test_parallel_guesses_are_counted_before_the_password_check(client: TestClient) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def guess(_: int) -> int:
        res = client.post("/api/admin/login", json={"username": "root", "password": "wrong-guess"})
        return res.status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(guess, range(16)))
    assert codes.count(401) <= 5 and codes.count(429) >= 11


def test_accounts_can_be_removed_but_not_yourself_or_the_last_admin(
    tmp_path: Path, embedder: Embedder
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        admin_user="root",
        admin_password=PASSWORD,
        llm_api_key="sk-very-secret",
        llm_base_url="https://gateway:also-secret@llm.example/v1",
        chroma_headers="X-Proxy-Key: chroma-secret",
    )
    bot = Assistant(settings, embedder=embedder)
    with TestClient(create_app(settings, bot)) as client:
        root = {"Authorization": f"Bearer {_login(client, 'root', PASSWORD)}"}
        created = client.post(
            "/api/admin/users",
            json={"username": "ed", "password": PASSWORD, "role": "editor"},
            headers=root,
        )
        assert created.status_code == 201
        ed = {"Authorization": f"Bearer {_login(client, 'ed', PASSWORD)}"}
        assert client.get("/api/admin/me", headers=ed).status_code == 200
        own = client.delete("/api/admin/users/root", headers=root)
        assert own.status_code == 409 and own.json()["error"]["message_zh"] == "不能删除自己的账号"
        assert client.delete("/api/admin/users/nobody", headers=root).status_code == 404
        assert client.delete("/api/admin/users/ed", headers=root).json() == {"deleted": "ed"}
        assert client.get("/api/admin/me", headers=ed).status_code == 401  # log-ins end too
        assert [u["username"] for u in client.get("/api/admin/users", headers=root).json()] == [
            "root"
        ]
        view = client.get("/api/admin/settings", headers=root).json()
        values = {row["name"]: row["value"] for row in view["settings"]}
        assert values["BOT_TOP_K"] == "5" and values["BOT_LLM_API_KEY"] == "******"
        assert "sk-very-secret" not in str(view) and "also-secret" not in str(view)
        assert values["BOT_CHROMA_HEADERS"] == "******" and "chroma-secret" not in str(view)
        assert values["BOT_LLM_BASE_URL"] == "https://******@llm.example/v1"
        assert view["stats"]["documents"] == 0
        with pytest.raises(ConflictError):  # in-process callers cannot remove the last admin
            client.app.state.staff.delete("root", by="maintenance-script")  # type: ignore[attr-defined]
        actions = [a["action"] for a in client.get("/api/admin/audit", headers=root).json()]
        assert actions[:2] == ["delete_user", "create_user"]
    bot.close()
