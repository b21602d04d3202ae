"""The reads the fast engine answers after its loop (HQ reports, the series, family look-ups)
against SimPy's processes: the same HQ, found times, series and logged events."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from scenarios.disaster import simulate
from scenarios.results import as_seed_sequence
from scenarios.runner import make_params
from scenarios.streams import Streams
from twin.services.safety_events import FamilyLookup, HeadcountReported

# read-side stress: households apart, people leaving, readers offline for hours (records arrive at
# sync), slow paper entry with wrong names (records arrive hourly, some move people), full
# shelters (redirects), and clocks on odd steps
STRESS = {"household_together_share": 0.2, "stay_decline_per_day": 3.0,
          "reader_offline_probability": 0.7, "reader_outage_mean_min": 240.0,
          "paper_entry_forms_per_hour": 4.0, "paper_wrong_resident_rate": 0.2,
          "shelter_capacity": 60, "hq_report_interval_min": 7.3, "lookup_retry_min": 11.1,
          "series_step_min": 12.5, "horizon_h": 20.0}


def _event(e) -> tuple:
    """An event as a hashable row (NaN as None, so equal events compare equal)."""
    return tuple((k, None if isinstance(v, float) and math.isnan(v) else v) for k, v in e.as_row().items())


def both(seed: int, scale: float, **over):
    """(model, series rows) from SimPy and from the fast engine."""
    out = []
    for engine in ("simpy", "fast"):
        p = make_params("disaster", "full", overrides={"city_seed": 1, "scale": scale, "engine": engine} | over)
        m, rows, _stats = simulate(p, Streams(as_seed_sequence(seed)))
        out.append((m, rows))
    return out


def assert_same_reads(ref, fast) -> None:
    """Same found times, series rows, HQ state and the same events (order aside)."""
    (a, rows_a), (b, rows_b) = ref, fast
    assert a.found_at == b.found_at
    assert rows_a == rows_b
    for name in ("count", "identified", "counted_at", "received_at"):
        assert np.array_equal(getattr(a.safety.hq, name), getattr(b.safety.hq, name)), name
    assert Counter(map(_event, a.safety.events)) == Counter(map(_event, b.safety.events))


@pytest.mark.parametrize(("seed", "scale"), [(1, 0.01), (2, 0.02)])
def test_reads_under_stress_are_the_same_on_both_engines(seed, scale):
    ref, fast = both(seed, scale, **STRESS)
    assert_same_reads(ref, fast)
    m = ref[0]
    kinds = Counter(e.kind for e in m.safety.events)
    assert kinds["family_lookup"] > 200 and kinds["headcount_reported"] > 500
    assert kinds["offline_batch_synced"] > 0 and kinds["paper_forms_reconciled"] > 0
    assert np.count_nonzero(m.redirects) > 0 and np.count_nonzero(m.status == 3) > 50  # redirected, left
    rounds = Counter(r for r, _t in {(e.requester_id, e.at) for e in m.safety.events.of(FamilyLookup)})
    assert sum(n >= 3 for n in rounds.values()) > 5  # askers who asked again and again


def test_households_split_over_shelters_find_each_other_the_same_way_on_both_engines():
    ref, fast = both(3, 0.01, household_together_share=0.0, apart_distance_km=8.0, horizon_h=16.0,
                     stay_decline_per_day=0.0)
    assert_same_reads(ref, fast)
    m = ref[0]
    assert len(m.members_of) > 50 and len(m.found_at) > 20


@pytest.mark.parametrize("paper_min", [5.0, 15.0, 60.0])
def test_the_sampler_meets_paper_entry_on_the_same_instants_in_the_same_order(paper_min):
    # paper entry every 5, 15 or 60 min and the sampler every 15 min share instants; which runs
    # first there decides what the sample counts (the sampler stays on the loop's clock for this)
    ref, fast = both(5, 0.01, paper_entry_interval_min=paper_min, series_step_min=15.0,
                     horizon_h=10.0, paper_entry_forms_per_hour=20.0)
    assert_same_reads(ref, fast)


def test_without_family_look_ups_no_look_up_is_made_on_either_engine():
    ref, fast = both(4, 0.01, family_lookup=False, horizon_h=10.0)
    assert_same_reads(ref, fast)
    assert ref[0].found_at == {} and not ref[0].safety.events.of(FamilyLookup)
    assert ref[0].safety.events.of(HeadcountReported)


def test_members_redirected_or_turned_away_are_read_the_same_on_both_engines():
    # shelters fill: members walk on (off every floor while they walk) or find no place at all
    ref, fast = both(6, 0.01, shelter_capacity=600, evacuation_share=0.2, household_together_share=0.3,
                     horizon_h=12.0, walk_speed_kmh=1.0)
    assert_same_reads(ref, fast)
    m = ref[0]
    assert np.count_nonzero(m.redirects) > 50 and np.count_nonzero(m.status == 2) > 100
    assert len(m.found_at) > 10


def test_a_finished_run_frees_the_networks_history_at_once():
    """The history's notes hold no reference cycle: freed with the run, not by the cycle collector."""
    import gc
    import weakref

    from scenarios.disaster import Params

    gc.disable()
    try:
        m, _rows, _stats = simulate(Params(scale=0.01, horizon_h=6.0, engine="fast", family_lookup=True),
                                    np.random.default_rng(1))
        refs = [weakref.ref(m.net), weakref.ref(m.safety)]
        del m
        assert all(r() is None for r in refs)
    finally:
        gc.enable()
