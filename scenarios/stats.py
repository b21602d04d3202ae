"""95 % confidence intervals over replications that respect each KPI's range, and verdicts.

One method for every kind, chosen so no interval leaves the quantity's range: a Student-t
interval for the mean on a scale where the range is the whole real line, mapped back (the
delta method). Shares (and any quantity bounded on both sides) use the logit scale, quantities
bounded below (waits, counts, costs, per-replication quantiles) the log scale, and signed
quantities the plain scale. Differences between designs live in [lo - hi, hi - lo]: bounded
ones use the arctanh scale of the difference over the range's width, unbounded ones the plain
scale; paired differences (common random numbers) stay paired. Every interval contains its
mean and collapses to a point when the replications do not vary. Below `MIN_REPS` finite
replications no interval is given: `Interval.needs` says how many it takes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special
from scipy import stats as st

LEVEL = 0.95
MIN_REPS = 2
_SLACK = 1e-9  # relative tolerance for values on a bound after floating-point arithmetic
UNBOUNDED = (-math.inf, math.inf)


@dataclass(frozen=True, slots=True)
class Interval:
    """A mean with its confidence interval; `needs` > 0 when there are too few replications."""

    mean: float
    low: float
    high: float
    n: int
    needs: int = 0

    @property
    def defined(self) -> bool:
        """Whether there is an interval (enough finite replications)."""
        return not (math.isnan(self.low) or math.isnan(self.high))

    @property
    def half_width(self) -> float:
        """Half the interval's width (NaN without an interval)."""
        return (self.high - self.low) / 2 if self.defined else float("nan")

    def contains(self, x: float) -> bool:
        """Whether `x` lies inside the interval."""
        return self.defined and self.low <= x <= self.high


def _finite(x: np.ndarray) -> np.ndarray:
    """The finite values of x, as float64."""
    x = np.asarray(x, dtype=np.float64)
    return x[np.isfinite(x)]


