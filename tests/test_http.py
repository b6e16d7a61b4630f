"""The HTTP contract of DESIGN.md, through the real app on the bundled knowledge base."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bot.assistant import Assistant
from bot.config import Settings
from web.app import create_app


@pytest.fixture(scope="module")
def client(kb_settings: Settings, assistant: Assistant) -> Iterator[TestClient]:
    with TestClient(create_app(kb_settings, assistant)) as c:
        yield c


def test_healthz_counts_the_index(client: TestClient, assistant: Assistant) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["documents"] == assistant.stats[0] >= 30
    assert body["chunks"] == assistant.stats[1] > body["documents"]


def test_chat_answers_with_cited_sources(client: TestClient) -> None:
    res = client.post("/api/chat", json={"question": "人才公寓怎么申请？", "session_id": None})
    assert res.status_code == 200
    body = res.json()
    base = {"answer", "answered", "sources", "session_id", "mode", "contact"}
    # the bundled talent-apartment document is a service guide: its 办理流程 answers, and
    # the guide rides along for the widget's card (only in this mode)
    assert body["mode"] == "service" and set(body) == base | {"service"}
    assert body["service"]["id"] == body["sources"][0]["doc_id"] == "talent-apartment"
    assert body["service"]["asked"] == ["steps"]
    plain = client.post("/api/chat", json={"question": "人才公寓的租金怎么算？"}).json()
    assert plain["mode"] == "extractive" and set(plain) == base
    assert body["answered"] is True and body["session_id"]
    assert body["sources"], body
    for source in body["sources"]:
        assert {"doc_id", "title", "section", "snippet", "url", "score"} <= set(source)
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", body["answer"])}
    assert markers and max(markers) <= len(body["sources"])
    assert "公寓" in body["sources"][0]["title"] + body["sources"][0]["snippet"]


def test_session_ids_are_issued_by_the_server(client: TestClient) -> None:
    chosen = client.post(
        "/api/chat", json={"question": "企业开办要多久", "session_id": "abc-123"}
    ).json()
    issued = chosen["session_id"]
    assert issued != "abc-123" and len(issued) == 49  # a client-chosen id is not adopted
    forged = issued[:-1] + ("0" if issued[-1] != "0" else "1")  # a tampered signature
    assert client.post(
        "/api/chat", json={"question": "企业开办要多久", "session_id": forged}
    ).json()["session_id"] not in (forged, issued)
    again = client.post("/api/chat", json={"question": "要带什么材料", "session_id": issued})
    assert again.json()["session_id"] == issued  # a server-issued id is kept


def test_out_of_scope_is_not_answered(client: TestClient) -> None:
    body = client.post("/api/chat", json={"question": "明天武汉会下雨吗？"}).json()
    assert body["answered"] is False
    assert body["sources"] == []
    assert "12345" in body["answer"]


def test_category_filter(client: TestClient, assistant: Assistant) -> None:
    finance = {d.doc_id for d in assistant.index.records.documents() if d.category == "金融支持"}
    body = client.post(
        "/api/chat", json={"question": "企业融资有什么支持政策？", "category": "金融支持"}
    ).json()
    assert body["answered"] and body["sources"]
    assert {s["doc_id"] for s in body["sources"]} <= finance
    unfiltered = client.post("/api/chat", json={"question": "人才公寓怎么申请？"}).json()
    filtered = client.post(
        "/api/chat", json={"question": "人才公寓怎么申请？", "category": "金融支持"}
    ).json()
    assert unfiltered["sources"][0]["doc_id"] not in finance
    assert {s["doc_id"] for s in filtered["sources"]} <= finance


@pytest.mark.parametrize(
    ("payload", "status", "needle"),
    [
        ({"question": ""}, 422, "question"),
        ({"question": "   "}, 422, "empty"),
        ({"question": "问" * 1001}, 422, "1000"),
        ({"question": 42}, 422, "question"),
        ({"session_id": "x"}, 422, "question"),
        ({"question": "你好", "session_id": 5}, 422, "session_id"),
        ([1, 2], 422, "body"),
    ],
)
def test_bad_input_gets_a_json_error(
    client: TestClient, payload: object, status: int, needle: str
) -> None:
    res = client.post("/api/chat", json=payload)
    assert res.status_code == status
    body = res.json()
    assert needle in body["error"]["message"]
    assert body["error"]["message_zh"] and body["error"]["code"] == "invalid_request"


def test_malformed_json_is_400(client: TestClient) -> None:
    res = client.post(
        "/api/chat", content=b'{"question": "hi"', headers={"content-type": "application/json"}
    )
    assert res.status_code == 400
    assert res.json()["error"]["code"] == "invalid_json"


def test_question_of_exactly_1000_chars_is_accepted(client: TestClient) -> None:
    assert client.post("/api/chat", json={"question": "人才公寓" * 250}).status_code == 200


def test_unknown_route_and_method_are_json(client: TestClient) -> None:
    assert client.get("/nope").json()["error"]["code"] == "http_404"
    res = client.get("/api/chat")
    assert res.status_code == 405 and res.json()["error"]["message_zh"]


def test_openapi_docs(client: TestClient, kb_settings: Settings, assistant: Assistant) -> None:
    # off by default: Swagger UI and ReDoc load JavaScript from a CDN on the /admin origin
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404
    on = kb_settings.model_copy(update={"api_docs": True})
    with TestClient(create_app(on, assistant)) as docs:
        assert docs.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/chat" in spec["paths"] and "/healthz" in spec["paths"]


def test_feedback_is_stored_and_checked(client: TestClient, assistant: Assistant) -> None:
    ok = client.post(
        "/api/feedback",
        json={
            "question": "人才公寓怎么申请？",
            "answer": "…[1]",
            "rating": "down",
            "session_id": "s1",
        },
    )
    assert ok.status_code == 201 and ok.json()["id"] > 0
    latest = assistant.feedback.recent(1)[0]
    assert latest["rating"] == "down" and latest["session_id"] == "s1"
    bad = client.post("/api/feedback", json={"question": "q", "answer": "a", "rating": "meh"})
    assert bad.status_code == 422 and "rating" in bad.json()["error"]["message"]
    empty = client.post("/api/feedback", json={"question": "", "answer": "a", "rating": "up"})
    assert empty.status_code == 422
