"""Ray's informational lines go to a log file, not the operator's terminal.

Ray's core prints notices on the driver's stderr (token authentication, runtime-env packaging,
a Serve controller retrying its shutdown) that need no action. `ray_lines_to(path)` sends file
descriptor 2 to `path` while Ray starts or stops, then gives the terminal back, so what the
command itself prints stays on the terminal and Ray's own lines are kept, not lost. Standard
output is redirected too: Ray echoes its raylet's lines (`(raylet) Task ... failed`) there.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def ray_lines_to(path: str | Path) -> Iterator[Path]:
    """Redirect this process's stdout and stderr (fds 1 and 2, C++ and Python alike) into `path`."""
    log = Path(path).expanduser()
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {n: os.dup(n) for n in (1, 2)}
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for n in saved:
            os.dup2(fd, n)
        yield log
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for n, old in saved.items():
            os.dup2(old, n)
            os.close(old)
        os.close(fd)


def default_log(kind: str) -> Path:
    """Where a command's Ray lines go when it has no folder of its own."""
    base = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state"))
    return base / "myna-twin" / f"{kind}-ray.log"
