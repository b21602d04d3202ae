"""Bounded waits at start-up: every wait ends, and a failure says what failed and where its log is."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from twin.errors import TwinError

T = TypeVar("T")
START_TIMEOUT_S = 600.0  # building a whole city's actors takes minutes on a small machine


class StartFailed(TwinError):
    """A part of the service did not start (in time); the message names it and the log folder."""

    code = "start_failed"
    status = 503


def ray_logs() -> str:
    """Where this Ray session's logs are (the actors' and Serve's stdout/stderr)."""
    try:
        from ray._private import worker

        node = worker._global_node
        if node is not None:
            return str(node.get_logs_dir_path())
    except Exception:  # not connected, or the private API moved
        pass
    return "/tmp/ray/session_latest/logs"


def wait_actors(refs: dict[str, Any], what: str, timeout: float) -> dict[str, Any]:
    """The answer of every actor call in `refs` (actor name -> object ref), or StartFailed naming the actors that
    failed or did not answer within `timeout` seconds."""
    import ray

    names = {ref: name for name, ref in refs.items()}
    ready, waiting = ray.wait(list(refs.values()), num_returns=len(refs), timeout=timeout)
    out, failed = {}, []
    for ref in ready:
        try:
            out[names[ref]] = ray.get(ref)
        except Exception as exc:  # the actor died while building (its log says why)
            failed.append(f"{names[ref]} ({type(exc).__name__}: {_cause_line(exc)})")
    if waiting:
        slow = sorted(names[r] for r in waiting)
        raise StartFailed(f"{what}: {len(slow)} actor(s) did not answer within {timeout:.0f} s ({', '.join(slow[:8])}); "
                          f"their workers may be unable to start — see the Ray logs in {ray_logs()}")
    if failed:
        raise StartFailed(f"{what}: {'; '.join(failed[:4])}; see the Ray logs in {ray_logs()}")
    return out


def bounded(what: str, fn: Callable[[], T], timeout: float) -> T:
    """`fn()` in a helper thread, waited for at most `timeout` seconds; StartFailed if it raises or does not end."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    thread = threading.Thread(target=run, name=f"start: {what}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise StartFailed(f"{what} did not finish within {timeout:.0f} s; see the Ray logs in {ray_logs()}")
    if "error" in box:
        err = box["error"]
        if isinstance(err, TwinError):
            raise err
        raise StartFailed(f"{what} failed ({type(err).__name__}: {_first_line(err)}); see the Ray logs in "
                          f"{ray_logs()}") from err
    return box["value"]


def _cause_line(exc: BaseException) -> str:
    """The line of a remote traceback that names the error raised (its last 'XError: ...' line)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    named = [ln for ln in lines if ": " in ln and ln.split(":", 1)[0].split(".")[-1].endswith(("Error", "Exception"))]
    return (named[-1] if named else lines[0] if lines else "")[:300]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""
