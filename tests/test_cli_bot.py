"""`python -m bot ask|eval` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.config import Settings
from tests.conftest import ROOT


def _bot(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ask_prints_answer_and_sources(kb_settings: Settings) -> None:
    res = _bot("ask", "岱家山科创城有多少家高新技术企业？", data_dir=kb_settings.data_dir)
    assert res.returncode == 0, res.stderr
    assert "134" in res.stdout and "来源 Sources" in res.stdout and "[1]" in res.stdout


def test_ask_json(kb_settings: Settings) -> None:
    res = _bot("ask", "--json", "推荐一只明天会涨的股票", data_dir=kb_settings.data_dir)
    assert res.returncode == 0
    body = json.loads(res.stdout)
    assert body["answered"] is False and body["sources"] == []


def test_ask_usage_errors(kb_settings: Settings) -> None:
    assert _bot("ask", "  ", data_dir=kb_settings.data_dir).returncode == 2
    assert _bot(data_dir=kb_settings.data_dir).returncode == 2


def test_ask_on_an_index_built_by_another_embedder_fails_clearly(
    kb_settings: Settings,
) -> None:
    # The subprocess opens the live index itself: copying SQLite files that this process
    # holds open would drop this process's locks on them (POSIX locks are per process).
    res = subprocess.run(
        [sys.executable, "-m", "bot", "--data-dir", str(kb_settings.data_dir), "ask", "人才公寓"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "BOT_EMBEDDING": "st:/nonexistent/model"},
    )
    assert res.returncode == 1
    assert "/nonexistent/model" in res.stderr and "Traceback" not in res.stderr


def test_eval_prints_metrics(kb_settings: Settings, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps(
            {"question": "惟楚荟在哪里？", "doc_id": "weichuhui", "answer": "岳飞街1号"},
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    res = _bot("eval", str(questions), "--json", data_dir=kb_settings.data_dir)
    assert res.returncode == 0, res.stderr
    metrics = json.loads(res.stdout)
    assert metrics["questions"] == 1 and metrics["hit@5"] == 1.0
    assert {"hit@1", "hit@3", "mrr", "answer_contains", "supported@1", "fact"} <= set(metrics)
    text = _bot("eval", str(questions), data_dir=kb_settings.data_dir)
    assert "hit@1" in text.stdout and "mrr" in text.stdout


def test_eval_usage_errors(kb_settings: Settings, tmp_path: Path) -> None:
    assert (
        _bot("eval", str(tmp_path / "missing.jsonl"), data_dir=kb_settings.data_dir).returncode == 2
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "x"}\n', encoding="utf-8")
    res = _bot("eval", str(bad), data_dir=kb_settings.data_dir)
    assert res.returncode == 2 and "bad.jsonl:1" in res.stderr


def test_eval_on_empty_index(tmp_path: Path) -> None:
    q = tmp_path / "q.jsonl"
    q.write_text('{"question": "x", "doc_id": "y"}\n', encoding="utf-8")
    res = _bot("eval", str(q), data_dir=tmp_path / "empty")
    assert res.returncode == 1 and "ingest" in res.stderr
