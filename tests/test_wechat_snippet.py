"""The README's mini-program stream client, run as written in headless Chromium on a real
stream from /api/wechat/chat/stream, cut into chunks at every byte offset and at random:
events split across chunks and Chinese characters split across chunks come out whole."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.test_wechat import QUESTION, _client, _login, fake, kb_copy, llm  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
HARNESS = """
(args) => {
  const [snippet, chunks] = args;
  const got = { deltas: [], sources: null, done: null, resets: 0, errors: [] };
  let chunkHandler = null;
  const wx = { request: (opts) => {
    got.request = { url: opts.url, method: opts.method, chunked: opts.enableChunked,
                    auth: opts.header.Authorization, data: opts.data };
    return { onChunkReceived: (fn) => { chunkHandler = fn; } };
  } };
  const askStream = new Function('wx', snippet + '\\nreturn askStream;')(wx);
  askStream('问题', 'T0KEN', {
    delta: (t) => got.deltas.push(t), reset: () => { got.resets += 1; },
    sources: (s) => { got.sources = s; }, done: (d) => { got.done = d; },
    error: (e) => got.errors.push(e),
  });
  for (const c of chunks) chunkHandler({ data: new Uint8Array(c).buffer });
  return got;
}
"""


def _snippet() -> str:
    readme = (ROOT / "README.md").read_text()
    after = readme.split("<!-- wechat-stream-snippet -->", 1)[1]
    match = re.search(r"```js\n(.*?)```", after, re.S)
    assert match, "the README lost its stream snippet"
    return match.group(1)


def _stream_bytes(client: TestClient) -> bytes:
    headers = {"Authorization": f"Bearer {_login(client, 'snippet')}"}
    with client.stream(
        "POST", "/api/wechat/chat/stream", json={"question": QUESTION}, headers=headers
    ) as res:
        assert res.status_code == 200
        return b"".join(res.iter_bytes())


def _expected(raw: bytes) -> dict[str, Any]:
    deltas, done = [], None
    for block in raw.decode().split("\n\n"):
        if not block.strip():
            continue
        name = block.splitlines()[0].removeprefix("event: ")
        data = json.loads(block.splitlines()[1].removeprefix("data: "))
        if name == "delta":
            deltas.append(data["text"])
        elif name == "done":
            done = data
    return {"text": "".join(deltas), "done": done}


def test_the_readme_snippet_reassembles_any_chunking(
    kb_copy: Path,  # noqa: F811
    fake: Any,  # noqa: F811
    llm: Any,  # noqa: F811
    embedder: Any,
    browser: Any,
) -> None:
    llm.mode = "ok"
    for client in _client(kb_copy, fake, llm, embedder):
        raw = _stream_bytes(client)
    expected = _expected(raw)
    assert any(b >= 0xE0 for b in raw)  # Chinese: three-byte characters to split
    page = browser.new_page()
    try:
        rng = random.Random(15)
        cuts: list[list[bytes]] = [
            [raw[i : i + 1] for i in range(len(raw))],  # every byte on its own
            [raw[:1], raw[1:]],
        ]
        for _ in range(5):  # random chunk sizes, as a network delivers them
            chunks, i = [], 0
            while i < len(raw):
                n = rng.randint(1, 40)
                chunks.append(raw[i : i + n])
                i += n
            cuts.append(chunks)
        for chunks in cuts:
            got = page.evaluate(HARNESS, [_snippet(), [list(c) for c in chunks]])
            assert got["errors"] == [] and got["resets"] == 0
            assert "".join(got["deltas"]) == expected["text"]
            assert got["done"] == expected["done"]
            assert got["sources"] and got["done"]["answered"]
        assert got["request"]["chunked"] is True and got["request"]["auth"] == "Bearer T0KEN"
    finally:
        page.close()
