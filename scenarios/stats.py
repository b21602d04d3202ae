"""95 % confidence intervals over replications, and differences between designs."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as st

LEVEL = 0.95


@dataclass(frozen=True, slots=True)
class Interval:
    """A mean with its confidence interval (half-width NaN when n < 2)."""

    mean: float
    low: float
    high: float
    half_width: float
    n: int

    def contains(self, x: float) -> bool:
        """Whether `x` lies inside the interval."""
        return self.low <= x <= self.high


def _finite(x: np.ndarray) -> np.ndarray:
    """The finite values of x, as float64."""
    x = np.asarray(x, dtype=np.float64)
    return x[np.isfinite(x)]


def mean_ci(values: np.ndarray, level: float = LEVEL) -> Interval:
    """Student-t interval for the mean of independent replications."""
    x = _finite(values)
    n = x.size
    if n == 0:
        nan = float("nan")
        return Interval(nan, nan, nan, nan, 0)
    m = float(x.mean())
    if n < 2:
        return Interval(m, float("nan"), float("nan"), float("nan"), n)
    half = float(st.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return Interval(m, m - half, m + half, half, n)


def diff_ci(a: np.ndarray, b: np.ndarray, paired: bool, level: float = LEVEL) -> Interval:
    """Interval for mean(b) - mean(a): paired t (common random numbers) or Welch's t."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if paired:
        if a.size != b.size:
            raise ValueError(f"paired differences need equal replications, got {a.size} and {b.size}")
        return mean_ci(b - a, level)
    a, b = _finite(a), _finite(b)
    if a.size < 2 or b.size < 2:
        d = float(b.mean() - a.mean()) if a.size and b.size else float("nan")
        nan = float("nan")
        return Interval(d, nan, nan, nan, min(a.size, b.size))
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    d = float(b.mean() - a.mean())
    se = math.sqrt(va + vb)
    if se == 0:
        return Interval(d, d, d, 0.0, min(a.size, b.size))
    dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = float(st.t.ppf(0.5 + level / 2, dof) * se)
    return Interval(d, d - half, d + half, half, min(a.size, b.size))
