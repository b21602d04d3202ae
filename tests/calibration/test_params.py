"""The fitted-parameter loader the scenarios read by default."""

from __future__ import annotations

import json

import numpy as np
import pytest

from calibration.params import (
    CHECKIN_METHODS,
    PARAMS_PATH,
    EvacuationCurve,
    ServiceTime,
    fitted,
    load_params,
    params_from_dict,
)
from twin.errors import ValidationError


def test_the_committed_parameters_load_with_every_checkin_method():
    p = fitted()
    assert set(p.checkin) == set(CHECKIN_METHODS)
    assert p.checkin["card_tap"].mean_s < p.checkin["qr_web_form"].mean_s < p.checkin["paper_form"].mean_s


def test_the_committed_file_is_exactly_what_the_fitting_code_produces():
    from calibration.fit import fit_all

    committed = json.loads(PARAMS_PATH.read_text(encoding="utf-8"))
    fresh = json.loads(json.dumps(fit_all().params.to_dict(), ensure_ascii=False, sort_keys=True))
    committed.pop("fitted_with")
    fresh.pop("fitted_with")
    assert _close(committed, fresh), "params.json is stale: run `run.py calibrate` and commit it"


def _close(a, b) -> bool:
    """Nested equality with floats compared to 1e-6 relative (other SciPy builds round differently)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == pytest.approx(b, rel=1e-6)
    return a == b


def test_a_service_time_built_from_a_mean_samples_to_that_mean():
    st = ServiceTime.from_mean(26.0, 0.5)
    draws = st.sample(np.random.default_rng(3), 200_000)
    assert st.mean_s == pytest.approx(26.0)
    assert draws.mean() == pytest.approx(26.0, rel=0.01)
    assert st.median_s < st.mean_s < st.p95_s


def test_a_service_time_with_a_negative_spread_is_refused():
    with pytest.raises(ValidationError, match="sigma"):
        ServiceTime(3.0, -0.1)


def test_an_unknown_key_in_the_file_is_refused_by_name():
    data = fitted().to_dict()
    data["evacuation"]["peak_shares"] = 0.2
    with pytest.raises(ValidationError, match="peak_shares"):
        params_from_dict(data)


def test_a_derived_mean_that_disagrees_with_mu_and_sigma_is_refused():
    data = fitted().to_dict()
    data["checkin"]["card_tap"]["mean_s"] = 5.0
    with pytest.raises(ValidationError, match="mean_s"):
        params_from_dict(data)


def test_a_missing_checkin_method_is_refused():
    data = fitted().to_dict()
    del data["checkin"]["paper_form"]
    with pytest.raises(ValidationError, match="paper_form"):
        params_from_dict(data)


def test_a_missing_or_broken_file_says_how_to_make_it(tmp_path):
    with pytest.raises(ValidationError, match="run.py calibrate"):
        load_params(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValidationError, match="not valid JSON"):
        load_params(bad)


def test_the_evacuation_curve_peaks_at_its_peak_share_and_then_declines():
    c = EvacuationCurve(0.1, 20.0, 0.05, 2.0)
    assert float(c.present_share(20.0)) == pytest.approx(0.1)
    assert float(c.present_share(10.0)) < 0.1
    assert float(c.present_share(20.0 + 24 * 10)) == pytest.approx(0.1 * np.exp(-0.5))
    assert float(c.arrived_fraction(20.0)) == pytest.approx(0.95)


def test_sampled_arrivals_all_come_before_the_peak():
    c = fitted().evacuation
    t = c.sample_arrival_hours(np.random.default_rng(0), 50_000)
    assert t.min() >= 0 and t.max() <= c.time_to_peak_h
    # the sampled arrivals' CDF at half the peak time matches the curve's rise there
    half = c.time_to_peak_h / 2
    expected = float(c.arrived_fraction(half) / c.arrived_fraction(c.time_to_peak_h))
    assert (t <= half).mean() == pytest.approx(expected, abs=0.01)


def test_the_kiosk_share_never_exceeds_ownership_and_grows_with_it():
    k = fitted().kiosk
    own = np.linspace(0, 1, 101)
    share = k.share_of_demand(own)
    assert np.all(share <= own + 1e-12)
    assert np.all(np.diff(share) >= 0)
    assert 0 < float(k.holder_probability(0.764)) <= 1


def test_a_counter_with_more_windows_serves_each_person_more_slowly_at_the_guide_rate():
    c = fitted().counter
    assert c.service_time.mean_s == pytest.approx(c.minutes_per_person_ahead * c.reference_windows * 60)
    assert c.service_time_for(6).mean_s == pytest.approx(c.minutes_per_person_ahead * 6 * 60)
    with pytest.raises(ValidationError, match="windows"):
        c.service_time_for(0)


def test_demand_peaks_on_mondays_around_noon_and_in_the_moving_season():
    d = fitted().demand
    assert d.day_of_week[0] == max(d.day_of_week)
    assert np.mean(d.day_of_week[:5]) == pytest.approx(1.0)
    hours = np.arange(8, 18, 0.25)
    assert 11 <= hours[np.argmax(d.hourly_weights(hours))] < 14
    days = np.arange(1, 366)
    assert 74 <= days[np.argmax(d.season_factor(days))] <= 97  # mid-March .. early April
    assert float(d.season_factor(200)) == pytest.approx(1.0, abs=1e-6)  # an ordinary day in July


def test_kiosks_close_from_29_december_to_3_january():
    k = fitted().kiosk
    assert (12, 29) in k.closed_month_days and (1, 3) in k.closed_month_days
    assert (12, 28) not in k.closed_month_days and (1, 4) not in k.closed_month_days
    assert (k.open_hour, k.close_hour) == (6.5, 23.0)
