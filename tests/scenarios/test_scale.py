"""Scale must not change the answer: per-facility loads at reduced scale, and the KPIs that follow."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from scenarios.scale_check import SCALE_KPIS, scale_table
from scenarios.scaling import fractional_servers, integer_split, load_factors
from twin.population import build_city
from twin.presets import preset, structure

# Small but loaded settings (queues form at every scale) so each check takes seconds.
CITY = "shizuoka"  # the smallest designated city
DISASTER = {"evacuation_share": 0.02, "horizon_h": 24.0, "paper_staff_per_shelter": 1,
            "paper_form_mean_s": 600.0}
CERTIFICATES = {"days": 1, "requests_per_resident_per_year": 0.1,
                "counter_windows_per_ward": 1}
PAYMENTS = {"duration_s": 10.0, "writer_kill_before_commit_at_s": [3.0],
            "writer_kill_after_commit_at_s": [7.0], "network_drop_at_s": [4.0],
            "network_drop_s": 2.0}


@pytest.mark.parametrize("scale", [0.01, 0.05, 0.2])
def test_every_reduced_city_stands_for_the_whole_citys_shelters_and_stores_in_each_ward(scale):
    city = build_city(CITY, 0, scale)
    full_pop = preset(CITY).population
    s = structure()
    for kind, per in (("shelter", "residents_per_shelter"), ("store", "residents_per_store")):
        f = city.facilities.filter(pl.col("kind") == kind)
        represented = f.group_by("ward").agg(pl.col("represents").sum()).sort("ward")
        # each ward's sum is the whole city's count there; all wards: about population / figure
        assert np.allclose(represented["represents"], np.round(represented["represents"]))
        assert abs(represented["represents"].sum() - full_pop / s[per]) <= preset(CITY).wards
    loads = load_factors(city.facilities, "shelter", scale)
    residents_per_shelter = city.residents.height / loads.sum()
    assert residents_per_shelter == pytest.approx(s["residents_per_shelter"], rel=0.1)


def test_shelters_split_their_ward_into_districts_of_equal_population():
    city = build_city(CITY, 0, 0.2)
    from scipy.spatial import cKDTree

    sh = city.facilities.filter(pl.col("kind") == "shelter")
    hh = city.households
    near = cKDTree(sh.select("x_km", "y_km").to_numpy()).query(
        hh.select("x_km", "y_km").to_numpy())[1]
    served = np.bincount(near, weights=hh["size"].to_numpy(), minlength=sh.height)
    assert served.std() / served.mean() < 0.25  # random sites gave 0.4 and more


def test_fractional_staff_keep_the_capacity_and_whole_counts_add_up():
    assert fractional_servers(2.0) == (2, 1.0)
    whole, stretch = fractional_servers(0.36)
    assert whole == 1 and whole / stretch == pytest.approx(0.36)
    whole, stretch = fractional_servers(2.4)
    assert whole == 3 and whole / stretch == pytest.approx(2.4)
    with pytest.raises(ValueError, match="positive"):
        fractional_servers(0.0)
    parts = integer_split(326, np.ones(15))
    assert parts.sum() == 326 and parts.max() - parts.min() <= 1


def _check(table: pl.DataFrame) -> None:
    bad = table.filter(~pl.col("agrees"))
    assert bad.height == 0, bad.select("kpi", "scale", "mean", "ci_low", "ci_high").to_dicts()


@pytest.fixture(scope="module")
def disaster_table() -> pl.DataFrame:
    return scale_table("disaster", [0.05, 0.2, 1.0], city=CITY, reps=3, overrides=DISASTER)


def test_disaster_waits_and_registration_at_scale_0_05_and_0_2_agree_with_the_whole_city(
        disaster_table):
    _check(disaster_table)
    p95 = disaster_table.filter(pl.col("kpi") == "checkin_wait_p95_min")["mean"].to_numpy()
    assert p95.min() > 60  # the queues are real at every scale (not a trivial agreement)


def test_certificate_waits_and_kiosk_share_agree_across_scales():
    table = scale_table("certificates", [0.05, 0.2, 1.0], city=CITY, reps=2,
                        overrides=CERTIFICATES)
    _check(table)
    assert table.filter(pl.col("kpi") == "counter_wait_p95_min")["mean"].min() > 15


def test_payment_throughput_and_latency_agree_across_scales():
    _check(scale_table("payments", [0.05, 0.2, 1.0], city=CITY, reps=2, overrides=PAYMENTS))


def test_every_scenario_declares_the_kpis_scale_must_not_change():
    from scenarios.registry import scenario as scenario_module

    for name, kpis in SCALE_KPIS.items():
        assert set(kpis) <= {k.name for k in scenario_module(name).KPIS}


def test_the_cli_text_says_a_reduced_scale_in_its_first_line_and_nothing_at_full_scale(cli,
                                                                                    capsys):
    from tests.scenarios.test_scenario_cli import SMALL

    text = cli("scenario", "payments", *SMALL)
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[0].startswith("Reduced scale: population scale 0.01")
    from cli import emit

    emit({"scale": 1.0}, "text", "full city", scale=1.0)
    emit({"scale": 1.0}, "json", "", scale=1.0)
    assert capsys.readouterr().out == 'full city\n{\n  "scale": 1.0\n}\n'
