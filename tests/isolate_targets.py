"""Converters that misbehave, run by tests/test_ofd.py and tests/test_formats.py through
ingest.isolate."""

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


def spawn(path: Path, marker: str) -> str:
    """Starts a program of its own (as the LibreOffice converter does), then outlives the
    timeout; `marker` names the program's command line so the test can look for it."""
    import subprocess
    import sys

    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker])
    time.sleep(30)
    return "never"
