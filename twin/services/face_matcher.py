"""Synthetic face embeddings and a matcher calibrated to a false-accept and a false-reject rate.

Registered photo: a uniform random unit vector per resident (deterministic in seed and id).
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


class FaceMatcher:
    """Registered embeddings, live captures and the calibrated accept threshold."""

    def __init__(self, far: float, frr: float, dim: int = 128, seed: int = 0) -> None:
        self.far, self.frr, self.dim, self.seed = float(far), float(frr), int(dim), int(seed)
        self.threshold = impostor_threshold(self.far, self.dim)
        self.noise = capture_noise(self.frr, self.threshold, self.dim)

    def registered(self, resident_id: int) -> np.ndarray:
        """The unit embedding of the photo registered for `resident_id` (deterministic)."""
        v = np.random.default_rng(np.random.SeedSequence([self.seed, 0xFACE, int(resident_id)])).standard_normal(self.dim)
        return v / np.linalg.norm(v)

    def capture(self, person_id: int, rng: np.random.Generator) -> np.ndarray:
        """A live capture of person `person_id` at a desk camera."""
        v = self.registered(person_id) + self.noise * rng.standard_normal(self.dim) / np.sqrt(self.dim)
        return v / np.linalg.norm(v)

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
