"""Validation by running the scenarios at small scale (the scenarios package, when present)."""

from __future__ import annotations

import importlib.util

from calibration.checks import Check, Published, cannot
from calibration.data import row, source_of
from calibration.params import FittedParams


def _available(module: str) -> bool:
    """Whether a scenario module exists in this checkout."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _wanted() -> list[tuple[str, str, Published, str, str]]:
    """(scenario module, figure, published, unit, source) of every scenario-level check."""
    kum = row("evacuations", event="kumamoto_2016", observation="peak")
    share = kum["evacuees"] / kum["area_population"]
    tsurumi = row("counter_waits", place="yokohama_tsurumi", period="2016-03 last week")
    return [
        ("scenarios.disaster", "disaster scenario: share of residents in shelters at the peak",
         Published(share, share), "share", kum["source"]),
        ("scenarios.certificates", "certificates scenario: counter cost per certificate",
         Published(889, 900), "yen", f"{source_of('counter_costs', estimate='soka_fy2020')}; "
         f"{source_of('counter_costs', estimate='consultant')}"),
        ("scenarios.certificates", "certificates scenario: Yokohama, last week of March, longest counter wait",
         Published(tsurumi["value"], None), "min", tsurumi["source"]),
    ]


def scenario_checks(params: FittedParams, seed: int = 0) -> list[Check]:
    """Figures reproduced by running a scenario; shown as not reproducible while it is missing."""
    out = []
    for module, figure, pub, unit, source in _wanted():
        if not _available(module):
            out.append(cannot("scenario", figure, pub, unit, f"needs {module}, not in this checkout yet", source))
            continue
        out.append(cannot("scenario", figure, pub, unit, f"{module} present; run wiring pending", source))
    return out
