"""The scenarios take the fitted parameters by default (the calibration is what they run on)."""

from __future__ import annotations

import importlib.util

import pytest

from calibration.params import fitted


def _needs(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not in this checkout")


def test_the_disaster_scenario_defaults_to_the_fitted_checkin_times_and_evacuation_curve():
    _needs("scenarios.disaster")
    from scenarios.registry import scenario

    p = scenario("disaster").Params.build("kumamoto")
    f = fitted()
    assert p.card_tap_mean_s == pytest.approx(f.checkin["card_tap"].mean_s)
    assert p.paper_form_mean_s == pytest.approx(f.checkin["paper_form"].mean_s)
    assert p.checkin_sigma == pytest.approx(f.checkin["card_tap"].sigma)
    assert p.evacuation_share == pytest.approx(f.evacuation.peak_share)
    assert p.time_to_peak_h == pytest.approx(f.evacuation.time_to_peak_h)
    assert p.stay_decline_per_day == pytest.approx(f.evacuation.decline_per_day)


def test_the_certificates_scenario_defaults_to_the_fitted_service_times_demand_and_hours():
    _needs("scenarios.certificates")
    from scenarios.registry import scenario

    p = scenario("certificates").Params.build("kumamoto")
    f = fitted()
    assert p.counter_service_mean_s == pytest.approx(f.counter.service_time.mean_s)
    assert p.kiosk_service_mean_s == pytest.approx(f.kiosk.service_time.mean_s)
    assert p.requests_per_resident_per_year == pytest.approx(f.demand.requests_per_resident_per_year)
    assert (p.counter_open_hour, p.counter_close_hour) == (f.counter.open_hour, f.counter.close_hour)
