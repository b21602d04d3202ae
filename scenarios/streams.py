"""Per-source random streams (common random numbers): one child stream per source of chance.

A run's SeedSequence gives one child per named source (arrivals, service times, kiosk faults,
which residents ...), in a fixed order per scenario. Two designs that differ in one element then
draw the same arrivals, the same service times and the same faults for everything else, so
their difference is the design's, not the dice's; and both engines consume the same arrays.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from scenarios.results import as_seed_sequence


def child(seed: int | np.random.SeedSequence, k: int) -> np.random.SeedSequence:
    """The k-th child of the run's seed, the same however often it is asked for (spawn() is not)."""
    ss = as_seed_sequence(seed)
    return np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, k), pool_size=ss.pool_size)


def spawn_streams(seed: int | np.random.SeedSequence, sources: tuple[str, ...]) -> dict[str, np.random.Generator]:
    """One generator per source, keyed by name; a source's stream depends only on its position."""
    return {name: np.random.default_rng(child(seed, k)) for k, name in enumerate(sources)}


class Draws:
    """A visit's own pre-drawn uniforms, handed out in order (whatever order the visits run in)."""

    __slots__ = ("_values",)

    def __init__(self, values: Iterable[float]) -> None:
        self._values: Iterator[float] = iter(values)

    def random(self) -> float:
        """The next uniform on [0, 1)."""
        return next(self._values)
