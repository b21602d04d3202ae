"""A city's face-check facts are worked out once per residents frame and shared read-only."""

from __future__ import annotations

import numpy as np
import pytest

from twin.services.card_serials import SerialIndex
from twin.services.faceid import FaceCheckDesk, FaceFacts


def test_desks_given_one_citys_facts_share_them_read_only_and_a_desk_without_works_its_own(small_city):
    facts = FaceFacts.of(small_city.residents)
    a, b = FaceCheckDesk.from_city(small_city, facts=facts), FaceCheckDesk.from_city(small_city, facts=facts)
    assert a.birth is b.birth is facts.birth and a.household_size is b.household_size
    with pytest.raises(ValueError):
        a.has_photo[0] = not a.has_photo[0]
    other = FaceCheckDesk(small_city.residents.head(10))
    assert other.birth.size == 10 and other.birth is not a.birth


def test_the_disaster_runs_desks_over_one_frame_share_its_facts(small_city):
    from scenarios import templates
    from scenarios.disaster import build_services
    from scenarios.runner import make_params

    p = make_params("disaster", "full", overrides={"scale": 0.01, "face_check_enabled": True})
    templates.clear()
    (_s1, a), (_s2, b) = build_services(p, small_city, 0.0), build_services(p, small_city, 0.0)
    assert a is not b and a.birth is b.birth and templates.counts()["face_facts"] == (1, 1)


def test_the_shared_facts_are_those_of_the_registry(small_city):
    desk = FaceCheckDesk.from_city(small_city)
    r = small_city.residents.sort("resident_id")
    sizes = r.group_by("household_id").len()
    expect = r.join(sizes, on="household_id", how="left")["len"].to_numpy()
    assert np.array_equal(desk.household_size, expect)
    assert np.array_equal(desk.has_photo, r["has_card"].to_numpy())


def test_preparing_repeated_and_unknown_serials_finds_each_known_card_once():
    index = SerialIndex(np.array([50, 10, 30, 20]), np.array([5, 1, 3, 2]))
    index.prepare(np.array([30, 10, 30, 99, 10]))
    assert index._seen == {10: 1, 30: 3}
    assert [index.resident_of(s, 0.0) for s in (10, 30, 50)] == [1, 3, 5]
