"""Recalibrating the disaster scenario from a drill: reader service times and arrivals, fitted with SciPy.

The estimator of a reader's service time: the gap between two consecutive card taps at one
reader is the next person's time at the reader IF the reader was busy (someone was waiting
when the previous person finished). Taps do not show who was waiting, so a gap counts as busy
when it is at most `busy_gap_s` (default 180 s, about 8x the published card mean); longer gaps
are idle time and dropped. The lognormal is then fitted to the kept gaps by maximum likelihood
truncated at `busy_gap_s` (scipy.optimize.minimize), so dropping long services does not bias
it down. It is biased UP when a reader went idle for less than `busy_gap_s` (the gap then holds
idle time as well as service: lightly used readers), and it measures tap-to-tap time, which
includes the next person stepping up. Zero gaps (taps sent in one batch with one time) carry
no duration and are dropped. Paper forms and face checks are taken by several staff per
shelter and the journal does not say who took which, so their times are not identifiable:
the drill gives their counts and shares only, and their published values stay.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy
from scipy import optimize, stats

from calibration.drill import DrillData
from calibration.params import ServiceTime, fitted
from twin.clock import to_jst
from twin.errors import ValidationError

BUSY_GAP_S = 180.0
MIN_GAPS = 30  # fewer busy gaps than this: no fit (the spread would be a guess)


@dataclass(frozen=True)
class LognormalFit:
    """A lognormal fitted to busy gaps, with its quality."""

    mu: float
    sigma: float
    n: int
    dropped_idle: int
    dropped_zero: int
    ks_statistic: float
    ks_pvalue: float
    mu_se: float
    sigma_se: float

    @property
    def mean_s(self) -> float:
        """Mean service time in seconds."""
        return math.exp(self.mu + self.sigma**2 / 2)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"mu": self.mu, "sigma": self.sigma, "mean_s": self.mean_s, "busy_gaps": self.n,
                "dropped_idle_gaps": self.dropped_idle, "dropped_zero_gaps": self.dropped_zero,
                "ks_statistic": self.ks_statistic, "ks_pvalue": self.ks_pvalue,
                "mu_se": self.mu_se, "sigma_se": self.sigma_se}


def busy_gaps(data: DrillData, busy_gap_s: float = BUSY_GAP_S) -> tuple[dict[int, np.ndarray], int, int]:
    """Per reader, the gaps (s) between consecutive taps that count as busy; and how many idle and zero gaps were dropped."""
    out, idle, zero = {}, 0, 0
    for reader in data.readers():
        t = np.sort(data.tap_at[data.tap_reader == reader])
        g = np.diff(t)
        zero += int((g <= 0).sum())
        idle += int((g > busy_gap_s).sum())
        out[int(reader)] = g[(g > 0) & (g <= busy_gap_s)]
    return out, idle, zero


def fit_truncated_lognormal(gaps: np.ndarray, cut_s: float, idle: int = 0, zero: int = 0) -> LognormalFit:
    """Maximum likelihood of a lognormal right-truncated at `cut_s` (scipy.optimize.minimize), with a KS check."""
    x = np.log(np.asarray(gaps, dtype=float))
    if x.size < MIN_GAPS:
        raise ValidationError(f"only {x.size} busy gaps between card taps (need {MIN_GAPS}): the drill is too "
                              "small, or its readers were never busy")
    c = math.log(cut_s)

    def nll(theta: np.ndarray) -> float:
        mu, sigma = theta[0], math.exp(theta[1])
        return -float(stats.norm.logpdf(x, mu, sigma).sum() - x.size * stats.norm.logcdf(c, mu, sigma))

    res = optimize.minimize(nll, np.array([x.mean(), math.log(max(x.std(), 0.05))]), method="BFGS")
    if not np.all(np.isfinite(res.x)):
        raise ValidationError(f"the service-time fit did not converge: {res.message}")
    mu, sigma = float(res.x[0]), float(math.exp(res.x[1]))
    cov = np.asarray(res.hess_inv)
    trunc = stats.truncnorm((-np.inf - mu) / sigma, (c - mu) / sigma, loc=mu, scale=sigma)
    ks = stats.kstest(x, trunc.cdf)
    return LognormalFit(mu, sigma, int(x.size), idle, zero, float(ks.statistic), float(ks.pvalue),
                        float(math.sqrt(max(cov[0, 0], 0))), float(sigma * math.sqrt(max(cov[1, 1], 0))))


@dataclass(frozen=True)
class DrillFit:
    """What a drill supports: the card channel's service time (pooled and per reader), arrivals, provenance."""

    card: LognormalFit
    per_reader: dict[int, LognormalFit]
    arrivals: dict[str, Any]
    provenance: dict[str, Any]
    not_fitted: dict[str, str] = field(default_factory=dict)

    def overrides(self) -> dict[str, float]:
        """The disaster scenario parameters the drill replaces (`run.py scenario disaster --set @FILE`)."""
        return {"card_tap_mean_s": self.card.mean_s, "checkin_sigma": self.card.sigma}

    def to_dict(self) -> dict[str, Any]:
        """The parameter file: overrides, the fits' quality, arrivals, provenance."""
        return {"scenario": "disaster", "overrides": self.overrides(),
                "fit": {"card_tap": self.card.to_dict(),
                        "per_reader": {str(k): v.to_dict() for k, v in sorted(self.per_reader.items())}},
                "not_fitted": self.not_fitted, "arrivals": self.arrivals, "provenance": self.provenance}


