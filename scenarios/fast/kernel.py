"""FIFO multi-server stages by the Kiefer-Wolfowitz recursion, equal to `ServicePoint` on SimPy.

A stage is a bank of `servers` identical servers with one FIFO line, as
`scenarios.queueing.ServicePoint`. Customers come in arrival order (equal times: the order
given, as SimPy starts processes in event order); each starts at the later of its arrival and
the earliest time a server is free, so the whole stage is one pass over the customers with a
heap of the servers' free times. The rules, each as the SimPy model has them:

- a customer who finds a server free at its arrival takes it, whatever its patience;
- a customer who must wait is served if a server frees at or before `arrived + patience`
  (a server freeing at that very instant is handed over before the waiting customer's patience
  event resumes it, see `docs/scenarios.md`); otherwise it leaves at `arrived + patience`
  (`started` = `RENEGED`) and takes no server;
- `free_from[k]`: server k is down until then (a server that opens late, or is out at the start;
  `inf`: down all run). A customer no server will ever take waits forever: started = finished =
  `inf` (unless its patience ends first).

`server` labels which server took a customer (earliest free, lowest label on ties); SimPy's
`ServicePoint` does not name servers, so the label is the kernel's own bookkeeping.

Two forms with one rule: `fifo_stage` over whole arrays (arrivals known up front), and
`FifoStage.arrive`, one customer at a time in arrival order (arrivals made by the run itself,
such as redirected evacuees); `FifoSeats.seat` is `arrive` without patience, checks or server
labels, for the disaster's desks (`desk_plan` seats and re-seats them with it; `state()` and
the `free` argument let a desk seat on from a remembered point).

Tool, by measurement (`benchmarks/bench_engine.py`, M/M/4, same customers, one run): bare
SimPy 14 us/customer, this recursion as a plain Python loop 0.7 us (~20x, at the target's edge
and below it under load), compiled by numba 0.04 us (~360x). `fifo_stage` is compiled by numba
(cached on disk, so the compile happens once per checkout; importing numba costs ~1 s
per process, so it is imported only when `fifo_stage` is first called); `FifoStage.arrive`, called
one customer at a time from Python by the scenarios, stays plain Python with a heap.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

from twin.errors import ValidationError

RENEGED = -1.0  # `started` of a customer who left the line (as scenarios.queueing.RENEGED)
NO_SERVER = -1  # `server` of a customer who reneged or was never served
INF = math.inf


@dataclass(frozen=True, slots=True)
class StageTimes:
    """Per customer, in input order: when service started and finished, and which server."""

    started: np.ndarray  # float64; RENEGED if the customer left the line; inf if never served
    finished: np.ndarray  # float64; the renege time for a customer who left
    server: np.ndarray  # int64; NO_SERVER if reneged or never served

    @property
    def reneged(self) -> np.ndarray:
        """True where the customer left the line before service."""
        return self.started == RENEGED

    def waits(self, arrived: np.ndarray) -> np.ndarray:
        """Wait before service (NaN for reneged or never served customers)."""
        ok = (self.started >= 0) & np.isfinite(self.started)
        return np.where(ok, self.started - np.asarray(arrived, dtype=np.float64), np.nan)


class FifoStage:
    """One FIFO c-server stage fed one customer at a time, in arrival order."""

    __slots__ = ("name", "servers", "_heap", "_last")

    def __init__(self, servers: int, name: str = "", free_from: np.ndarray | None = None) -> None:
        self.servers = check_servers(servers, name)
        self.name = name
        free = _free_from(free_from, servers, name)
        self._heap = [(t, k) for k, t in enumerate(free)]
        heapq.heapify(self._heap)
        self._last = -INF

    def arrive(self, at: float, duration: float, patience: float = INF
               ) -> tuple[float, float, int]:
        """Seat one customer arriving at `at`; returns (started, finished, server)."""
        if at < self._last:
            raise ValidationError(f"stage {self.name!r}: arrival {at!r} before the previous "
                                  f"one {self._last!r}; feed customers in arrival order")
        if not duration >= 0.0:
            raise ValidationError(f"stage {self.name!r}: service time must be >= 0, "
                                  f"got {duration!r}")
        self._last = at
        heap = self._heap
        free, k = heap[0]
        if free <= at:
            start = at
        elif free <= at + patience:
            start = free
        else:
            return RENEGED, at + patience, NO_SERVER
        if start == INF:
            return INF, INF, NO_SERVER
        end = start + duration
        heapq.heapreplace(heap, (end, k))
        return start, end, k

    def next_free(self) -> float:
        """The earliest time a server is free (for queue-length estimates)."""
        return self._heap[0][0]


class FifoSeats:
    """`FifoStage.arrive`'s rule for a caller whose clock keeps arrival order and whose customers
    wait as long as it takes (a simulation's desks): no patience, no checks, no server labels.

    The servers' free times are a heap of bare floats (a tuple heap sifts ~2x slower); the
    earliest free one serves the next customer, as in `FifoStage`."""

    __slots__ = ("name", "servers", "_free")

    def __init__(self, servers: int, name: str = "", free: tuple[float, ...] | None = None) -> None:
        self.servers = check_servers(servers, name)
        self.name = name
        self._free = [0.0] * self.servers if free is None else list(free)  # `state()` of another: resumed

    def state(self) -> tuple[float, ...]:
        """The servers' free times (a heap, as kept): `FifoSeats(servers, name, state)` seats on
        from here."""
        return tuple(self._free)

    def seat(self, at: float, duration: float) -> tuple[float, float]:
        """Seat one customer arriving at `at` (not before the previous one): (started, finished)."""
        free = self._free
        f = free[0]
        start = at if f <= at else f
        end = start + duration
        heapq.heapreplace(free, end)
        return start, end

    def seat_all(self, at: list[float], duration: list[float]) -> tuple[list[float], list[float]]:
        """`seat` each customer in turn (one loop, no call per customer): (started, finished) lists."""
        free, replace, started, finished = self._free, heapq.heapreplace, [], []
        for a, d in zip(at, duration, strict=True):
            f = free[0]
            start = a if f <= a else f
            started.append(start)
            finished.append(start + d)
            replace(free, start + d)
        return started, finished


def fifo_stage(arrived: np.ndarray, service: np.ndarray, servers: int, *,
               patience: np.ndarray | None = None,
               free_from: np.ndarray | None = None) -> StageTimes:
    """Start, finish and server of every customer of a FIFO c-server stage (arrays in, arrays out)."""
    a = np.array(arrived, dtype=np.float64)  # own writeable copies: one compiled signature
    d = np.array(service, dtype=np.float64)
    check_servers(servers, "stage")
    if a.ndim != 1 or d.shape != a.shape:
        raise ValidationError(f"arrivals and service times must be 1-D of one length, got "
                              f"{a.shape} and {d.shape}")
    if a.size and (np.isnan(a).any() or (np.diff(a) < 0).any()):
        raise ValidationError("arrival times must be numbers in non-decreasing order "
                              "(equal times: the order given is the order served)")
    if not (d >= 0).all():
        raise ValidationError("service times must be >= 0")
    pat = np.full(a.shape, INF)
    if patience is not None:
        pat = np.array(np.broadcast_to(np.asarray(patience, dtype=np.float64), a.shape))
        if not (pat >= 0).all():
            raise ValidationError("patience must be >= 0")
    free = np.array(_free_from(free_from, servers, "stage"), dtype=np.float64)
    from scenarios.fast._compiled import kiefer_wolfowitz  # numba loads only when needed

    started, finished, server = kiefer_wolfowitz(a, d, pat, free)
    return StageTimes(started, finished, server)


def check_servers(servers: int, name: str) -> int:
    """A whole number of servers >= 1."""
    if isinstance(servers, bool) or not isinstance(servers, (int, np.integer)) or servers < 1:
        raise ValidationError(f"stage {name!r} needs a whole number >= 1 of servers, "
                              f"got {servers!r}")
    return int(servers)


def _free_from(free_from: np.ndarray | None, servers: int, name: str) -> list[float]:
    """Each server's first free time (default: all free at 0)."""
    if free_from is None:
        return [0.0] * servers
    f = np.asarray(free_from, dtype=np.float64)
    if f.shape != (servers,) or np.isnan(f).any():
        raise ValidationError(f"stage {name!r}: free_from needs one time per server "
                              f"({servers}), got {f.shape}")
    return f.tolist()
