"""Turns files into index entries: `python -m ingest PATH [PATH ...] [--data-dir DIR]`."""

from ingest.pipeline import Ingestor, IngestReport, ingest_paths

__all__ = ["IngestReport", "Ingestor", "ingest_paths"]
