"""Each point's k nearest shelters: `cKDTree(shelters).query(points, k)`, faster for many points;
or only its nearest one's distance (`nearest_distance`: `cKDTree(sites).query(points)[0]`).

With numba loaded, many points are answered on a grid (`fast._nearest_kernel`): each point's k + 1
nearest among its cell's shelters. Where those k + 1 distances are all different, the k nearest and
their order are the only answer, so the tree's; the distances are the same floating-point operations
(sqrt(dx * dx + dy * dy)). A point with two equal distances among them (the tree orders ties its
own way), or outside the grid, is asked of the tree. The nearest distance alone is one number whatever
the order of ties, so it needs no such check.
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
    if k < 2 or not _grid_worth(points, shelters, k + 1):
        return cKDTree(shelters).query(points, k=k)
    dist, idx, left = _on_grid(points, shelters, k + 1)
    left |= (dist[:, 1:] == dist[:, :-1]).any(axis=1)  # ties: the tree's order
    dist, idx = dist[:, :k], idx[:, :k]
    if left.any():
        dist[left], idx[left] = cKDTree(shelters).query(points[left], k=k)
    return dist, idx


def nearest_distance(points: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """`cKDTree(sites).query(points)[0]` (each point's distance to its nearest site): the same array."""
    points = np.asarray(points, dtype=np.float64)
    sites = np.asarray(sites, dtype=np.float64)
    if not _grid_worth(points, sites, 1):
        return cKDTree(sites).query(points)[0]
    dist, _idx, left = _on_grid(points, sites, 1)
    dist = dist[:, 0]
    if left.any():
        dist[left] = cKDTree(sites).query(points[left])[0]
    return dist


def _grid_worth(points: np.ndarray, shelters: np.ndarray, m: int) -> bool:
    """Whether to find the m nearest on the grid: numba loaded (its import costs ~1 s), many points, at
    least m shelters but not thousands (a city has hundreds), finite shelter coordinates, plain 2-D arrays."""
    return ("numba" in sys.modules and points.ndim == 2 and points.shape[1] == 2
            and points.shape[0] >= GRID_FROM and shelters.ndim == 2 and shelters.shape[1] == 2
            and m <= shelters.shape[0] <= GRID_SHELTERS and bool(np.isfinite(shelters).all()))


def _on_grid(points: np.ndarray, shelters: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each point's m nearest on the grid (n x m distances, indices; equal ones not settled), and
    which points it leaves to the tree (outside the grid, not finite)."""
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
    bounds, lists = kernel.cell_candidates(sx, sy, m, x0, y0, cell, nx, ny)
    return kernel.grid_query(px, py, sx, sy, m, x0, y0, cell, nx, ny, bounds, lists)


def _span(shelter: np.ndarray, point: np.ndarray) -> tuple[float, float]:
    """The least and greatest finite coordinate of the shelters and points along one axis."""
    fin = point[np.isfinite(point)]
    both = np.concatenate((shelter, fin[[int(fin.argmin()), int(fin.argmax())]] if fin.size else fin))
    return float(both.min()), float(both.max())
