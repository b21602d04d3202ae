"""The disaster scenario on both engines: the same KPIs, event counts and frames, seed by seed."""

from __future__ import annotations

import math

import pytest

from scenarios import disaster
from scenarios.disaster_sim import MAX_REDIRECTS
from scenarios.runner import make_params

ENGINE_ONLY = {"simulation_events"}  # each engine counts its own events


def both(design: str, seed: int, **over):
    """The scenario's result from SimPy and from the fast engine."""
    base = {"city_seed": 1, "scale": 0.01} | over
    return tuple(disaster.run(make_params("disaster", design, overrides=base | {"engine": e}), seed)
                 for e in ("simpy", "fast"))


def assert_same(ref, fast):
    """Every KPI (but the engine's own event count) and every frame is identical."""
    for k, v in ref.kpis.items():
        if k in ENGINE_ONLY:
            continue
        w = fast.kpis[k]
        assert v == w or (math.isnan(v) and math.isnan(w)), k
    assert ref.frames.keys() == fast.frames.keys()
    for name, frame in ref.frames.items():
        assert frame.equals(fast.frames[name]), name
    assert ref.params | {"engine": "fast"} == fast.params


@pytest.mark.parametrize("scale", [0.01, 0.02])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_full_design_gives_identical_results_on_both_engines(scale, seed):
    ref, fast = both("full", seed, scale=scale, horizon_h=30.0)
    assert ref.kpis["evacuees"] > 500 and ref.kpis["face_checks"] > 0
    assert_same(ref, fast)


def test_paper_only_shelters_give_identical_results_on_both_engines():
    assert_same(*both("baseline", 5, horizon_h=24.0))


def test_a_shelter_full_on_arrival_redirects_identically_on_both_engines():
    ref, fast = both("full", 6, shelter_capacity=3, evacuation_share=0.2, horizon_h=24.0)
    assert ref.kpis["redirected"] > 0 and ref.kpis["no_place"] > 0
    assert_same(ref, fast)


def test_redirects_chained_to_the_limit_are_identical_on_both_engines(monkeypatch):
    from twin.services.shelters import ShelterNetwork

    # every redirect points at the next shelter, itself full: each group walks on until the limit
    monkeypatch.setattr(ShelterNetwork, "nearest_with_room",
                        lambda self, s: (s + 1) % self.shelter_count)
    ref, fast = both("full", 8, shelter_capacity=1, evacuation_share=0.05, horizon_h=30.0,
                     walk_speed_kmh=20.0)
    # a group walks on at most MAX_REDIRECTS + 1 times (one who then falls back to paper, e.g. a
    # refused face check, starts a new chain)
    assert (ref.frames["evacuees"]["redirects"] == MAX_REDIRECTS + 1).sum() > 10
    assert_same(ref, fast)


def test_readers_all_offline_give_identical_results_on_both_engines():
    ref, fast = both("full", 7, reader_offline_probability=1.0, reader_outage_mean_min=600.0,
                     horizon_h=24.0)
    assert ref.kpis["offline_taps"] > 0
    assert_same(ref, fast)


def test_one_generator_for_every_source_also_gives_the_same_register_on_both_engines():
    import numpy as np

    from scenarios.disaster import Params, simulate

    models = [simulate(Params(scale=0.01, horizon_h=8.0, engine=e, face_check_enabled=True,
                              readers_per_shelter=2, reader_offline_probability=0.5),
                       np.random.default_rng(3))[0] for e in ("simpy", "fast")]
    ref, fast = (m.net.taps.to_frame() for m in models)
    assert ref.height > 300 and ref.equals(fast)


def test_most_planned_visits_are_checked_in_in_runs_with_identical_results(monkeypatch):
    from twin.services.shelters import ShelterNetwork

    calls, rows = [], []
    real = ShelterNetwork.check_in_run

    def counted(net, card, *columns):
        outs, target = real(net, card, *columns)
        calls.append(len(card))
        rows.append(len(outs))
        return outs, target

    monkeypatch.setattr(ShelterNetwork, "check_in_run", counted)
    ref, fast = both("full", 4, scale=0.02, horizon_h=30.0)
    assert sum(rows) > 0.8 * ref.kpis["evacuees"] and max(calls) > 20  # runs of many people
    assert_same(ref, fast)
