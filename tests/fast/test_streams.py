"""Per-source random streams: a design change leaves every other source's draws as they were."""

from __future__ import annotations

import numpy as np

from scenarios.disaster import outage_plan, simulate
from scenarios.runner import make_params
from scenarios.streams import Streams

SMALL = {"scale": 0.01, "city_seed": 1, "horizon_h": 12.0}


def test_a_source_gets_the_same_draws_whatever_else_is_asked_for_first():
    a, b = Streams(np.random.SeedSequence(7)), Streams(np.random.SeedSequence(7))
    a["arrivals"].random(5)
    first = a["service_card"].random(3)
    assert np.array_equal(b["service_card"].random(3), first)
    assert not np.array_equal(Streams(np.random.SeedSequence(8))["service_card"].random(3), first)
    assert not np.array_equal(Streams(np.random.SeedSequence(7))["arrivals"].random(3), first)


def test_turning_face_checks_on_keeps_arrivals_shelters_stays_and_other_peoples_desk_times():
    runs = {}
    for face in (False, True):
        p = make_params("disaster", "full", overrides=SMALL | {"face_check_enabled": face})
        runs[face], _, _ = simulate(p, Streams(np.random.SeedSequence(3)))
    off, on = runs[False], runs[True]
    for name in ("group_arrival_s", "group_shelter", "member_resident", "group_start"):
        assert np.array_equal(getattr(off.ev, name), getattr(on.ev, name)), name
    assert off.stay_s == on.stay_s
    same = off.ev.member_method == on.ev.member_method
    assert (~same).any() and same.mean() > 0.9
    assert np.array_equal(np.array(off.durations)[same], np.array(on.durations)[same])


def test_more_readers_per_shelter_keep_the_same_outages():
    plans = []
    for readers in (1, 3):
        p = make_params("disaster", "full", overrides=SMALL | {"readers_per_shelter": readers,
                                                              "reader_offline_probability": 0.5})
        m, _, _ = simulate(p, Streams(np.random.SeedSequence(4)))
        plans.append([(m.net.readers[r[0]], start, length)
                      for r, start, length in outage_plan(m, Streams(
                          np.random.SeedSequence(4))["outages"])])
    assert plans[0] and plans[0] == plans[1]
