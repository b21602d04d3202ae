"""Validation by running the scenarios at small scale (the scenarios package, when present)."""

from __future__ import annotations

import importlib.util

from calibration.checks import Check, Published, cannot, check
from calibration.data import row, source_of
from calibration.fit_evacuation import observations
from calibration.params import FittedParams

TOL_SHARE = 0.1  # the peak share, as for the fitted curve
TOL_HOURS = 0.5  # the peak's hour, as for the fitted curve


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


def _wanted() -> list[tuple[str, str, Published, str, str]]:
    """(scenario module, figure, published, unit, source) of the checks not yet wired to a run."""
    tsurumi = row("counter_waits", place="yokohama_tsurumi", period="2016-03 last week")
    return [
        ("scenarios.certificates", "certificates scenario: counter cost per certificate",
         Published(889, 900), "yen", f"{source_of('counter_costs', estimate='soka_fy2020')}; "
         f"{source_of('counter_costs', estimate='consultant')}"),
        ("scenarios.certificates", "certificates scenario: Yokohama, last week of March, longest counter wait",
         Published(tsurumi["value"], None), "min", tsurumi["source"]),
    ]


def scenario_checks(params: FittedParams, seed: int = 0) -> list[Check]:
    """Figures reproduced by running a scenario; shown as not reproducible while it is missing."""
    out = disaster_checks(seed) if _available("scenarios.disaster") else [
        cannot("scenario", "disaster scenario: share of residents in shelters at the peak", Published(0.1029, 0.1029),
               "share", "needs scenarios.disaster, not in this checkout yet", "FDMA white paper (FACTS.md)")]
    for module, figure, pub, unit, source in _wanted():
        if not _available(module):
            out.append(cannot("scenario", figure, pub, unit, f"needs {module}, not in this checkout yet", source))
            continue
        out.append(cannot("scenario", figure, pub, unit, f"{module} present; run wiring pending", source))
    return out
