"""Bounded work (issue #13, point 2): a cap on answers computed at once, a short queue, and a
503 with Retry-After at once past it — over real HTTP, streams counted too."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import httpx
import pytest

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.errors import OverloadedError
from bot.index import KnowledgeIndex
from ingest.pipeline import Ingestor
from tests.fixtures_files import write_markdown
from tests.test_widget import LiveServer
from web.admission import Admission


def test_the_queue_is_short_and_the_refusal_immediate() -> None:
    async def run() -> None:
        gate = Admission(max_inflight=2, max_queue=1, wait_ms=200)
        release = asyncio.Event()

        async def hold() -> None:
            async with gate.slot():
                await release.wait()

        holders = [asyncio.create_task(hold()) for _ in range(2)]
        await asyncio.sleep(0.01)
        assert gate.inflight == 2
        waiter = asyncio.create_task(hold())  # waits in the queue …
        await asyncio.sleep(0.01)
        assert gate.waiting == 1
        with pytest.raises(OverloadedError) as refused:  # … the queue is full: refused at once
            async with gate.slot():
                pass
        assert refused.value.retry_after >= 1
        # at once: before the queued waiter's own wait ran out (no timing on machine speed)
        assert not waiter.done() and gate.waiting == 1
        with pytest.raises(OverloadedError):  # the waiter's wait runs out
            await waiter
        release.set()
        await asyncio.gather(*holders)
        assert gate.inflight == 0 and gate.waiting == 0 and gate.rejected == 2
        async with gate.slot():  # places are given back
            assert gate.inflight == 1

    asyncio.run(run())


class _Slow(Assistant):
    """The real assistant, answering slowly (as under load)."""

    delay = 2.0

    def ask(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def, override]
        time.sleep(self.delay)
        return super().ask(*args, **kwargs)  # type: ignore[arg-type]

    async def stream(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def, override]
        await asyncio.sleep(self.delay)
        async for event in super().stream(*args, **kwargs):  # type: ignore[arg-type]
            yield event


def test_over_http_past_the_cap_is_503_with_retry_after(tmp_path: Path, embedder: Embedder) -> None:
    write_markdown(tmp_path / "kb" / "a.md", "apt", "人才公寓申请", "## 申请\n登录江岸人才网申请。")
    settings = Settings(data_dir=tmp_path / "data", max_inflight=1, max_queue=0)
    index = KnowledgeIndex.open(settings, embedder)
    assert Ingestor(index, progress=False).run([tmp_path / "kb"]).ok
    index.close()
    bot = _Slow(settings, embedder=embedder)
    results: list[tuple[int, float, str | None]] = []

    def one(url: str) -> None:
        res = httpx.post(url + "/api/chat", json={"question": "人才公寓怎么申请"}, timeout=30)
        results.append((res.status_code, time.perf_counter(), res.headers.get("retry-after")))

    with LiveServer(settings, bot) as live:
        first = threading.Thread(target=one, args=(live.url,))
        first.start()
        time.sleep(0.3)  # the first is being answered
        others = [threading.Thread(target=one, args=(live.url,)) for _ in range(4)]
        for t in others:
            t.start()
        for t in [first, *others]:
            t.join()
        # a stream holds the place too: while it is answered, chat is refused
        with httpx.Client(timeout=30) as client:
            with client.stream(
                "POST", live.url + "/api/chat/stream", json={"question": "人才公寓怎么申请"}
            ) as stream:
                time.sleep(0.2)
                busy = client.post(live.url + "/api/chat", json={"question": "人才公寓"})
                assert busy.status_code == 503
                assert busy.json()["error"]["code"] == "overloaded"
                # refused before the body is read: not even parsed (else this would be a 400)
                unread = client.post(
                    live.url + "/api/chat",
                    content=b"{not json",
                    headers={"Content-Type": "application/json"},
                )
                assert unread.status_code == 503 and unread.headers["retry-after"] == "1"
                assert unread.headers["x-request-id"]  # logged like any other response
                assert "event: done" in "".join(stream.iter_text())
            after = client.post(live.url + "/api/chat", json={"question": "人才公寓怎么申请"})
            assert after.status_code == 200  # the stream gave its place back
            bad = client.post(
                live.url + "/api/chat",
                content=b"{not json",
                headers={"Content-Type": "application/json"},
            )
            assert bad.status_code == 400  # with a place free, the body is read and judged
    bot.close()
    codes = sorted(code for code, _, _ in results)
    assert codes == [200, 503, 503, 503, 503], results
    refused = [(ended, retry) for code, ended, retry in results if code == 503]
    assert all(retry == "1" for _, retry in refused)
    answered = next(ended for code, ended, _ in results if code == 200)
    # at once: every refusal arrived while the slow answer still held the place (not after
    # waiting in a queue for it); an ordering, not a timing on the machine's speed
    assert max(ended for ended, _ in refused) < answered, results
