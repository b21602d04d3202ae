"""Declared ranges of the assumptions (仮定の幅): `calibration/data/assumption_ranges.csv`.

Every figure marked `assumption` or `unverified` in `calibration/data/*.csv`, and every scenario
parameter whose meaning says it is an assumption, has one row there: the scenario and parameter
it drives (empty when no scenario parameter carries it), the plausible low and high, whether the
sensitivity analysis screens it, and why. `marked_figures()` finds the marked rows so a test can
check that none is missing.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from calibration.params import FittedParams
from twin.errors import ValidationError

DATA_DIR = Path(__file__).resolve().parent / "data"
RANGES_FILE = DATA_DIR / "assumption_ranges.csv"
MARKS = ("assumption", "unverified")


@dataclass(frozen=True, slots=True)
class AssumptionRange:
    """One assumption: where it comes from, what it drives, its plausible range and why."""

    figure: str  # "file.csv:figure" for a data row, "module.py" for a scenario parameter
    scenario: str
    parameter: str
    low: float
    high: float
    screened: bool
    reason: str

    def contains(self, value: float) -> bool:
        """Whether `value` lies inside [low, high]."""
        return self.low <= value <= self.high

    @property
    def label(self) -> str:
        """The name a planner reads: the parameter, or the data figure when no parameter carries it."""
        return self.parameter or self.figure.split(":")[-1]


def _number(text: str, what: str) -> float:
    """A CSV cell as a float (empty: NaN), or an error naming the row."""
    if not text.strip():
        return float("nan")
    try:
        return float(text)
    except ValueError:
        raise ValidationError(f"{RANGES_FILE.name}: {what} is not a number: {text!r}") from None


@cache
def ranges() -> tuple[AssumptionRange, ...]:
    """Every row of assumption_ranges.csv, checked (low < high for a screened row)."""
    out = []
    with RANGES_FILE.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            what = f"{row['figure']} {row['parameter']}".strip()
            r = AssumptionRange(row["figure"], row["scenario"], row["parameter"],
                                _number(row["low"], f"low of {what}"),
                                _number(row["high"], f"high of {what}"),
                                row["screened"] == "yes", row["reason"])
            if r.screened and not (r.parameter and r.scenario and r.low < r.high):
                raise ValidationError(f"{RANGES_FILE.name}: screened row {what} needs a scenario, "
                                      f"a parameter and low < high")
            if not r.screened and not r.reason.startswith("not screened"):
                raise ValidationError(f"{RANGES_FILE.name}: row {what} is not screened but its "
                                      "reason does not say why ('not screened: ...')")
            out.append(r)
    return tuple(out)


def screened(scenario: str) -> tuple[AssumptionRange, ...]:
    """The assumptions the sensitivity analysis varies for one scenario, in file order."""
    return tuple(r for r in ranges() if r.screened and r.scenario == scenario)


def not_screened(scenario: str) -> tuple[AssumptionRange, ...]:
    """The scenario's assumptions that are not varied (each with its reason)."""
    return tuple(r for r in ranges() if not r.screened and r.scenario == scenario)


def marked_figures() -> dict[str, float]:
    """Every `file.csv:key` row marked assumption/unverified in calibration/data, with its value.

    A row is marked by its `status` column, or (in a file without one) by a source that begins
    with 'assumption'. The key is the row's first column; the value its `value` (or `ownership`).
    """
    out: dict[str, float] = {}
    for path in sorted(DATA_DIR.glob("*.csv")):
        if path == RANGES_FILE:
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            cols = reader.fieldnames or []
            for row in reader:
                if "status" in cols:
                    marked = row["status"] in MARKS
                else:
                    marked = row.get("source", "").lower().startswith(MARKS)
                if marked:
                    raw = row.get("value") or row.get("ownership") or "nan"
                    try:
                        value = float(raw)
                    except ValueError:
                        value = math.nan
                    out[f"{path.name}:{row[cols[0]]}"] = value
    return out


CALIBRATION = "calibration:"  # prefix of a range row's parameter that is a fitted figure
_WEEKDAY = {"monday_factor": 0, "saturday_factor": 5, "sunday_factor": 6}
_DEMAND = ("tax_season_factor", "hour_base")


def calibration_figures() -> tuple[str, ...]:
    """The fitted figures a range row can move (as `calibration:NAME`)."""
    return (*_WEEKDAY, *_DEMAND)


def calibration_value(params: FittedParams, name: str) -> float:
    """The value of one movable fitted figure in `params` (weekday factors as the CSV states them)."""
    if name in _WEEKDAY:
        dow = params.demand.day_of_week
        return float(dow[_WEEKDAY[name]] / dow[1])  # relative to an ordinary weekday
    if name in _DEMAND:
        return float(getattr(params.demand, name))
    raise ValidationError(f"no movable calibration figure {name!r}; figures: "
                          f"{', '.join(calibration_figures())}")


def with_calibration(params: FittedParams, changes: Mapping[str, float]) -> FittedParams:
    """`params` with some movable fitted figures changed, the rest of the fit kept as it is.

    Day-of-week factors are renormalised as `calibration/fit.py` does (weekday mean 1).
    """
    values = {n: calibration_value(params, n) for n in calibration_figures()}
    for name, value in changes.items():
        calibration_value(params, name)  # unknown names: an error naming them
        values[name] = float(value)
    raw = (values["monday_factor"], 1.0, 1.0, 1.0, 1.0, values["saturday_factor"],
           values["sunday_factor"])
    mean = sum(raw[:5]) / 5
    demand = dataclasses.replace(params.demand, day_of_week=tuple(x / mean for x in raw),
                                 **{n: values[n] for n in _DEMAND})
    return dataclasses.replace(params, demand=demand)
