"""Every assumption a scenario uses has a declared range beside it, and the range holds its value."""

from __future__ import annotations

import pytest

from calibration import ranges as R
from calibration.params import fitted, using
from scenarios.registry import names, scenario
from scenarios.runner import make_params
from twin.errors import ValidationError


def by_parameter() -> dict[tuple[str, str], R.AssumptionRange]:
    """The range rows keyed by (scenario, parameter)."""
    return {(r.scenario, r.parameter): r for r in R.ranges() if r.parameter}


def test_every_figure_marked_assumption_or_unverified_in_the_data_has_a_row():
    listed = {r.figure for r in R.ranges()}
    marked = R.marked_figures()
    assert "assumptions.csv:evacuation_rise_shape" in marked  # the finder sees the marks
    assert "population_structure.csv:residents_per_shelter" in marked
    assert sorted(set(marked) - listed) == []


def test_every_marked_figure_with_a_range_lies_inside_it():
    rows = {r.figure: r for r in R.ranges()}
    checked = 0
    for figure, value in R.marked_figures().items():
        r = rows[figure]
        if r.parameter or value != value or r.low != r.low:  # a parameter row is checked below
            continue
        assert r.contains(value), f"{figure}={value} outside [{r.low}, {r.high}]"
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("name", names())
def test_every_scenario_parameter_documented_as_an_assumption_has_a_row(name):
    rows = by_parameter()
    assumed = [f["name"] for f in scenario(name).Params.describe() if "assumption" in f["doc"]]
    assert assumed, f"{name} declares no assumption"
    missing = [p for p in assumed if (name, p) not in rows]
    assert missing == []


@pytest.mark.parametrize("design", ["baseline", "full"])
@pytest.mark.parametrize("name", names())
def test_each_screened_range_holds_the_value_the_scenario_runs_with_and_stays_valid(name, design):
    params = make_params(name, design)
    fields = {f["name"]: f for f in scenario(name).Params.describe()}
    rows = R.screened(name)
    assert rows
    for r in rows:
        if r.parameter.startswith(R.CALIBRATION):  # a fitted figure: the committed fit's value
            assert r.contains(R.calibration_value(fitted(), r.parameter.removeprefix(R.CALIBRATION)))
            continue
        assert r.parameter in fields, f"{r.parameter} is not a {name} parameter"
        lo, hi = fields[r.parameter]["lo"], fields[r.parameter]["hi"]
        assert (lo is None or r.low >= lo) and (hi is None or r.high <= hi), r.parameter
        if design == "baseline":  # the full design sets some of them itself (not varied then)
            assert r.contains(getattr(params, r.parameter)), (r.parameter, getattr(params, r.parameter))


def test_a_row_that_is_not_screened_says_why_and_a_screened_row_needs_a_proper_range(tmp_path,
                                                                                     monkeypatch):
    head = "figure,scenario,parameter,low,high,screened,reason\n"
    cases = {"a.csv:x,disaster,rise_shape,3,2,yes,backwards\n": "low < high",
             "a.csv:x,disaster,,1,2,no,because\n": "does not say why",
             "a.csv:x,disaster,rise_shape,one,2,yes,typo\n": "not a number"}
    for body, message in cases.items():
        path = tmp_path / "ranges.csv"
        path.write_text(head + body, encoding="utf-8")
        monkeypatch.setattr(R, "RANGES_FILE", path)
        R.ranges.cache_clear()
        with pytest.raises(ValidationError, match=message):
            R.ranges()
    R.ranges.cache_clear()


def test_moving_a_fitted_figure_keeps_the_rest_of_the_fit_and_only_inside_the_using_block():
    base = fitted()
    moved = R.with_calibration(base, {"monday_factor": 1.6, "hour_base": 0.4})
    assert R.calibration_value(moved, "monday_factor") == pytest.approx(1.6)
    assert R.calibration_value(moved, "saturday_factor") == pytest.approx(0.6)  # as the CSV says
    assert sum(moved.demand.day_of_week[:5]) == pytest.approx(5)  # weekday mean 1, as the fit
    assert moved.demand.hour_base == 0.4 and moved.kiosk == base.kiosk
    with using(moved):
        assert fitted() is moved
    assert fitted() is base
    with pytest.raises(ValidationError, match="no movable calibration figure 'peak_hour'"):
        R.with_calibration(base, {"peak_hour": 1.0})
