"""The evacuation curve fitted to Kumamoto 2016 and Noto 2024 (nonlinear least squares)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl
from scipy import optimize

from calibration.data import assumption, table
from calibration.params import EvacuationCurve


@dataclass(frozen=True)
class EvacuationFit:
    """The fitted curve, the Noto scale it needed, and each observation's hours after the shock."""

    curve: EvacuationCurve
    noto_peak_evacuees: float
    observations: pl.DataFrame  # event, observation, hours, evacuees, bound, area_population
    cost: float


def observations(df: pl.DataFrame | None = None) -> pl.DataFrame:
    """The evacuation table with `hours` after the main shock added."""
    df = table("evacuations") if df is None else df

    def hours(shock: str, seen: str) -> float:
        return (datetime.fromisoformat(seen) - datetime.fromisoformat(shock)).total_seconds() / 3600

    h = [hours(a, b) for a, b in zip(df["main_shock_jst"], df["observed_jst"], strict=True)]
    return df.with_columns(pl.Series("hours", h))


def _residuals(theta: np.ndarray, obs: pl.DataFrame, shape: float) -> np.ndarray:
    """Log-ratio misfits: each observed count, and each event's peak time against the model's."""
    peak_share, tp, decline, noto_scale = theta
    curve = EvacuationCurve(peak_share, tp, decline, shape)
    out = []
    for r in obs.iter_rows(named=True):
        share = float(curve.present_share(r["hours"]))
        if r["event"] == "kumamoto_2016":
            model = share * r["area_population"]
        else:
            model = noto_scale * share / peak_share
        out.append(np.log(model / r["evacuees"]))
        if r["observation"] == "peak":
            out.append(np.log(tp / r["hours"]))
    return np.array(out)


def fit_evacuation(df: pl.DataFrame | None = None) -> EvacuationFit:
    """Fit peak share, time to peak and decline with scipy.optimize.least_squares."""
    obs = observations(df)
    shape = assumption("evacuation_rise_shape")
    kum = obs.filter(pl.col("event") == "kumamoto_2016").row(0, named=True)
    x0 = np.array([kum["evacuees"] / kum["area_population"], 24.0, 0.05, 50_000.0])
    res = optimize.least_squares(
        _residuals, x0, args=(obs, shape), x_scale=np.array([0.1, 10.0, 0.05, 1e4]),
        bounds=([1e-4, 1.0, 0.0, 1.0], [1.0, 240.0, 2.0, 1e7]),
    )
    if not res.success:
        raise RuntimeError(f"evacuation fit did not converge: {res.message}")
    peak_share, tp, decline, noto = (float(v) for v in res.x)
    sources = tuple(f"{r['event']} {r['observation']}" for r in obs.iter_rows(named=True))
    curve = EvacuationCurve(peak_share, tp, decline, shape, sources + ("rise shape: assumption",))
    return EvacuationFit(curve, noto, obs, float(res.cost))
