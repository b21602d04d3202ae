"""What a run builds from the whole city, built once per process and copied per replication.

A replication of a full-scale city rebuilds the same things from the same residents frame every
time (the card registry of ~740,000 residents, the eligible requesters per ward ...). `template`
keeps the last few of each kind, keyed by the frame object itself (held here, so its identity
cannot be reused by another frame) and a key of the other inputs; the caller copies what a run
may change (`CardRegistry.fresh_copy`) so no replication sees another's state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
KEEP = 2  # templates kept per kind (a study alternates between at most two cities' frames)

_TEMPLATES: dict[str, list[tuple[Any, tuple, Any]]] = {}
_COUNTS: dict[str, list[int]] = {}  # kind -> [built, reused]


def template(kind: str, frame: Any, key: tuple, build: Callable[[], T]) -> T:
    """The `kind` template of this frame object and key: `build()` on first use, then the same object."""
    kept = _TEMPLATES.setdefault(kind, [])
    counts = _COUNTS.setdefault(kind, [0, 0])
    for f, k, value in kept:
        if f is frame and k == key:
            counts[1] += 1
            return value
    value = build()
    counts[0] += 1
    kept[:] = [(frame, key, value), *kept[: KEEP - 1]]
    return value


def clear() -> None:
    """Forget every template (the next run builds them again, as in a fresh process)."""
    _TEMPLATES.clear()
    _COUNTS.clear()


def counts() -> dict[str, tuple[int, int]]:
    """(built, reused) per kind since the last `clear`."""
    return {kind: (c[0], c[1]) for kind, c in _COUNTS.items()}
