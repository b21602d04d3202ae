"""Per-source random streams (common random numbers): one child of the run's seed per source.

A run draws each source of chance — arrivals, service times per channel, card holding, network
faults, look-ups … — from its own stream, derived from the run's `SeedSequence` and the
source's name (not from the order in which sources are asked for). Two designs that differ in
one element therefore keep every other source's draws identical, so their difference is the
element's effect and not a reshuffle of chance; and both engines consume the same streams.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable

import numpy as np


class Streams:
    """Named child generators of one seed; the same name always gives the same stream."""

    __slots__ = ("_seed", "_made", "_single")

    def __init__(self, seed: np.random.SeedSequence) -> None:
        self._seed = seed
        self._made: dict[str, np.random.Generator] = {}
        self._single: np.random.Generator | None = None

    @classmethod
    def single(cls, rng: np.random.Generator) -> Streams:
        """Every source drawn from one generator (callers that pass one rng)."""
        s = cls(np.random.SeedSequence(0))
        s._single = rng
        return s

    def __getitem__(self, source: str) -> np.random.Generator:
        """The stream of one source (made on first use, then kept)."""
        if self._single is not None:
            return self._single
        rng = self._made.get(source)
        if rng is None:
            key = zlib.crc32(source.encode())
            child = np.random.SeedSequence(self._seed.entropy,
                                           spawn_key=(*self._seed.spawn_key, key))
            rng = self._made[source] = np.random.default_rng(child)
        return rng


def as_streams(rng: np.random.Generator | Streams) -> Streams:
    """Streams as given, or one generator serving every source."""
    return rng if isinstance(rng, Streams) else Streams.single(rng)


class Draws:
    """A visit's own pre-drawn uniforms, handed out in order (whatever order the visits run in)."""

    __slots__ = ("random",)

    def __init__(self, values: Iterable[float]) -> None:
        self.random: Callable[[], float] = iter(values).__next__  # the next uniform on [0, 1), as rng.random()