def _iso(t: float) -> str:
    return to_jst(t).isoformat(timespec="seconds")


def arrivals(data: DrillData, bin_min: float = 15.0) -> dict[str, Any]:
    """Check-ins (card, paper, desk) per shelter per time bin from the first check-in, and per channel."""
    t0, t1 = data.span()
    at = np.concatenate([data.tap_at, data.desk_at])
    shelter = np.concatenate([data.tap_shelter, data.desk_shelter])
    edges = np.arange(t0, t1 + bin_min * 60, bin_min * 60)
    if edges.size < 2:
        edges = np.array([t0, t0 + bin_min * 60])
    per = {str(int(s)): np.histogram(at[shelter == s], edges)[0].tolist() for s in np.unique(shelter)}
    channels = {"card": data.taps} | dict(sorted(
        {m: data.desk_method.count(m) for m in set(data.desk_method)}.items()))
    return {"bin_min": bin_min, "start_jst": _iso(t0), "per_shelter": per, "per_channel": channels,
            "note": "shelter '-1': taps at readers no recorded answer placed in a shelter"}


def fit_drill(data: DrillData, busy_gap_s: float = BUSY_GAP_S) -> DrillFit:
    """Fit the card service time pooled over readers (and per reader where it has enough gaps)."""
    gaps, idle, zero = busy_gaps(data, busy_gap_s)
    pooled = np.concatenate(list(gaps.values())) if gaps else np.array([])
    card = fit_truncated_lognormal(pooled, busy_gap_s, idle, zero)
    per = {r: fit_truncated_lognormal(g, busy_gap_s) for r, g in gaps.items() if g.size >= MIN_GAPS}
    t0, t1 = data.span()
    source = {"drill_folder": str(Path(data.folder).resolve())} if data.kind == "sqlite" else \
        {"drill_database": data.folder}
    prov = {**source, "store": data.kind, "first_checkin_jst": _iso(t0),
            "last_checkin_jst": _iso(t1), "drill_date": to_jst(t0).date().isoformat(),
            "shelter_groups": list(data.groups), "card_taps": data.taps,
            "readers": int(data.readers().size), "shelters": int(np.unique(data.tap_shelter[data.tap_shelter >= 0]).size),
            "desk_checkins": len(data.desk_method), "refusals": data.refusals, "busy_gap_s": busy_gap_s,
            "estimator": "gaps between consecutive taps at one reader, kept when <= busy_gap_s, lognormal "
                         "fitted by maximum likelihood truncated at busy_gap_s",
            "fitted_with": f"scipy {scipy.__version__}, numpy {np.__version__}"}
    why = "several staff per shelter and the journal does not say who took which: time not identifiable"
    return DrillFit(card, per, arrivals(data), prov, {"paper_form": why, "face_check": why})


def validation_rows(fit: DrillFit) -> list[dict[str, Any]]:
    """Published trials, the twin's fitted value and the drill's, side by side (card check-in mean, s)."""
    from calibration.data import table

    twin = fitted().checkin["card_tap"]
    rows = [{"figure": f"card check-in mean, {r['trial']}", "published_s": float(r["low"]), "twin_s": twin.mean_s,
             "drill_s": fit.card.mean_s, "source": r["source"]}
            for r in table("checkin_trials").iter_rows(named=True)
            if r["method"] == "card_tap" and r["statistic"] == "mean"]
    nearest = min(rows, key=lambda r: abs(math.log(r["published_s"] / fit.card.mean_s)))
    for r in rows:
        r["nearest_to_drill"] = r is nearest
    rows.append({"figure": "card check-in log-spread (sigma)", "published_s": None, "twin_s": twin.sigma,
                 "drill_s": fit.card.sigma, "source": "pooled between trials (twin); between taps (drill)",
                 "nearest_to_drill": False})
    return rows


def table_text(fit: DrillFit) -> str:
    """The side-by-side table as text."""
    lines = [f"{'figure':<44}{'published':>10}{'twin':>9}{'drill':>9}"]
    for r in validation_rows(fit):
        pub = "-" if r["published_s"] is None else f"{r['published_s']:.1f}"
        mark = "  <- drill nearest" if r["nearest_to_drill"] else ""
        lines.append(f"{r['figure']:<44}{pub:>10}{r['twin_s']:>9.2f}{r['drill_s']:>9.2f}{mark}")
    return "\n".join(lines)


def write_drill_params(fit: DrillFit, path: str | Path) -> Path:
    """Write the drill's parameter file (JSON) and check it reads back as scenario overrides."""
    p = Path(path)
    if p.is_dir():
        raise ValidationError(f"cannot write the drill's parameters to {p}: it is a folder")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(fit.to_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"cannot write the drill's parameters to {p}: {exc.strerror or exc}") from exc
    ServiceTime(fit.card.mu, fit.card.sigma)  # refuses a non-finite fit
    return p


def overrides_from_file(path: str | Path) -> dict[str, Any]:
    """The scenario overrides in a parameter file written by `run.py calibrate --from-drill`."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationError(f"cannot read the parameter file {p}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{p} is not JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("overrides"), dict):
        raise ValidationError(f"{p} has no 'overrides' object (write it with run.py calibrate --from-drill)")
    return dict(data["overrides"])
