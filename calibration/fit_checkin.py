"""Shelter check-in times fitted to the published trials (censored maximum likelihood)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import optimize, stats

from calibration.data import table
from calibration.params import CHECKIN_METHODS, ServiceTime


@dataclass(frozen=True)
class CheckinFit:
    """Per-method typical trial mean (seconds) and the pooled log-spread between trials."""

    mean_s: dict[str, float]
    sigma: float
    trials: dict[str, tuple[str, ...]]

    def service_times(self) -> dict[str, ServiceTime]:
        """Person-level lognormal times whose mean is the fitted typical trial mean."""
        return {
            m: ServiceTime.from_mean(self.mean_s[m], self.sigma, self.trials[m]) for m in CHECKIN_METHODS
        }


def _loglik_terms(mu: float, sigma: float, low: float, high: float | None) -> float:
    """Log-likelihood of one trial mean: exact, lower-bounded, or in an interval (log scale)."""
    lo = np.log(low)
    if high is None:
        return float(stats.norm.logsf(lo, mu, sigma))
    hi = np.log(high)
    if np.isclose(lo, hi):
        return float(stats.norm.logpdf(lo, mu, sigma))
    return float(np.log(stats.norm.cdf(hi, mu, sigma) - stats.norm.cdf(lo, mu, sigma) + 1e-300))


def _negloglik(theta: np.ndarray, means: pl.DataFrame, ratios: pl.DataFrame) -> float:
    """Negative log-likelihood: log trial means ~ Normal(mu_method, sigma), censored as published."""
    mus = dict(zip(CHECKIN_METHODS, theta[:-1], strict=True))
    sigma = float(np.exp(theta[-1]))
    ll = 0.0
    for r in means.iter_rows(named=True):
        ll += _loglik_terms(mus[r["method"]], sigma, r["low"], r["high"])
    for r in ratios.iter_rows(named=True):
        slow, fast = r["method"].split("/")
        ll += float(stats.norm.logpdf(np.log(r["low"]), mus[slow] - mus[fast], sigma * np.sqrt(2)))
    return -ll


def _trials_of(df: pl.DataFrame, method: str) -> tuple[str, ...]:
    """The trials that informed one method (ratios count for both of their methods)."""
    hit = df.filter(pl.col("method").str.split("/").list.contains(method))
    return tuple(sorted(set(hit["trial"].to_list())))


def fit_checkin(trials: pl.DataFrame | None = None) -> CheckinFit:
    """Fit every method's typical time and the shared spread with scipy.optimize.minimize."""
    df = table("checkin_trials") if trials is None else trials
    means = df.filter(pl.col("statistic") == "mean")
    ratios = df.filter(pl.col("statistic") == "ratio")
    start = [float(np.log(means.filter(pl.col("method") == m)["low"].mean())) for m in CHECKIN_METHODS]
    res = optimize.minimize(
        _negloglik, np.array([*start, np.log(0.5)]), args=(means, ratios), method="Nelder-Mead",
        options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 20_000, "maxfev": 40_000},
    )
    if not res.success:
        raise RuntimeError(f"check-in fit did not converge: {res.message}")
    trials_by = {m: _trials_of(df, m) for m in CHECKIN_METHODS}
    mean_s = {m: float(np.exp(mu)) for m, mu in zip(CHECKIN_METHODS, res.x[:-1], strict=True)}
    return CheckinFit(mean_s=mean_s, sigma=float(np.exp(res.x[-1])), trials=trials_by)