def _within(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """x clipped onto [lo, hi] after checking it lies there up to rounding."""
    tol = _SLACK * max([1.0, *(abs(b) for b in (lo, hi) if math.isfinite(b))])
    if x.size and (x.min() < lo - tol or x.max() > hi + tol):
        raise ValueError(f"values {x.min():g}..{x.max():g} leave the declared range [{lo}, {hi}]")
    return np.clip(x, lo, hi)


def _transformed(m: float, se: float, q: float, lo: float, hi: float) -> tuple[float, float]:
    """The interval m +- q se taken on the scale that maps [lo, hi] to the real line."""
    if se == 0 or m <= lo or m >= hi:
        return m, m
    if math.isfinite(lo) and math.isfinite(hi):
        w = hi - lo
        u = (m - lo) / w
        g, dg = special.logit(u), 1.0 / (u * (1 - u))
        d = q * se / w * dg
        return lo + w * float(special.expit(g - d)), lo + w * float(special.expit(g + d))
    if math.isfinite(lo):
        d = q * se / (m - lo)
        return lo + (m - lo) * math.exp(-d), lo + (m - lo) * _exp(d)
    if math.isfinite(hi):
        d = q * se / (hi - m)
        return hi - (hi - m) * _exp(d), hi - (hi - m) * math.exp(-d)
    return m - q * se, m + q * se


def _exp(x: float) -> float:
    """exp that saturates to infinity instead of raising."""
    return math.exp(x) if x < 700 else math.inf


def _clamp(low: float, high: float, m: float, lo: float, hi: float) -> tuple[float, float]:
    """The bounds kept inside [lo, hi] and around the mean (guards rounding at the edges)."""
    return min(max(low, lo), m), max(min(high, hi), m)


def mean_ci(values: np.ndarray, bounds: tuple[float, float] = UNBOUNDED,
            level: float = LEVEL) -> Interval:
    """Interval for the mean of independent replications of a quantity in `bounds`."""
    lo, hi = bounds
    x = _within(_finite(values), lo, hi)
    n = x.size
    if n == 0:
        nan = float("nan")
        return Interval(nan, nan, nan, 0, MIN_REPS)
    m = float(x.mean())
    if n < MIN_REPS:
        return Interval(m, float("nan"), float("nan"), n, MIN_REPS)
    se = float(x.std(ddof=1)) / math.sqrt(n)
    q = float(st.t.ppf(0.5 + level / 2, n - 1))
    low, high = _transformed(m, se, q, lo, hi)
    return Interval(m, *_clamp(low, high, m, lo, hi), n)


def difference_bounds(bounds: tuple[float, float]) -> tuple[float, float]:
    """The range of a difference of two values in `bounds`."""
    w = bounds[1] - bounds[0]
    return (-w, w) if math.isfinite(w) else UNBOUNDED


def _difference(d: float, se: float, q: float, w: float) -> tuple[float, float]:
    """d +- q se on the arctanh scale of d / w when the range's width w is finite."""
    if not math.isfinite(w) or se == 0 or abs(d) >= w:
        return (d - q * se, d + q * se) if se else (d, d)
    u = d / w
    g, dg = math.atanh(u), 1.0 / (1 - u * u)
    h = q * se / w * dg
    return w * math.tanh(g - h), w * math.tanh(g + h)


def diff_ci(a: np.ndarray, b: np.ndarray, paired: bool, bounds: tuple[float, float] = UNBOUNDED,
            level: float = LEVEL) -> Interval:
    """Interval for mean(b) - mean(a): paired (common random numbers) or Welch's."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    lo, hi = bounds
    dlo, dhi = difference_bounds(bounds)
    w = dhi
    nan = float("nan")
    if paired:
        if a.size != b.size:
            raise ValueError(f"paired differences need equal replications, got {a.size} and {b.size}")
        keep = np.isfinite(a) & np.isfinite(b)
        d = _within(b[keep], lo, hi) - _within(a[keep], lo, hi)
        n = d.size
        if n < MIN_REPS:
            return Interval(float(d.mean()) if n else nan, nan, nan, n, MIN_REPS)
        m = float(d.mean())
        se = float(d.std(ddof=1)) / math.sqrt(n)
        q = float(st.t.ppf(0.5 + level / 2, n - 1))
    else:
        a, b = _within(_finite(a), lo, hi), _within(_finite(b), lo, hi)
        n = min(a.size, b.size)
        m = float(b.mean() - a.mean()) if a.size and b.size else nan
        if n < MIN_REPS:
            return Interval(m, nan, nan, n, MIN_REPS)
        va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
        se = math.sqrt(va + vb)
        den = va**2 / (a.size - 1) + vb**2 / (b.size - 1)
        dof = (va + vb) ** 2 / den if den > 0 else math.nan
        if not (math.isfinite(dof) and dof >= 1):  # underflow: the conservative choice
            dof = float(min(a.size, b.size) - 1)
        q = float(st.t.ppf(0.5 + level / 2, dof))
    low, high = _difference(m, se, q, w)
    return Interval(m, *_clamp(low, high, m, dlo, dhi), n)


def verdict(better: str, ci: Interval) -> str:
    """'better', 'worse' or 'no clear difference' from a difference's interval and direction.

    A KPI with no good direction gets no verdict (""); with too few replications the verdict
    says how many an interval needs.
    """
    if not better:
        return ""
    if ci.needs:
        return f"needs ≥ {ci.needs} replications"
    if not ci.defined or ci.low <= 0 <= ci.high:
        return "no clear difference"
    return "better" if (ci.high < 0) == (better == "lower") else "worse"


def relative_half_width(ci: Interval, floor: float = 0.0) -> float:
    """Half-width over max(|mean|, floor): the precision `--precision` compares with R.

    A mean near zero would make any interval look imprecise, so a KPI declares a floor (its
    smallest magnitude that matters); a zero-width interval is always precise. NaN without an
    interval.
    """
    if not ci.defined:
        return float("nan")
    hw = ci.half_width
    if hw == 0:
        return 0.0
    ref = max(abs(ci.mean), floor)
    return hw / ref if ref > 0 else math.inf
