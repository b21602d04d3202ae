"""Validation by running the scenarios at small scale (the scenarios package, when present)."""

from __future__ import annotations

import importlib.util

from calibration.checks import Check, Published, cannot, check
from calibration.data import row, source_of
from calibration.fit_evacuation import observations
from calibration.params import FittedParams

TOL_SHARE = 0.1  # the peak share, as for the fitted curve
TOL_HOURS = 0.5  # the peak's hour, as for the fitted curve
TOL_WAIT = 0.25  # a newspaper's "260+ minutes" / "up to about 3 hours" for one ward


def _available(module: str) -> bool:
    """Whether a scenario module exists in this checkout."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


DISASTER_SCALE = 0.02  # Kumamoto at 2 %: about 15,000 residents, 1,500 evacuees


def disaster_checks(seed: int = 0, scale: float = DISASTER_SCALE) -> list[Check]:
    """Run the disaster scenario on Kumamoto and read the peak share and its hour off its series."""
    import polars as pl

    from scenarios.cities import city_for
    from scenarios.registry import scenario
    from scenarios.runner import make_params

    p = make_params("disaster", "baseline", "kumamoto", scale=scale)
    series = scenario("disaster").run(p, seed).frames["series"]
    residents = city_for(p.city, p.city_seed, p.scale).residents.height
    peak = series.filter(pl.col("true_present") == pl.col("true_present").max()).row(0, named=True)
    obs = observations()
    kum = obs.filter((pl.col("event") == "kumamoto_2016") & (pl.col("observation") == "peak")).row(0, named=True)
    share = kum["evacuees"] / kum["area_population"]
    how = f"disaster scenario, Kumamoto at scale {scale}, seed {seed}: max of series.true_present / residents"
    return [
        check("scenario", "disaster scenario: share of residents in shelters at the peak",
              Published(share, share), peak["true_present"] / residents, "share", TOL_SHARE, how, kum["source"]),
        check("scenario", "disaster scenario: hours from the shock to the peak (Kumamoto)",
              Published(kum["hours"], kum["hours"]), float(peak["hours"]), "h", TOL_HOURS,
              how.replace("max of series.true_present / residents", "hour of the series' peak"), kum["source"]),
    ]


# the Monday of the last week of March and the first Monday of April (peak days of those periods)
TSURUMI_DAYS = {"2016-03 last week": "2026-03-30", "2016-04": "2026-04-06"}


def counter_wait_checks(seed: int = 0, city: str = "yokohama", scale: float = 0.01,
                        days: dict[str, str] | None = None) -> list[Check]:
    """Yokohama Tsurumi's published waits against the longest counter wait of a simulated Monday."""
    from scenarios.registry import scenario
    from scenarios.runner import make_params

    out = []
    for period, start in (days or TSURUMI_DAYS).items():
        r = row("counter_waits", place="yokohama_tsurumi", period=period)
        bound = {"lower": (r["value"], None), "upper": (None, r["value"])}.get(r["bound"], (r["value"], r["value"]))
        pub = Published(*bound)
        p = make_params("certificates", "baseline", city, scale=scale, overrides={"start_date": start, "days": 1})
        kpis = scenario("certificates").run(p, seed).kpis
        how = (f"certificates scenario, {city} baseline, Monday {start} (whole-city demand), seed {seed}: "
               "counter_wait_max_min (the worst ward's longest wait)")
        out.append(check("scenario", f"Yokohama Tsurumi, {period}: longest counter wait", pub,
                         float(kpis["counter_wait_max_min"]), "min", TOL_WAIT, how, r["source"]))
    return out


def cost_rows() -> list[Check]:
    """The counter cost per certificate is an input of the twin, so it is listed as not reproduced."""
    src = f"{source_of('counter_costs', estimate='soka_fy2020')}; {source_of('counter_costs', estimate='consultant')}"
    return [cannot("scenario", "counter cost per certificate", Published(889, 900), "yen",
                   "an input (designs' counter_cost_per_certificate_yen), not an output the twin could reproduce", src)]


def scenario_checks(params: FittedParams, seed: int = 0) -> list[Check]:
    """Figures reproduced by running a scenario; shown as not reproducible while one is missing."""
    out: list[Check] = []
    if _available("scenarios.disaster"):
        out += disaster_checks(seed)
    else:
        out.append(cannot("scenario", "disaster scenario: share of residents in shelters at the peak",
                          Published(0.1029, 0.1029), "share", "needs scenarios.disaster, not in this checkout",
                          "FDMA white paper (FACTS.md)"))
    if _available("scenarios.certificates"):
        out += counter_wait_checks(seed)
    else:
        out.append(cannot("scenario", "Yokohama Tsurumi, 2016-03 last week: longest counter wait",
                          Published(260, None), "min", "needs scenarios.certificates, not in this checkout",
                          "local newspaper (FACTS.md)"))
    return out + cost_rows()
