"""The nearest shelters of many points on a grid, compiled by numba (imported by `scenarios.nearest`).

Each cell of a uniform grid over the shelters and points keeps the shelters that can be among the m
nearest of any point in it: those within (the m-th nearest distance from the cell's centre) + 2 x
(its half-diagonal) of the centre, nearest to the centre first. A point then looks only at its
cell's shelters (a dozen or so, instead of a KD-tree walk with a heap per query: ~0.9 us a point
with scipy), comparing squared distances (the same order as distances; equal distances are the
caller's to settle).
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _top(best_d: np.ndarray, best_i: np.ndarray, d: float, s: int) -> float:  # pragma: no cover
    """Put (d, s) into the ascending top list (after equal ones), dropping its last; the new last."""
    j = best_d.size - 1
    while j > 0 and d < best_d[j - 1]:
        best_d[j], best_i[j] = best_d[j - 1], best_i[j - 1]
        j -= 1
    best_d[j], best_i[j] = d, s
    return best_d[best_d.size - 1]


@numba.njit(cache=True, nogil=True)
def cell_candidates(sx: np.ndarray, sy: np.ndarray, m: int, x0: float, y0: float, cell: float,
                    nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """Per cell (row-major, nx x ny), the shelters that can be among the m nearest of a point in it,
    nearest to its centre first: (where each cell's list begins, and the end; the lists)."""
    n = sx.size
    bounds = np.zeros(nx * ny + 1, np.int64)
    lists = np.empty(nx * ny * 4 * m + n, np.int64)
    best_d, best_i = np.empty(m), np.empty(m, np.int64)
    d2 = np.empty(n)
    spread = 2.0 * 0.7072 * cell  # at least twice the half-diagonal (sqrt(2) / 2 x cell)
    used = 0
    for i in range(nx):
        cx = x0 + (i + 0.5) * cell
        for j in range(ny):
            cy = y0 + (j + 0.5) * cell
            best_d[:] = np.inf
            last = np.inf
            for s in range(n):
                dx, dy = cx - sx[s], cy - sy[s]
                d2[s] = dx * dx + dy * dy
                if d2[s] < last:
                    last = _top(best_d, best_i, d2[s], s)
            reach = (math.sqrt(last) + spread) * (1.0 + 1e-9) + 1e-9
            near = np.flatnonzero(d2 <= reach * reach)
            near = near[np.argsort(d2[near], kind="mergesort")]
            if used + near.size > lists.size:
                lists = np.concatenate((lists, np.empty(lists.size + near.size, np.int64)))
            lists[used:used + near.size] = near
            used += near.size
            bounds[i * ny + j + 1] = used
    return bounds, lists[:used]


@numba.njit(cache=True, nogil=True)
def grid_query(px: np.ndarray, py: np.ndarray, sx: np.ndarray, sy: np.ndarray, m: int, x0: float,
               y0: float, cell: float, nx: int, ny: int, bounds: np.ndarray, lists: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """Per point, its m nearest shelters from its cell's list (distances sqrt(dx * dx + dy * dy),
    ascending; of equal squared distances the first in the list), and whether the point is left to
    the caller (outside the grid, not finite)."""
    n = px.size
    dist, idx = np.empty((n, m)), np.empty((n, m), np.int64)
    left = np.zeros(n, np.bool_)
    best_d, best_i = np.empty(m), np.empty(m, np.int64)
    inv = 1.0 / cell
    for q in range(n):
        x, y = px[q], py[q]
        fi, fj = math.floor((x - x0) * inv), math.floor((y - y0) * inv)
        if not (0.0 <= fi < nx and 0.0 <= fj < ny):  # (NaN fails too)
            left[q] = True
            continue
        c = int(fi) * ny + int(fj)
        best_d[:] = np.inf
        best_i[:] = -1
        last = np.inf
        for t in range(bounds[c], bounds[c + 1]):
            s = lists[t]
            dx, dy = x - sx[s], y - sy[s]
            d = dx * dx + dy * dy
            if d < last:
                last = _top(best_d, best_i, d, s)
        for j in range(m):
            dist[q, j] = math.sqrt(best_d[j])
            idx[q, j] = best_i[j]
    return dist, idx, left
