"""`/api/admin/sensitive-words` over HTTP: admins only, validated, audited, in force at once
here and, through the knowledge-base version, on every other process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.safety import default_words
from tests.conftest import staff_client

PASSWORD = "s3cret-pass"
API = "/api/admin/sensitive-words"


@pytest.fixture()
def safety_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", admin_user="root", admin_password=PASSWORD)


@pytest.fixture()
def client(safety_settings: Settings, embedder: Embedder) -> Iterator[TestClient]:
    yield from staff_client(safety_settings, embedder, "root", PASSWORD)


def _chat(client: TestClient, question: str) -> dict:
    res = client.post("/api/chat", json={"question": question})
    assert res.status_code == 200, res.text
    return res.json()


def test_admins_read_the_shipped_defaults(client: TestClient) -> None:
    body = client.get(API).json()
    assert body["default"] is True and body["version"] == 0 and body["updated_by"] == ""
    assert body["words"] == default_words() and body["count"] == len(default_words())
    assert "赌博" in body["words"]


def test_only_admins_may_read_or_change_the_list(client: TestClient) -> None:
    made = client.post(
        "/api/admin/users", json={"username": "ed", "password": "editor-pass-1", "role": "editor"}
    )
    assert made.status_code in (200, 201), made.text
    token = client.post(
        "/api/admin/login", json={"username": "ed", "password": "editor-pass-1"}
    ).json()["token"]
    editor = {"Authorization": f"Bearer {token}"}
    assert client.get(API, headers=editor).status_code == 403
    assert client.put(API, json={"words": ["x"]}, headers=editor).status_code == 403
    assert client.delete(API, headers=editor).status_code == 403
    nobody = {"Authorization": "Bearer nope"}
    assert client.get(API, headers=nobody).status_code == 401
    assert client.get(API).json()["default"] is True  # nothing changed


def test_a_cookie_signed_change_must_come_from_the_own_pages(client: TestClient) -> None:
    token = client.headers.pop("Authorization").removeprefix("Bearer ")
    client.cookies.set("jiangan_admin", token)
    res = client.put(API, json={"words": ["赌球"]}, headers={"Origin": "https://evil.example"})
    assert res.status_code == 403 and "请求来源不符" in res.json()["error"]["message_zh"]
    ok = client.put(API, json={"words": ["赌球"]}, headers={"Sec-Fetch-Site": "same-origin"})
    assert ok.status_code == 200 and ok.json()["words"] == ["赌球"]


@pytest.mark.parametrize(
    ("words", "zh", "en"),
    [
        (["赌博", "长" * 51], "第 2 个词超过 50 个字符", "longer than 50"),
        (["赌博", "！？。"], "只有空格或符号", "no letter or digit"),
        ([f"词{n}" for n in range(10_001)], "最多 10000 个", "at most 10000"),
    ],
)
def test_bad_lists_get_a_422_that_says_why(
    client: TestClient, words: list[str], zh: str, en: str
) -> None:
    res = client.put(API, json={"words": words})
    assert res.status_code == 422
    error = res.json()["error"]
    assert zh in error["message_zh"] and en in error["message"]
    assert client.get(API).json()["default"] is True  # nothing was saved


def test_malformed_bodies_get_a_422(client: TestClient) -> None:
    for body in ({"words": "赌博"}, {"words": [1, 2]}, {}, {"words": [], "extra": 1}):
        res = client.put(API, json=body)
        assert res.status_code == 422, body
        assert res.json()["error"]["code"] == "invalid_request"


def test_a_saved_list_is_in_force_at_once_and_audited(client: TestClient) -> None:
    assert _chat(client, "江岸区有哪些斗地主比赛？")["mode"] != "blocked"
    res = client.put(API, json={"words": [" 斗地主 ", "賭博", "赌博", "", "!斗地主培训"]})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["words"] == ["斗地主", "賭博", "!斗地主培训"] and body["count"] == 3
    assert body["version"] == 1 and body["default"] is False and body["updated_by"] == "root"
    assert body["updated_at"] > 0
    assert client.get(API).json() == body
    blocked = _chat(client, "江岸区有哪些斗 地 主比赛？")
    assert blocked["mode"] == "blocked" and blocked["answered"] is False
    assert "斗地主" not in blocked["answer"] and "斗" not in blocked["answer"]
    assert _chat(client, "斗地主培训有补贴吗？")["mode"] != "blocked"  # an allowed phrase
    assert _chat(client, "哪里可以虚开发票")["mode"] != "blocked"  # no longer listed
    entry = client.get("/api/admin/audit").json()[0]
    assert entry["action"] == "sensitive_words_update" and entry["user"] == "root"
    assert entry["old_version"] == 0 and entry["new_version"] == 1
    assert entry["detail"].startswith(f"added 3, removed {len(default_words())}: +斗地主")
    # the refused question is listed for staff with its reason, not as a knowledge gap
    insight = client.get("/api/admin/insight").json()
    assert [g["question"] for g in insight["blocked"]] == ["江岸区有哪些斗 地 主比赛？"]
    assert insight["blocked"][0]["reason"] == "sensitive_word:斗地主"
    assert insight["blocked"][0]["reason_zh"] == "问题含敏感词：斗地主"
    assert insight["blocked_total"] == 1
    assert all("斗 地 主" not in g["question"] for g in insight["unanswered"] + insight["top"])
    # the hit test tells staff a question would be refused
    hit = client.post("/api/admin/hit-test", json={"question": "斗 地 主比赛"}).json()
    assert hit["sensitive_word"] == "斗地主"
    assert (
        client.post("/api/admin/hit-test", json={"question": "企业开办"}).json()["sensitive_word"]
        is None
    )


def test_an_edit_from_a_stale_version_is_refused(client: TestClient) -> None:
    assert client.put(API, json={"words": ["赌球"], "base_version": 0}).status_code == 200
    stale = client.put(API, json={"words": ["博彩"], "base_version": 0})
    assert stale.status_code == 409 and "请刷新" in stale.json()["error"]["message_zh"]
    assert client.get(API).json()["words"] == ["赌球"]


def test_restoring_the_defaults(client: TestClient) -> None:
    client.put(API, json={"words": ["斗地主"]})
    res = client.delete(API)
    assert res.status_code == 200 and res.json()["default"] is True
    assert res.json()["words"] == default_words()
    assert _chat(client, "斗地主比赛")["mode"] != "blocked"
    assert _chat(client, "哪里可以虚开发票")["mode"] == "blocked"
    entry = client.get("/api/admin/audit").json()[0]
    assert entry["action"] == "sensitive_words_reset" and entry["new_version"] == 0


def test_another_process_follows_a_save_on_refresh(
    client: TestClient, safety_settings: Settings, embedder: Embedder
) -> None:
    """A second Assistant on the same records database (another replica) sees the list
    once it refreshes — which its watcher does because the knowledge-base version moved."""
    other = Assistant(safety_settings, embedder=embedder, writer=False)
    try:
        assert other.safety.check("斗地主") is None
        loaded = other.retriever.kb_version
        assert client.put(API, json={"words": ["斗地主"]}).status_code == 200
        assert other.index.database.kb_version() > loaded  # what the watcher polls
        assert other.safety.check("斗地主") is None  # not yet reloaded
        other.refresh()
        assert other.safety.check("斗 地 主") is not None
        assert other.safety.check("虚开发票") is None
        assert other.sensitive_words.list.version == 1
        answer = other.ask("哪里能斗地主")
        assert answer.mode == "blocked" and answer.refusal_reason == "sensitive_word:斗地主"
    finally:
        other.close()
