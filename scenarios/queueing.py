"""The multi-server queues kiosks, counters and shelter readers use, with one record per customer.

A `ServicePoint` is a bank of identical servers (kiosk terminals, counter windows, shelter
readers or paper-form staff) with one FIFO line. Customers are SimPy processes that run
`yield from point.serve(who, duration)`. It is leaner than `simpy.Resource`: a customer who
finds a free server takes it without an event, and a finishing customer hands the server
straight to the next in line. Every customer leaves one record (who, arrived, started,
finished) in a plain list; frames and time series are built from the records afterwards.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import Any

import numpy as np
import polars as pl
import simpy

from twin.errors import ValidationError

RECORD_SCHEMA = {
    "who": pl.Int64,
    "arrived": pl.Float64,
    "started": pl.Float64,
    "finished": pl.Float64,
}
RENEGED = -1.0  # `started` of a customer who left the line before service (`finished`: when)


class ServicePoint:
    """A bank of `servers` identical servers with one FIFO line; records every customer."""

    __slots__ = ("env", "name", "servers", "_free", "_line", "records")

    def __init__(self, env: simpy.Environment, servers: int, name: str = "") -> None:
        if not (isinstance(servers, int) and servers >= 1):
            raise ValidationError(f"service point {name!r} needs >= 1 server, got {servers!r}")
        self.env = env
        self.name = name
        self.servers = servers
        self._free = servers
        self._line: deque[simpy.Event] = deque()
        self.records: list[tuple[int, float, float, float]] = []

    @property
    def queue_length(self) -> int:
        """How many customers are waiting in line now."""
        return len(self._line)

    @property
    def busy(self) -> int:
        """How many servers are serving now."""
        return self.servers - self._free

    def serve(self, who: int, duration: float) -> Generator[simpy.Event, Any, float]:
        """Wait for a server, hold it `duration`, release it; returns the wait."""
        env = self.env
        arrived = env.now
        if self._free:
            self._free -= 1
        else:
            turn = env.event()
            self._line.append(turn)
            yield turn
        started = env.now
        yield env.timeout(duration)
        self._release()
        self.records.append((who, arrived, started, env.now))
        return started - arrived

    def serve_or_renege(
        self, who: int, duration: float, patience: float
    ) -> Generator[simpy.Event, Any, float | None]:
        """Like `serve`, but leave the line after `patience`; returns the wait, None if reneged."""
        env = self.env
        arrived = env.now
        if self._free:
            self._free -= 1
        else:
            turn = env.event()
            self._line.append(turn)
            yield turn | env.timeout(patience)
            if not turn.triggered:
                self._line.remove(turn)
                self.records.append((who, arrived, RENEGED, env.now))
                return None
        started = env.now
        yield env.timeout(duration)
        self._release()
        self.records.append((who, arrived, started, env.now))
        return started - arrived

    def _release(self) -> None:
        """Hand the server to the next in line, or free it."""
        if self._line:
            self._line.popleft().succeed()
        else:
            self._free += 1

    def span(self) -> tuple[float, float] | None:
        """First arrival and last finish of the customers recorded so far; None if none."""
        if not self.records:
            return None
        return min(r[1] for r in self.records), max(r[3] for r in self.records)

    def frame(self) -> pl.DataFrame:
        """Every customer so far: who, arrived, started, finished, wait, reneged."""
        return records_frame(self.records)


def records_frame(records: list[tuple[int, float, float, float]]) -> pl.DataFrame:
    """Customer records as a frame with `wait` (null if reneged) and `reneged` columns."""
    df = pl.DataFrame(records, schema=RECORD_SCHEMA, orient="row")
    reneged = pl.col("started") == RENEGED
    return df.with_columns(
        reneged=reneged,
        wait=pl.when(reneged).then(None).otherwise(pl.col("started") - pl.col("arrived")),
    )


def wait_summary(waits: np.ndarray) -> dict[str, float]:
    """p50, p95, max and mean of waits (NaN for none), plus the count."""
    w = np.asarray(waits, dtype=np.float64)
    w = w[~np.isnan(w)]
    if w.size == 0:
        return {"n": 0, "mean": float("nan"), "p50": float("nan"), "p95": float("nan"),
                "max": float("nan")}
    p50, p95 = np.percentile(w, [50, 95])
    return {"n": int(w.size), "mean": float(w.mean()), "p50": float(p50), "p95": float(p95),
            "max": float(w.max())}


def occupancy_series(
    arrived: np.ndarray, started: np.ndarray, finished: np.ndarray, grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Customers waiting and in service at each instant of `grid` (reneged: started < 0)."""
    served = started >= 0
    left_line = np.where(served, started, finished)  # reneged: left the line at `finished`
    waiting = _count_between(arrived, left_line, grid)
    in_service = _count_between(started[served], finished[served], grid)
    return waiting, in_service


def _count_between(start: np.ndarray, end: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """How many intervals [start, end) contain each grid instant."""
    s = np.sort(np.asarray(start, dtype=np.float64))
    e = np.sort(np.asarray(end, dtype=np.float64))
    return np.searchsorted(s, grid, side="right") - np.searchsorted(e, grid, side="right")
