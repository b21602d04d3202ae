"""Each point's k nearest shelters: `cKDTree(shelters).query(points, k)`, faster for many points.

With numba loaded, many points are answered on a grid (`fast._nearest_kernel`): each point's k + 1
nearest among its cell's shelters. Where those k + 1 distances are all different, the k nearest and
their order are the only answer, so the tree's; the distances are the same floating-point operations
(sqrt(dx * dx + dy * dy)). A point with two equal distances among them (the tree orders ties its
own way), or outside the grid, is asked of the tree.
"""

from __future__ import annotations

import math
import sys

import numpy as np
from scipy.spatial import cKDTree

GRID_FROM = 4096  # fewer points than this: the tree alone (the grid's set-up is not worth it)
CELLS_PER_SHELTER = 4  # the grid's cells per shelter (about: a cell's list holds a few dozen)
GRID_SHELTERS = 2048  # more shelters than this: the tree (the grid's set-up grows as shelters squared)


def nearest(points: np.ndarray, shelters: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """`cKDTree(shelters).query(points, k=k)` for k >= 2 (n x k distances and indices): the same arrays."""
    points = np.asarray(points, dtype=np.float64)
    shelters = np.asarray(shelters, dtype=np.float64)
    if not _grid_worth(points, shelters, k):
        return cKDTree(shelters).query(points, k=k)
    return _on_grid(points, shelters, k)


def _grid_worth(points: np.ndarray, shelters: np.ndarray, k: int) -> bool:
    """Whether to answer on the grid: numba loaded (its import costs ~1 s), many points, more than
    k shelters but not thousands (a city has hundreds), finite shelter coordinates, plain 2-D arrays."""
    return ("numba" in sys.modules and k >= 2 and points.ndim == 2 and points.shape[1] == 2
            and points.shape[0] >= GRID_FROM and shelters.ndim == 2 and shelters.shape[1] == 2
            and k < shelters.shape[0] <= GRID_SHELTERS and bool(np.isfinite(shelters).all()))


def _on_grid(points: np.ndarray, shelters: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The grid's answers, with the tree's for the points it leaves (ties, outside the grid)."""
    from scenarios.fast import _nearest_kernel as kernel

    sx, sy = np.ascontiguousarray(shelters[:, 0]), np.ascontiguousarray(shelters[:, 1])
    px, py = np.ascontiguousarray(points[:, 0]), np.ascontiguousarray(points[:, 1])
    # the grid spans the shelters and the points (a point not finite is left to the tree)
    x0, x1 = _span(sx, px)
    y0, y1 = _span(sy, py)
    w, h = x1 - x0, y1 - y0
    cell = math.sqrt(max(w * h, 1e-12) / (CELLS_PER_SHELTER * sx.size))
    cell = max(cell, max(w, h) / 4096.0, 1e-9)  # (a thin layout: not millions of cells)
    nx, ny = int(w / cell) + 1, int(h / cell) + 1
    bounds, lists = kernel.cell_candidates(sx, sy, k + 1, x0, y0, cell, nx, ny)
    dist, idx, left = kernel.grid_query(px, py, sx, sy, k + 1, x0, y0, cell, nx, ny, bounds, lists)
    left |= (dist[:, 1:] == dist[:, :-1]).any(axis=1)
    dist, idx = dist[:, :k], idx[:, :k]
    if left.any():
        dist[left], idx[left] = cKDTree(shelters).query(points[left], k=k)
    return dist, idx


def _span(shelter: np.ndarray, point: np.ndarray) -> tuple[float, float]:
    """The least and greatest finite coordinate of the shelters and points along one axis."""
    fin = point[np.isfinite(point)]
    both = np.concatenate((shelter, fin[[int(fin.argmin()), int(fin.argmax())]] if fin.size else fin))
    return float(both.min()), float(both.max())
