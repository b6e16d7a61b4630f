"""Run a format converter in a child process with a time and a memory limit.

A hostile or broken file (a zip bomb in an .ofd, a .doc that is an executable, a page that
makes a library loop) must not hang or crash the server that ingests it. The converter — a
function `module:function(path)` returning JSON-able data — runs in `python -m ingest.isolate`, a fresh
interpreter whose address space (RLIMIT_AS) and CPU time (RLIMIT_CPU) are capped before it
imports anything, and which is killed at the wall-clock timeout. Its text comes back on
stdout as JSON; its failures come back as an `IngestError` naming the reason in Chinese and
English.

The child starts a session of its own, so a converter that runs a program of its own
(LibreOffice for .doc, .wps and .et files, ingest/legacy.py) has it in the same process group,
and the whole group is killed at the timeout: nothing is left running.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from bot.errors import IngestError

TIMEOUT_S = 60.0
MEMORY_MB = 1024
_ROOT = Path(__file__).resolve().parent.parent
_JSON = "json:"  # an argument that is JSON (convert's `options`), not a plain string


def convert(
    function: str,
    path: Path,
    *,
    timeout_s: float = TIMEOUT_S,
    memory_mb: int = MEMORY_MB,
    args: Sequence[str] = (),
    options: dict[str, Any] | None = None,
) -> Any:
    """What `function` ("package.module:name") makes of the file at `path` (and of `args`,
    further strings passed after it, then `options`, a JSON-able dict), computed in a child
    process; IngestError when it fails, runs out of time or of memory."""
    if options is not None:
        args = (*args, _JSON + json.dumps(options, ensure_ascii=False))
    child = subprocess.Popen(
        [sys.executable, "-m", "ingest.isolate", function, str(path), str(memory_mb), *args],
        cwd=_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONHASHSEED": "0", "BOT_ISOLATE_TIMEOUT": str(timeout_s)},
        start_new_session=True,  # its own process group: whatever it starts dies with it
    )
    try:
        stdout, stderr = child.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(child)
        raise IngestError(
            f"{path.name}: reading it took longer than {timeout_s:g} s; stopped",
            message_zh=f"{path.name}：读取超过 {timeout_s:g} 秒，已停止",
        ) from None
    except BaseException:
        _kill_group(child)
        raise
    finally:
        _kill_group(child, only_leftovers=True)
    done = subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
    if done.returncode == 0:
        try:
            return json.loads(done.stdout)["result"]
        except (ValueError, KeyError, TypeError):
            pass
    if done.returncode == 3:  # the converter refused the file: its reason on stdout
        try:
            reason = json.loads(done.stdout)
            raise IngestError(str(reason["message"]), message_zh=str(reason["message_zh"]))
        except (ValueError, KeyError, TypeError):
            pass
    if done.returncode == 4 or b"MemoryError" in done.stderr:
        raise IngestError(
            f"{path.name}: reading it needed more than {memory_mb} MB of memory; stopped",
            message_zh=f"{path.name}：读取所需内存超过 {memory_mb} MB，已停止",
        )
    raise IngestError(
        f"{path.name}: the converter failed (exit {done.returncode})",
        message_zh=f"{path.name}：文件转换失败",
    )


def _kill_group(child: subprocess.Popen[bytes], only_leftovers: bool = False) -> None:
    """Kill the child's process group (the child and what it started); reap the child.
    `only_leftovers`: after a normal exit, the programs it started and left running."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if not only_leftovers:
        child.communicate()


def _limit(memory_mb: int, timeout_s: float) -> None:
    size = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size, size))
    cpu = int(max(timeout_s, TIMEOUT_S) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))


def _load(module: str) -> ModuleType:
    """A module by its dotted name, or a `.py` file by its path (the tests' converters)."""
    if not module.endswith(".py"):
        return importlib.import_module(module)
    spec = importlib.util.spec_from_file_location(Path(module).stem, module)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def main(argv: list[str]) -> int:
    function, path, memory_mb = argv[0], Path(argv[1]), int(argv[2])
    args = [json.loads(a[len(_JSON) :]) if a.startswith(_JSON) else a for a in argv[3:]]
    _limit(memory_mb, float(os.environ.get("BOT_ISOLATE_TIMEOUT", TIMEOUT_S)))
    module, _, name = function.rpartition(":")
    try:
        result = getattr(_load(module), name)(path, *args)
    except IngestError as exc:
        sys.stdout.write(json.dumps({"message": exc.message, "message_zh": exc.message_zh}))
        return 3
    except MemoryError:
        return 4
    sys.stdout.write(json.dumps({"result": result}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
