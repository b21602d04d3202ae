"""Synthetic face embeddings and a matcher calibrated to a false-accept and a false-reject rate.

Registered photo: a uniform random unit vector per resident, a pure function of (seed, id)
(hashed uniforms through Box-Muller, so a whole city's photos need no stored table).
Live capture: normalize(registered + noise * N(0, I/d)). A different person's capture is then
an independent uniform unit vector, so impostor cosines follow the exact law with density
proportional to (1 - c^2)^((d-3)/2): the threshold is its (1 - FAR) quantile. The noise
level is then chosen (bisection on a fixed Monte Carlo sample) so genuine cosines fall below
the threshold with probability FRR.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from twin.errors import ValidationError

GRID = 400_001  # points on [-1, 1] for the impostor law
MC_SAMPLES = 200_000  # genuine-score sample used to set the noise


@cache
def impostor_threshold(far: float, dim: int) -> float:
    """The cosine above which a random unit vector falls with probability `far`."""
    if not 0.0 < far < 1.0:
        raise ValidationError(f"false_accept_rate must be strictly between 0 and 1, got {far}")
    c = np.linspace(-1.0, 1.0, GRID)
    logf = 0.5 * (dim - 3) * np.log(np.clip(1.0 - c * c, 1e-300, None))
    f = np.exp(logf - logf.max())
    cdf = np.concatenate([[0.0], np.cumsum((f[1:] + f[:-1]) * 0.5)])
    tail = 1.0 - cdf / cdf[-1]
    return float(np.interp(far, tail[::-1], c[::-1]))


def genuine_scores(noise: float, dim: int, z: np.ndarray, chi2: np.ndarray) -> np.ndarray:
    """Genuine cosines for a noise level, from standard-normal `z` and chi-square(d-1) `chi2` draws."""
    a = 1.0 + noise * z / np.sqrt(dim)
    return a / np.sqrt(a * a + noise * noise * chi2 / dim)


@cache
def capture_noise(frr: float, threshold: float, dim: int) -> float:
    """The noise level at which genuine scores fall below `threshold` with probability `frr`."""
    if not 0.0 < frr < 1.0:
        raise ValidationError(f"false_reject_rate must be strictly between 0 and 1, got {frr}")
    rng = np.random.default_rng(20240101)
    z, chi2 = rng.standard_normal(MC_SAMPLES), rng.chisquare(dim - 1, MC_SAMPLES)
    lo, hi = 0.0, 1.0
    while np.mean(genuine_scores(hi, dim, z, chi2) < threshold) < frr:
        hi *= 2.0
        if hi > 1e6:
            raise ValidationError(f"cannot reach false_reject_rate {frr} at threshold {threshold:.3f}")
    for _ in range(32):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if np.mean(genuine_scores(mid, dim, z, chi2) < threshold) < frr else (lo, mid)
    return 0.5 * (lo + hi)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser over uint64 values (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _mix_in_place(z: np.ndarray) -> np.ndarray:
    """`_mix` written into `z` itself (no temporaries: a city's worth of hashes is large)."""
    with np.errstate(over="ignore"):
        z += np.uint64(0x9E3779B97F4A7C15)
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return z


def _gaussians(seed: np.uint64, ids: np.ndarray, dim: int) -> np.ndarray:
    """Standard normals, `dim` per id, a pure function of (seed, id, column): each 64-bit hash gives two
    32-bit uniforms, Box-Muller turns them into two normals (computed in place, the same operations)."""
    key = _mix(_mix(np.full(ids.shape, seed, dtype=np.uint64)) ^ ids)
    half = (dim + 1) // 2
    with np.errstate(over="ignore"):
        h = _mix_in_place(key[:, None] + np.arange(half, dtype=np.uint64) * np.uint64(0x632BE59BD9B4E019))
    r = (h >> np.uint64(32)).astype(np.float64)  # u1, then r = sqrt(-2 log u1)
    r += 0.5
    r *= 2.0**-32
    np.log(r, out=r)
    r *= -2.0
    np.sqrt(r, out=r)
    h &= np.uint64(0xFFFFFFFF)
    a = h.astype(np.float64)  # u2, then the angle 2 pi u2
    a += 0.5
    a *= 2.0**-32
    a *= 2.0 * np.pi
    out = np.empty((ids.size, 2 * half))
    np.cos(a, out=out[:, :half])
    out[:, :half] *= r
    np.sin(a, out=out[:, half:])
    out[:, half:] *= r
    return out[:, :dim]


class FaceMatcher:
    """Registered embeddings, live captures and the calibrated accept threshold."""

    def __init__(self, far: float, frr: float, dim: int = 128, seed: int = 0) -> None:
        self.far, self.frr, self.dim, self.seed = float(far), float(frr), int(dim), int(seed)
        self.threshold = impostor_threshold(self.far, self.dim)
        self.noise = capture_noise(self.frr, self.threshold, self.dim)
        self._last: tuple[int, np.ndarray] = (-1, np.empty((1, self.dim)))  # one id's rows, reused
        self._known: dict[int, np.ndarray] = {}  # rows computed ahead by `prepare`
        self._root_dim = np.sqrt(self.dim)

    def prepare(self, resident_ids) -> None:
        """Compute the registered embeddings of these residents now, in one vectorised pass (each row
        is the same as computed alone), so a later capture or score of one of them reads it."""
        ids = np.unique(np.asarray(resident_ids, dtype=np.int64)).astype(np.uint64)
        if not ids.size:
            return
        v = _gaussians(np.uint64(self.seed), ids, self.dim)
        v = v / np.linalg.norm(v, axis=1, keepdims=True)
        self._known = {**self._known, **dict(zip(ids.tolist(), v, strict=True))}

    def registered_many(self, resident_ids) -> np.ndarray:
        """The unit embeddings (one row each) of the photos registered for `resident_ids` (deterministic)."""
        ids = np.atleast_1d(np.asarray(resident_ids, dtype=np.int64)).astype(np.uint64)
        last_id, last = self._last  # read once: another thread may replace it
        if ids.size == 1 and int(ids[0]) == last_id:  # a capture then its score: same person
            return last.copy()
        known = self._known.get(int(ids[0])) if ids.size == 1 else None
        if known is not None:
            v = known[None, :].copy()
        else:
            v = _gaussians(np.uint64(self.seed), ids, self.dim)
            v = v / np.linalg.norm(v, axis=1, keepdims=True)
        if ids.size == 1:
            self._last = (int(ids[0]), v.copy())
        return v

    def registered(self, resident_id: int) -> np.ndarray:
        """The unit embedding of the photo registered for `resident_id`."""
        return self.registered_many([resident_id])[0]

    def capture_many(self, person_ids, rng: np.random.Generator) -> np.ndarray:
        """Live captures (one row each) of the given people at a desk camera."""
        base = self.registered_many(person_ids)
        v = base + self.noise * rng.standard_normal(base.shape) / np.sqrt(self.dim)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def capture(self, person_id: int, rng: np.random.Generator) -> np.ndarray:
        """A live capture of person `person_id`."""
        return self.capture_many([person_id], rng)[0]

    def _row(self, resident_id: int) -> np.ndarray:
        """One resident's registered embedding (1-D, shared: not to be written to)."""
        row = self._known.get(resident_id)
        if row is not None:
            return row
        last_id, last = self._last
        return last[0] if last_id == resident_id else self.registered_many([resident_id])[0]

    def capture_one(self, person_id: int, rng: np.random.Generator) -> np.ndarray:
        """`capture` of a valid resident id without the column path's per-call set-up: the same draws
        and the same arithmetic, so the same bits."""
        v = rng.standard_normal(self.dim)
        v *= self.noise  # the same operations in place: row + noise * z / root
        v /= self._root_dim
        v += self._row(person_id)
        v /= np.sqrt(np.add.reduce(v * v))  # `np.linalg.norm(v, axis=1)` of one row
        return v

    def score_one(self, probe: np.ndarray, resident_id: int) -> float:
        """`score` of a 1-D float64 capture (as `capture_one` makes) against a valid resident id."""
        n = np.sqrt(probe.dot(probe))  # `np.linalg.norm(probe)` of a 1-D array
        if not 0.0 < n < np.inf or probe.shape != (self.dim,):
            return self.score(probe, resident_id)  # raises naming the problem
        return float(self._row(resident_id) @ probe / n)

    def scores_many(self, probes: np.ndarray, resident_ids) -> np.ndarray:
        """Cosines between captures (rows) and the registered photos of `resident_ids`."""
        p = np.asarray(probes, dtype=np.float64)
        return np.einsum("ij,ij->i", self.registered_many(resident_ids), p) / np.linalg.norm(p, axis=1)

    def score(self, probe: np.ndarray, resident_id: int) -> float:
        """The cosine between a capture and a resident's registered photo."""
        p = np.asarray(probe, dtype=np.float64)
        if p.shape != (self.dim,) or not np.isfinite(p).all():
            raise ValidationError(f"a capture must be {self.dim} finite numbers, got shape {p.shape}")
        n = np.linalg.norm(p)
        if n == 0:
            raise ValidationError("a capture must not be the zero vector")
        return float(self.registered(resident_id) @ p / n)

    def accepts(self, probe: np.ndarray, resident_id: int) -> bool:
        """Whether the matcher accepts the capture as `resident_id`."""
        return self.score(probe, resident_id) >= self.threshold
