"""`make serve` and Ctrl-C: the terminal's Ctrl-C goes to the server alone.

A terminal sends Ctrl-C's SIGINT to its whole foreground process group: under `make serve`
that is make *and* the server. The server stops cleanly, but make, interrupted itself,
prints `make: *** [Makefile: serve] Interrupt` and dies of the signal, which reads as a
failure. Taking the terminal's foreground for the server's own process group (what a shell
does for a job) leaves make out: it sees its command end with status 0 and says nothing.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def foreground() -> Iterator[bool]:
    """Within the block, this process's own group is the terminal's foreground (True);
    without a terminal, or when it already is, nothing changes (False)."""
    try:
        fd = sys.stdin.fileno()
        if not os.isatty(fd) or os.getpgrp() == os.getpid() or os.tcgetpgrp(fd) != os.getpgrp():
            yield False  # no terminal, already a group of its own, or not in the foreground
            return
        before = os.getpgrp()
        os.setpgid(0, 0)
    except (OSError, ValueError):
        yield False
        return
    # A background group may change the foreground only with SIGTTOU ignored.
    ttou = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(fd, os.getpgrp())
        yield True
    finally:
        try:
            os.tcsetpgrp(fd, before)  # make (or the shell's job) gets its terminal back
        except OSError:
            pass
        signal.signal(signal.SIGTTOU, ttou)
