"""Refit every parameter from calibration/data and write params.json (run.py calibrate)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import scipy

from calibration.data import assumption, row, source_of, table
from calibration.fit_certificates import KioskShareFit, PeakFit, fit_kiosk_share, fit_peaks
from calibration.fit_checkin import CheckinFit, fit_checkin
from calibration.fit_evacuation import EvacuationFit, fit_evacuation
from calibration.params import (
    CounterService,
    DemandProfile,
    FittedParams,
    KioskService,
    ServiceTime,
    params_from_dict,
)
from twin.errors import ValidationError


@dataclass(frozen=True)
class Fits:
    """Every fit's full result (the parameters plus what validation needs)."""

    params: FittedParams
    checkin: CheckinFit
    evacuation: EvacuationFit
    kiosk: KioskShareFit
    peaks: PeakFit


def _counter() -> CounterService:
    """Counter guide rate (Sakai), windows and hours (assumptions), cost (Soka, consultant)."""
    per_ahead = float(row("counter_waits", figure="minutes_per_person_ahead")["value"])
    windows = int(assumption("counter_reference_windows"))
    service = ServiceTime.from_mean(
        per_ahead * windows * 60, assumption("counter_service_sigma"),
        ("sakai_naka guide", "counter_reference_windows: assumption"),
    )
    cost = float(np.mean(table("counter_costs")["yen_per_certificate"].to_numpy()))
    return CounterService(
        per_ahead, windows, service, cost, assumption("counter_open_hour"), assumption("counter_close_hour"),
        ("sakai_naka guide", "soka_fy2020", "consultant", "office hours: assumption"),
    )


def _kiosk(fit: KioskShareFit) -> KioskService:
    """Kiosk time (assumption), fitted demand share, published hours and closed days."""
    facts = {r["figure"]: r["value"] for r in table("kiosk_facts").iter_rows(named=True)}
    closed = [tuple(int(x) for x in facts[k].split("-")) for k in ("closed_from", "closed_to")]
    days = [(12, d) for d in range(closed[0][1], 32)] + [(1, d) for d in range(1, closed[1][1] + 1)]
    service = ServiceTime.from_mean(
        assumption("kiosk_service_mean_s"), assumption("kiosk_service_sigma"), ("assumption",), "assumption"
    )
    return KioskService(
        service, fit.scale, fit.exponent, float(facts["open_hour"]), float(facts["close_hour"]), tuple(days),
        ("convenience_store_volumes FY2016-FY2023", "card_ownership_national (FY averages unverified)"),
    )


def _demand(peaks: PeakFit) -> DemandProfile:
    """Demand profile: fitted bumps, assumed day-of-week and tax-season factors."""
    dow = (assumption("monday_factor"), 1.0, 1.0, 1.0, 1.0, assumption("saturday_factor"), assumption("sunday_factor"))
    weekday_mean = float(np.mean(dow[:5]))
    return DemandProfile(
        assumption("requests_per_resident_per_year"), tuple(x / weekday_mean for x in dow),
        peaks.hour_centre, peaks.hour_sd, assumption("hour_base"), peaks.season_peak_factor,
        peaks.season_peak_day, peaks.width_before, peaks.width_after, assumption("tax_season_factor"),
        ("demand_peaks (Sakai, Kobe/Fukuyama, Ishigaki)", "day-of-week and tax-season sizes: assumption"),
    )


SOURCE_TABLES = (
    "assumptions", "card_ownership_national", "checkin_trials", "convenience_store_volumes",
    "counter_costs", "counter_waits", "demand_peaks", "evacuations", "kiosk_facts", "population_structure",
    "queueing_checks",
)


def all_sources() -> dict[str, str]:
    """Every calibration row's source, keyed `table:first-column-value[:method|observation|kind|period|start]`."""
    out: dict[str, str] = {}
    for name in SOURCE_TABLES:
        df = table(name)
        key_cols = [c for c in df.columns[:1] + ["method", "observation", "kind", "period", "start"] if c in df.columns]
        for r in df.iter_rows(named=True):
            status = r.get("status") or "published"
            key = ":".join([name, *(str(r[c]) for c in dict.fromkeys(key_cols))])
            out[key] = r["source"] if status == "published" else f"{r['source']} [{status}]"
    return out


def fit_all() -> Fits:
    """Run every fit and assemble the parameters."""
    checkin, evac, kiosk, peaks = fit_checkin(), fit_evacuation(), fit_kiosk_share(), fit_peaks()
    face = ServiceTime.from_mean(
        assumption("face_check_mean_s"), assumption("face_check_sigma"), ("assumption",), "assumption"
    )
    params = FittedParams(
        checkin=checkin.service_times(), face_check=face, evacuation=evac.curve, counter=_counter(),
        kiosk=_kiosk(kiosk), demand=_demand(peaks), sources=all_sources(),
        fitted_with=f"scipy {scipy.__version__}, numpy {np.__version__}, polars {pl.__version__}",
    )
    return Fits(params, checkin, evac, kiosk, peaks)


def write_params(params: FittedParams, path: str | Path) -> Path:
    """Write params.json (sorted keys, stable floats) and check it reads back identically."""
    p = Path(path)
    text = json.dumps(params.to_dict(), ensure_ascii=False, indent=2, sort_keys=True)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"cannot write the fitted parameters to {p}: {exc.strerror or exc}") from exc
    if params_from_dict(json.loads(text)) != params:
        raise RuntimeError(f"{p} does not read back to the same parameters")
    return p


__all__ = ["Fits", "all_sources", "fit_all", "source_of", "write_params"]
