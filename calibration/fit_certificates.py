"""Kiosk share of certificate demand vs card ownership, and the demand's peaks (least squares)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl
from scipy import optimize

from calibration.data import assumption, table


@dataclass(frozen=True)
class KioskShareFit:
    """share = min(own, scale * own ** exponent), fitted to national volumes by fiscal year."""

    scale: float
    exponent: float
    national_requests: float  # kiosk-eligible requests a year, nationally (assumption-based)
    volumes: pl.DataFrame  # fiscal_year, certificates, bound, ownership


def volumes_with_ownership() -> pl.DataFrame:
    """National convenience-store volumes joined to the fiscal-year card ownership."""
    own = table("card_ownership_national").filter(pl.col("kind") == "fiscal_year_average")
    own = own.select(pl.col("period").str.slice(2).cast(pl.Int64).alias("fiscal_year"), "ownership")
    return table("convenience_store_volumes").join(own, on="fiscal_year", how="left").sort("fiscal_year")


def _volume_residuals(theta: np.ndarray, vol: pl.DataFrame, demand: float) -> np.ndarray:
    """Log misfit per fiscal year; a lower bound only counts when the model falls under it."""
    scale, exponent = theta
    own = vol["ownership"].to_numpy()
    model = demand * np.minimum(own, scale * own**exponent)
    r = np.log(model / vol["certificates"].to_numpy())
    lower = (vol["bound"] == "lower").to_numpy()
    return np.where(lower, np.minimum(r, 0.0), r)


def fit_kiosk_share() -> KioskShareFit:
    """Fit scale and exponent with scipy.optimize.least_squares."""
    vol = volumes_with_ownership()
    if vol["ownership"].null_count():
        raise ValueError("a fiscal year in convenience_store_volumes.csv has no card ownership")
    demand = assumption("national_population") * assumption("requests_per_resident_per_year")
    res = optimize.least_squares(_volume_residuals, [0.4, 1.2], args=(vol, demand), bounds=([1e-3, 0.1], [1.0, 5.0]))
    if not res.success:
        raise RuntimeError(f"kiosk share fit did not converge: {res.message}")
    return KioskShareFit(float(res.x[0]), float(res.x[1]), demand, vol)


@dataclass(frozen=True)
class PeakFit:
    """Time-of-day bump and moving-season bump fitted to the published busiest windows."""

    hour_centre: float
    hour_sd: float
    season_peak_factor: float
    season_peak_day: float
    width_before: float
    width_after: float


def _day_of_year(month_day: str) -> float:
    """Day number (1 Jan = 1) of 'MM-DD' in a non-leap year."""
    m, d = (int(x) for x in month_day.split("-"))
    return float(date(2023, m, d).timetuple().tm_yday)


def _hour_residuals(theta: np.ndarray, windows: list[tuple[float, float]]) -> np.ndarray:
    """Each busiest window's edges should sit at half the bump's height."""
    c, sd = theta
    edges = np.array([e for w in windows for e in w])
    return np.exp(-0.5 * ((edges - c) / sd) ** 2) - 0.5


def _season_residuals(theta: np.ndarray, peak: tuple[float, float], window: tuple[float, float]) -> np.ndarray:
    """Ishigaki's peak-day ratio at its days; the busiest window's edges at half the excess."""
    factor, d0, wb, wa = theta

    def f(d: float) -> float:
        w = wb if d < d0 else wa
        return 1 + (factor - 1) * np.exp(-0.5 * ((d - d0) / w) ** 2)

    peak_day, ratio = peak
    half = 1 + (factor - 1) / 2
    return np.array([f(peak_day) - ratio, f(window[0]) - half, f(window[1]) - half, (d0 - peak_day) / 2])


def fit_peaks() -> PeakFit:
    """Fit both bumps with scipy.optimize.least_squares."""
    peaks = table("demand_peaks")
    tod = peaks.filter(pl.col("kind") == "time_of_day")
    windows = [(float(a), float(b)) for a, b in zip(tod["start"], tod["end"], strict=True)]
    hours = optimize.least_squares(_hour_residuals, [12.5, 1.5], args=(windows,), bounds=([8, 0.3], [18, 6]))
    normal = peaks.filter(pl.col("kind") == "normal_day")["value"][0]
    top = peaks.filter(pl.col("kind") == "peak_day").row(0, named=True)
    peak_day = (_day_of_year(top["start"]) + _day_of_year(top["end"])) / 2
    busiest = peaks.filter((pl.col("kind") == "season") & (pl.col("place") == "kobe_fukuyama")).row(0, named=True)
    window = (_day_of_year(busiest["start"]), _day_of_year(busiest["end"]))
    season = optimize.least_squares(
        _season_residuals, [4.0, peak_day, 10.0, 10.0], args=((peak_day, top["value"] / normal), window),
        bounds=([1.0, 60, 1, 1], [20.0, 120, 60, 60]),
    )
    if not (hours.success and season.success):
        raise RuntimeError("demand peak fit did not converge")
    return PeakFit(*(float(v) for v in hours.x), *(float(v) for v in season.x))
