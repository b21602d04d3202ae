"""The Kiefer-Wolfowitz recursion compiled by numba (imported by `kernel.fifo_stage` on first use)."""

from __future__ import annotations

import numba
import numpy as np

from scenarios.fast.kernel import INF, NO_SERVER, RENEGED


@numba.njit(cache=True, nogil=True)
def kiefer_wolfowitz(a: np.ndarray, d: np.ndarray, pat: np.ndarray, free: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """The recursion, compiled: `FifoStage.arrive` for every customer in turn (same rules)."""
    n, c = a.size, free.size
    started, finished = np.empty(n), np.empty(n)
    server = np.empty(n, dtype=np.int64)
    for i in range(n):
        k, t = 0, free[0]
        for j in range(1, c):  # earliest free server, lowest label on ties
            if free[j] < t:
                k, t = j, free[j]
        x = a[i]
        if t <= x:
            s = x
        elif t <= x + pat[i]:
            s = t
        else:
            started[i], finished[i], server[i] = RENEGED, x + pat[i], NO_SERVER
            continue
        if s == INF:
            started[i], finished[i], server[i] = INF, INF, NO_SERVER
            continue
        free[k] = s + d[i]
        started[i], finished[i], server[i] = s, free[k], k
    return started, finished, server


@numba.njit(cache=True, nogil=True)
def seat_desks(at: np.ndarray, duration: np.ndarray, bounds: np.ndarray, servers: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """`FifoSeats.seat_all` for many desks at once: desk i's customers are bounds[i] to
    bounds[i + 1] - 1 (in joining order) at servers[i] servers all free at 0; started, finished."""
    started, finished = np.empty(at.size), np.empty(at.size)
    for i in range(bounds.size - 1):
        free = np.zeros(servers[i])
        for j in range(bounds[i], bounds[i + 1]):
            k, f = 0, free[0]
            for c in range(1, free.size):  # the earliest free server (any of equal ones: same times)
                if free[c] < f:
                    k, f = c, free[c]
            a = at[j]
            start = a if f <= a else f
            started[j] = start
            finished[j] = start + duration[j]
            free[k] = start + duration[j]
    return started, finished
