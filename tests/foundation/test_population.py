"""Presets and the synthetic population."""

from __future__ import annotations

import polars as pl
import pytest

from twin.errors import ValidationError
from twin.ids import format_my_number, is_valid_my_number
from twin.population import build_city
from twin.presets import preset, presets

FACTS_POPULATION = {
    "yokohama": 3_777_491, "osaka": 2_752_412, "nagoya": 2_332_176, "sapporo": 1_973_395,
    "fukuoka": 1_612_392, "kawasaki": 1_538_262, "kobe": 1_525_152, "kyoto": 1_463_723,
    "saitama": 1_324_025, "hiroshima": 1_200_754, "sendai": 1_096_704, "chiba": 974_951,
    "kitakyushu": 939_029, "sakai": 826_161, "hamamatsu": 790_718, "niigata": 789_275,
    "kumamoto": 738_865, "sagamihara": 725_493, "okayama": 724_691, "shizuoka": 693_389,
}


def test_all_twenty_designated_cities_match_facts_with_171_wards():
    table = presets()
    assert {k: v.population for k, v in table.items()} == FACTS_POPULATION
    assert sum(p.wards for p in table.values()) == 171
    assert preset("kumamoto").card_ownership == pytest.approx(0.764)
    assert preset("kyoto").card_ownership == pytest.approx(0.683)
    # FACTS.md's "designated-city average 72.1 %" is the population-weighted mean
    weighted = sum(p.population * p.card_ownership for p in table.values()) / sum(FACTS_POPULATION.values())
    assert weighted == pytest.approx(0.721, abs=0.0005)


def test_every_preset_figure_names_its_source():
    for p in presets().values():
        assert dict(p.sources).keys() == {"population", "wards", "card_ownership"}
        assert all(src for _, src in p.sources)


def test_an_unknown_city_lists_the_valid_ones_and_suggests_the_nearest():
    with pytest.raises(ValidationError, match="did you mean 'kumamoto'.*valid cities: chiba"):
        preset("kumamot")


def test_the_same_name_seed_and_scale_give_an_identical_city():
    a, b = build_city("sendai", 5, 0.01), build_city("sendai", 5, 0.01)
    assert a.residents.equals(b.residents) and a.households.equals(b.households)
    assert a.facilities.equals(b.facilities)
    assert not a.residents.equals(build_city("sendai", 6, 0.01).residents)


def test_a_city_follows_the_published_structure(small_city):
    r = small_city.residents
    n = r.height
    assert n == round(738_865 * 0.01)
    assert (r["age"] < 15).mean() == pytest.approx(0.119, abs=0.015)
    assert (r["age"] >= 65).mean() == pytest.approx(0.286, abs=0.02)
    assert small_city.households["size"].mean() == pytest.approx(2.0, abs=0.1)
    assert r["has_card"].mean() == pytest.approx(0.764, abs=0.02)
    assert r["ward"].n_unique() == 5


def test_households_sizes_match_their_members_and_every_household_has_an_adult(small_city):
    r, h = small_city.residents, small_city.households
    counts = r.group_by("household_id").len().sort("household_id")
    assert counts["len"].to_list() == h.sort("household_id")["size"].to_list()
    oldest = r.group_by("household_id").agg(pl.col("age").max())
    assert (oldest["age"] >= 18).all()


def test_card_holding_is_lower_for_infants_and_the_very_old():
    r = build_city("osaka", 2, 0.05).residents
    rate = lambda m: float(r.filter(m)["has_card"].mean())  # noqa: E731
    working = rate((pl.col("age") >= 15) & (pl.col("age") < 75))
    assert rate(pl.col("age") < 5) < working - 0.2
    assert rate(pl.col("age") >= 85) < working - 0.15


def test_card_serials_are_unique_and_only_holders_have_one(small_city):
    r = small_city.residents
    serials = r["card_serial"]
    assert serials.is_null().to_list() == (~r["has_card"]).to_list()
    assert serials.drop_nulls().n_unique() == int(r["has_card"].sum())


def test_every_resident_has_a_distinct_valid_synthetic_my_number(small_city):
    nums = small_city.residents["my_number"]
    assert nums.n_unique() == nums.len()
    assert all(is_valid_my_number(format_my_number(v)) for v in nums.to_list())


def test_facilities_cover_every_ward_with_a_counter_and_a_shelter(small_city):
    f = small_city.facilities
    for kind in ("shelter", "counter", "store", "school", "public_kiosk_site"):
        assert f.filter(pl.col("kind") == kind)["ward"].n_unique() == 5, kind
    assert f.filter(pl.col("kind") == "counter").height == 5
    assert f["facility_id"].n_unique() == f.height


@pytest.mark.parametrize("scale", [0, -0.5, 1.5, "big"])
def test_an_out_of_range_scale_is_refused(scale):
    with pytest.raises(ValidationError, match="scale"):
        build_city("kumamoto", 0, scale)


def test_a_negative_seed_is_refused():
    with pytest.raises(ValidationError, match="seed"):
        build_city("kumamoto", -1, 0.01)
