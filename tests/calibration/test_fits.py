"""The SciPy fits recover known parameters and honour bounds in the published figures."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from calibration.fit_certificates import fit_kiosk_share, fit_peaks
from calibration.fit_checkin import fit_checkin
from calibration.fit_evacuation import fit_evacuation


def _trials(rows: list[tuple]) -> pl.DataFrame:
    cols = ["trial", "method", "statistic", "low", "high"]
    return pl.DataFrame(rows, schema=cols, orient="row").with_columns(
        pl.col("low").cast(pl.Float64), pl.col("high").cast(pl.Float64)
    )


def test_the_checkin_fit_recovers_a_known_typical_time_and_spread():
    rng = np.random.default_rng(7)
    truth = {"card_tap": 20.0, "paper_form": 200.0, "qr_web_form": 100.0, "smartphone_app": 25.0}
    rows = []
    for m, mean in truth.items():
        for i, v in enumerate(np.exp(np.log(mean) + rng.normal(0, 0.4, 60))):
            rows.append((f"t{i}", m, "mean", float(v), float(v)))
    fit = fit_checkin(_trials(rows))
    for m, mean in truth.items():
        assert fit.mean_s[m] == pytest.approx(mean, rel=0.15)
    assert fit.sigma == pytest.approx(0.4, rel=0.15)


def test_a_lower_bound_pulls_the_fit_above_it_only_when_the_rest_sits_below():
    base = [("a", "card_tap", "mean", 20.0, 20.0), ("b", "card_tap", "mean", 30.0, 30.0),
            ("a", "paper_form", "mean", 200.0, 200.0), ("a", "qr_web_form", "mean", 100.0, 100.0),
            ("a", "smartphone_app", "mean", 25.0, 25.0)]
    plain = fit_checkin(_trials(base))
    bounded = fit_checkin(_trials([*base, ("c", "paper_form", "mean", 2000.0, None)]))
    harmless = fit_checkin(_trials([*base, ("c", "paper_form", "mean", 10.0, None)]))
    assert bounded.mean_s["paper_form"] > plain.mean_s["paper_form"] * 1.5
    assert harmless.mean_s["paper_form"] == pytest.approx(plain.mean_s["paper_form"], rel=0.1)


def test_the_published_trials_put_cards_near_20_seconds_and_paper_near_3_minutes():
    fit = fit_checkin()
    assert 9 <= fit.mean_s["card_tap"] <= 30
    assert 60 <= fit.mean_s["paper_form"] <= 300
    assert "kanazawa_2025" in fit.trials["card_tap"]  # the ratio informs both methods


def test_the_evacuation_fit_matches_kumamotos_peak_and_notos_decline():
    fit = fit_evacuation()
    c = fit.curve
    kum = fit.observations.filter(pl.col("event") == "kumamoto_2016").row(0, named=True)
    assert float(c.present_share(kum["hours"])) == pytest.approx(183_882 / 1_786_170, rel=0.01)
    assert 12.8 < c.time_to_peak_h < 32.1  # between the two events' peaks
    assert 0 < c.decline_per_day < 0.1


def test_the_kiosk_share_fit_reproduces_the_fy2023_volume():
    fit = fit_kiosk_share()
    fy23 = fit.volumes.filter(pl.col("fiscal_year") == 2023).row(0, named=True)
    share = min(fy23["ownership"], fit.scale * fy23["ownership"] ** fit.exponent)
    assert fit.national_requests * share == pytest.approx(31_890_000, rel=0.1)
    assert fit.exponent > 1  # volumes grew faster than ownership


def test_the_peak_fit_centres_the_day_between_11_and_14_and_the_season_on_1_april():
    p = fit_peaks()
    assert 12.0 < p.hour_centre < 13.5
    assert p.season_peak_day == pytest.approx(91.5, abs=1.0)
    assert p.season_peak_factor == pytest.approx(4.5, rel=0.05)
