"""A desk whose customers known before the run are seated before it, re-seated when others join.

The disaster's arrivals are known up front (times, shelters, check-in methods), so every group's
first desk visit can be seated in one pass per desk (`FifoSeats`' rule: the earliest free server
takes the next customer) before the loop runs. Only a few customers join during the run
(redirected evacuees, paper fallbacks); one who does is seated where the loop's clock puts it,
after the planned customers who joined earlier and before those who join later (a planned
customer joining at that very instant comes after it: the loop runs calls due at an instant
before the arrivals of that instant), and the planned customers after it are seated again until
the desk's servers are free at the same times as without it (from there on nothing changes).
The caller reschedules the customers whose finish moved.
"""

from __future__ import annotations

from bisect import bisect_left

import numpy as np

from scenarios.fast.kernel import FifoSeats, check_servers


class PlannedDesk:
    """A FIFO desk of `servers` with its planned customers' seats and the ones who joined late."""

    __slots__ = ("name", "servers", "at", "duration", "part", "started", "finished", "late",
                 "_span", "_snaps")

    def __init__(self, servers: int, name: str = "") -> None:
        self.servers = check_servers(servers, name)
        self.name = name
        self.at: list[float] = []  # planned customers, in joining order
        self.duration: list[float] = []
        self.part: list[int] = []  # the caller's label of each planned customer
        self.started: list[float] = []
        self.finished: list[float] = []
        self.late: list[tuple[float, float, float]] = []  # (joined, started, finished)
        self._span: tuple[float, float] | None = None  # made by `close`
        self._snaps: list[tuple[float, ...]] | None = None  # servers' free times before each planned one

    def plan_all(self, at: list[float], duration: list[float], part: list[int]) -> None:
        """The customers known in advance, in joining order (`at` ascending), with the caller's
        label of each (`part`); before anyone is seated."""
        if self.started or self.late:
            raise RuntimeError(f"desk {self.name}: plan before seating anyone")
        self.at, self.duration, self.part = at, duration, part

    def seat_planned(self) -> None:
        """Seat every planned customer (before anyone joins late)."""
        self.started, self.finished = FifoSeats(self.servers, self.name).seat_all(self.at, self.duration)

    def seated(self, started: list[float], finished: list[float]) -> None:
        """The planned customers' seats worked out with other desks' (`seat_planned_all`)."""
        if len(started) != len(self.at) or len(finished) != len(self.at):
            raise ValueError(f"desk {self.name}: {len(self.at)} planned customers, "
                             f"{len(started)} and {len(finished)} seats given")
        self.started, self.finished = started, finished

    def join(self, at: float, duration: float) -> tuple[float, list[int]]:
        """A customer joins at `at` (the loop's present: no planned customer joining before `at` is
        still to come); its finish, and which planned customers (indices) now finish otherwise."""
        snaps = self._snaps if self._snaps is not None else self._replay()
        i = bisect_left(self.at, at)
        seats = FifoSeats(self.servers, self.name, snaps[i])
        start, end = seats.seat(at, duration)
        self.late.append((at, start, end))
        moved = []
        n = len(self.at)
        for j in range(i, n + 1):
            state = seats.state()
            if sorted(state) == sorted(snaps[j]):
                break  # the servers are free when they were without the late one: nothing else moves
            snaps[j] = state
            if j == n:
                break
            start_j, end_j = seats.seat(self.at[j], self.duration[j])
            if end_j != self.finished[j] or start_j != self.started[j]:
                moved.append(j)
                self.started[j], self.finished[j] = start_j, end_j
        return end, moved

    def _replay(self) -> list[tuple[float, ...]]:
        """The servers' free times before each planned customer and after the last one."""
        seats = FifoSeats(self.servers, self.name)
        snaps = []
        for at, d in zip(self.at, self.duration, strict=True):
            snaps.append(seats.state())
            seats.seat(at, d)
        snaps.append(seats.state())
        self._snaps = snaps
        return snaps

    def close(self, until: float, visits: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Note the first arrival and the last finish of the services finished by `until` (SimPy
        records a service at its finish): `span`. `visits`: `visits()` as arrays, if made already."""
        joined, finished = visits if visits is not None else (np.asarray(c, dtype=np.float64)
                                                              for c in self.visits())
        done = finished < until
        self._span = (float(joined[done].min()), float(finished[done].max())) if done.any() else None

    def span(self) -> tuple[float, float] | None:
        """First arrival and last finish of the services finished by the end (`close`); None if none."""
        return self._span

    def visits(self) -> tuple[list[float], list[float]]:
        """When each customer joined and finished (planned ones, then those who joined late)."""
        return self.at + [r[0] for r in self.late], self.finished + [r[2] for r in self.late]


def seat_planned_all(desks: list[PlannedDesk], at: np.ndarray, duration: np.ndarray, part: np.ndarray,
                     bounds: list[int], compiled: bool = True) -> np.ndarray:
    """Plan and seat every desk's customers (desk i's: bounds[i] to bounds[i + 1] - 1, in joining order)
    as `plan_all` then `seat_planned` desk by desk would, in one compiled pass (or, not `compiled`,
    desk by desk: the same seats); their finishes."""
    at = np.ascontiguousarray(at, dtype=np.float64)
    duration = np.ascontiguousarray(duration, dtype=np.float64)
    planned = at.tolist(), duration.tolist(), np.asarray(part).tolist()
    spans = list(zip(desks, bounds[:-1], bounds[1:], strict=True))
    if not compiled:
        for desk, a, b in spans:
            desk.plan_all(*(c[a:b] for c in planned))
            desk.seat_planned()
        return np.fromiter((f for desk in desks for f in desk.finished), np.float64, at.size)
    from scenarios.fast._compiled import seat_desks  # numba loads only when needed

    servers = np.fromiter((d.servers for d in desks), np.int64, len(desks))
    started, finished = seat_desks(at, duration, np.asarray(bounds, dtype=np.int64), servers)
    seats = started.tolist(), finished.tolist()
    for desk, a, b in spans:
        desk.plan_all(*(c[a:b] for c in planned))
        desk.seated(*(c[a:b] for c in seats))
    return finished
