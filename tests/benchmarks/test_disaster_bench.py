"""The disaster benchmark's measure of the twin's share of a fast run."""

from __future__ import annotations

from benchmarks.bench_disaster import twin_share
from scenarios.runner import make_params
from twin.services.shelters import ShelterNetwork


def test_the_twin_share_of_a_fast_run_is_a_share_and_the_timers_are_taken_off_again():
    before = dict(vars(ShelterNetwork))
    params = make_params("disaster", "full", overrides={"city_seed": 1, "scale": 0.01, "horizon_h": 12.0})
    twin_share(params)  # the first run of a city builds its card index and face-check facts
    share = twin_share(params)
    assert 0 < share < 1  # check-ins, paper forms and reads are timed, and no call twice
    assert dict(vars(ShelterNetwork)) == before


def test_the_engines_are_timed_alternately_and_each_ones_best_run_is_kept(monkeypatch):
    import benchmarks.bench_disaster as bench

    order, times = [], iter([(3.0, 2.9, "f1"), (20.0, 19.0, "s1"), (2.5, 2.6, "f2"), (21.0, 18.5, "s2")])

    def timed(params, engine):
        order.append(engine)
        return next(times)

    monkeypatch.setattr(bench, "_timed", timed)
    assert bench._alternated(None, 2) == (2.5, 2.6, "f2", 20.0, 18.5, "s2")
    assert order == ["fast", "simpy", "fast", "simpy"]
