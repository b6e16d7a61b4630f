"""Turns files into index entries: `python -m ingest PATH [PATH ...] [--data-dir DIR]`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingest.pipeline import Ingestor, IngestReport, ingest_paths

__all__ = ["IngestReport", "Ingestor", "ingest_paths"]


def __getattr__(name: str) -> Any:
    """The pipeline, imported when first asked for (a converter's child process, which
    imports only its own module, does not load the index and the embedder)."""
    if name in __all__:
        from ingest import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'ingest' has no attribute {name!r}")
