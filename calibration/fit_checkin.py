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


@dataclass(frozen=True)
class _Obs:
    """The trial figures as arrays: method index, log bounds, and which kind of figure each is."""

    method: np.ndarray
    lo: np.ndarray
    hi: np.ndarray  # NaN for a lower bound
    exact: np.ndarray
    lower: np.ndarray
    slow: np.ndarray  # ratio figures: the slower and faster method, and the log ratio
    fast: np.ndarray
    log_ratio: np.ndarray


def _observations(means: pl.DataFrame, ratios: pl.DataFrame) -> _Obs:
    """Arrays for the vectorised likelihood."""
    idx = {m: i for i, m in enumerate(CHECKIN_METHODS)}
    lo = np.log(means["low"].cast(pl.Float64).to_numpy())
    hi = np.log(means["high"].cast(pl.Float64).fill_null(np.nan).to_numpy())
    pairs = [r.split("/") for r in ratios["method"].to_list()]
    return _Obs(
        method=np.array([idx[m] for m in means["method"]]), lo=lo, hi=hi,
        exact=np.isclose(lo, hi), lower=np.isnan(hi),
        slow=np.array([idx[a] for a, _ in pairs], dtype=int), fast=np.array([idx[b] for _, b in pairs], dtype=int),
        log_ratio=np.log(ratios["low"].cast(pl.Float64).to_numpy()),
    )


def _negloglik(theta: np.ndarray, obs: _Obs) -> float:
    """Negative log-likelihood: log trial means ~ Normal(mu_method, sigma), censored as published."""
    mus, sigma = theta[:-1], float(np.exp(theta[-1]))
    mu = mus[obs.method]
    hi = np.where(obs.lower, obs.lo, obs.hi)  # placeholder where unused
    interval = np.log(stats.norm.cdf(hi, mu, sigma) - stats.norm.cdf(obs.lo, mu, sigma) + 1e-300)
    ll = np.where(obs.exact, stats.norm.logpdf(obs.lo, mu, sigma),
                  np.where(obs.lower, stats.norm.logsf(obs.lo, mu, sigma), interval))
    ratio = stats.norm.logpdf(obs.log_ratio, mus[obs.slow] - mus[obs.fast], sigma * np.sqrt(2))
    return -float(ll.sum() + ratio.sum())


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
        _negloglik, np.array([*start, np.log(0.5)]), args=(_observations(means, ratios),), method="Nelder-Mead",
        options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 20_000, "maxfev": 40_000},
    )
    if not res.success:
        raise RuntimeError(f"check-in fit did not converge: {res.message}")
    trials_by = {m: _trials_of(df, m) for m in CHECKIN_METHODS}
    mean_s = {m: float(np.exp(mu)) for m, mu in zip(CHECKIN_METHODS, res.x[:-1], strict=True)}
    return CheckinFit(mean_s=mean_s, sigma=float(np.exp(res.x[-1])), trials=trials_by)
