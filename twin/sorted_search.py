"""`np.searchsorted` for many queries against a large sorted column: the same answers, faster.

A binary search per query in random order touches the column all over (a cache miss per step on a
city-sized column); the same queries in sorted order walk it once, and numpy narrows each search
from the last answer. So large query sets are sorted first and the answers put back in their order
(3M sorted serials, 390k queries: ~0.10 s -> ~0.02 s CPU).
"""

from __future__ import annotations

import numpy as np

SORT_FROM = 2048  # fewer queries than this (or a column shorter than this): search them as given


def search_sorted(column: np.ndarray, queries: np.ndarray, side: str = "left") -> np.ndarray:
    """`np.searchsorted(column, queries, side)` for a sorted 1-D `column` and 1-D `queries`."""
    q = np.asarray(queries)
    if q.ndim != 1 or q.size < SORT_FROM or column.size < SORT_FROM:
        return np.searchsorted(column, q, side=side)
    order = np.argsort(q)  # equal queries get equal answers: any order of ties will do
    out = np.empty(q.size, dtype=np.intp)
    out[order] = np.searchsorted(column, q[order], side=side)
    return out


def stable_order(values: np.ndarray) -> np.ndarray:
    """`np.argsort(values, kind="stable")` of a 1-D array, by numpy's faster default sort when no two
    values are equal (then every sort gives the one order) and none is NaN; else by the stable sort."""
    v = np.asarray(values)
    order = np.argsort(v)
    s = v[order]
    if s.size > 1 and (bool((s[1:] == s[:-1]).any()) or _undefined(s[-1])):
        return np.argsort(v, kind="stable")
    return order


def _undefined(last: np.generic) -> bool:
    """Whether the last sorted value is NaN or NaT (they sort last, and never equal each other)."""
    kind = np.asarray(last).dtype.kind
    return bool(np.isnan(last)) if kind in "fc" else bool(np.isnat(last)) if kind in "mM" else False
