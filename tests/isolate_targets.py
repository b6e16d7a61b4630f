"""Converters that misbehave, run by tests/test_ofd.py through ingest.isolate."""

from __future__ import annotations

import os
import time
from pathlib import Path


def hog(path: Path) -> str:
    """Asks for far more memory than the limit allows."""
    blocks = [bytearray(64 * 1024 * 1024) for _ in range(64)]
    return str(len(blocks))


def loop(path: Path) -> str:
    time.sleep(30)
    return "never"


def crash(path: Path) -> str:
    os._exit(9)
