"""The fast disaster run's check-ins in runs and its planned seats, compiled (numba) or in Python: the same day."""

from __future__ import annotations

import pytest

from scenarios import disaster
from scenarios.fast import first_runs
from scenarios.runner import make_params
from scenarios.streams import Streams
from tests.fast.test_disaster_engines import assert_same


def _day(monkeypatch, compiled: bool, seed: int, **over):
    """A fast run with the runs' rows and the planned seats compiled or not: the result, and the model's register and records."""
    monkeypatch.setattr(first_runs, "compiled_for", lambda rows: compiled)
    p = make_params("disaster", "full", overrides={"city_seed": 1, "scale": 0.01, "engine": "fast"} | over)
    m, _, _ = disaster.simulate(p, Streams(disaster.as_seed_sequence(seed)))
    return disaster.run(p, seed), m.net.taps.to_frame(), m.net.paper.to_frame(m.net.facility_ids), list(m.card_admitted)


@pytest.mark.parametrize(("seed", "over"), [(1, {}), (2, {"shelter_capacity": 40, "reader_offline_probability": 0.6})])
def test_a_day_is_the_same_whether_its_runs_are_compiled_or_not(monkeypatch, seed, over):
    (ref, *ref_rows), (fast, *fast_rows) = (_day(monkeypatch, c, seed, **over) for c in (False, True))
    assert_same(ref, fast)
    for a, b in zip(ref_rows, fast_rows, strict=True):
        assert a.equals(b) if hasattr(a, "equals") else a == b
    assert ref.kpis["evacuees"] > 300 and (fast.kpis["redirected"] > 0 or not over)


def test_the_models_card_holders_are_the_serial_indexs_holders_of_each_persons_card():
    p = make_params("disaster", "full", overrides={"city_seed": 1, "scale": 0.01, "engine": "fast"})
    m, _, _ = disaster.simulate(p, Streams(disaster.as_seed_sequence(3)))
    assert m.card_holders.tolist() == m.net.resolver.holders_of(m.ev.member_serial).tolist()
    assert (m.card_holders >= 0).sum() > 100
