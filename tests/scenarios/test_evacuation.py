"""The evacuation workload: households, groups, shelters and methods drawn from the city frame."""

from __future__ import annotations

import numpy as np
import pytest

from scenarios.disaster_params import DisasterParams
from scenarios.evacuation import (
    CARD,
    FACE,
    PAPER,
    checkin_methods,
    choose_shelters,
    draw_evacuation,
    pick_households,
)


def test_picked_households_just_reach_the_target_head_count():
    sizes = np.array([1, 2, 3, 4, 1, 2, 2, 5, 1, 3])
    idx = pick_households(np.random.default_rng(0), sizes, 12)
    total = sizes[idx].sum()
    assert total >= 12 and total - sizes[idx].max() < 12
    assert len(set(idx.tolist())) == idx.size


def test_every_point_picks_one_of_its_three_nearest_shelters_mostly_the_nearest():
    shelters = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    pts = np.zeros((5000, 2)) + [0.5, 0.5]
    pick = choose_shelters(np.random.default_rng(1), pts, shelters, decay_km=1.0)
    assert set(pick.tolist()) <= {0, 1, 2}
    assert (pick == 0).mean() > 0.99  # 9.5 km further away: exp(-9.5) odds
    far = choose_shelters(np.random.default_rng(1), pts, shelters, decay_km=1000.0)
    assert 0.30 < (far == 1).mean() < 0.37  # nearly indifferent among the three


def test_methods_follow_cards_readers_and_face_checks():
    rng = np.random.default_rng(2)
    has_card = np.array([True] * 5000 + [False] * 5000)
    m = checkin_methods(rng, has_card, carried_share=1.0, no_id_share=0.0, readers=True,
                        face_check=True)
    assert (m[:5000] == CARD).all() and (m[5000:] == PAPER).all()
    none = checkin_methods(rng, has_card, 1.0, 0.0, readers=False, face_check=True)
    assert (none == PAPER).all()
    lost = checkin_methods(rng, has_card, 1.0, 1.0, readers=True, face_check=True)
    assert (lost == FACE).all()
    assert (checkin_methods(rng, has_card, 1.0, 1.0, True, False) == PAPER).all()


@pytest.fixture(scope="module")
def evacuation(small_city):
    p = DisasterParams.build("kumamoto", overrides={"scale": 0.01, "city_seed": 1,
                                                    "readers_per_shelter": 2,
                                                    "household_together_share": 0.5})
    return draw_evacuation(np.random.default_rng(5), small_city, p,
                           lambda rng, n: rng.uniform(0, 10, n)), p, small_city


def test_the_evacuee_count_follows_the_evacuation_share(evacuation):
    ev, p, city = evacuation
    target = round(p.evacuation_share * city.residents.height)
    assert target <= ev.people < target + 7  # at most one household over


def test_groups_arrive_in_time_order_and_partition_the_evacuees(evacuation):
    ev, _, city = evacuation
    assert (np.diff(ev.group_arrival_s) >= 0).all()
    assert ev.group_start[0] == 0 and ev.group_start[-1] == ev.people
    assert len(set(ev.member_resident.tolist())) == ev.people
    hh = city.residents["household_id"].to_numpy()
    assert (hh[ev.member_resident] == ev.member_household).all()


def test_apart_households_arrive_as_one_group_per_member(evacuation):
    ev, _, _ = evacuation
    size = np.diff(ev.group_start)
    apart = np.isin(ev.group_household, ev.apart_household)
    assert (size[apart] == 1).all()
    assert ev.apart_household.size > 0 and (size[~apart] >= 1).all()


def test_only_card_tappers_carry_a_serial(evacuation):
    ev, _, city = evacuation
    serial = city.residents["card_serial"].fill_null(-1).to_numpy()
    tap = ev.member_method == CARD
    assert (ev.member_serial[tap] == serial[ev.member_resident[tap]]).all()
    assert (ev.member_serial[~tap] == -1).all()
