"""The certificate peak on both engines: every customer seated at the same instants at every kiosk
and counter, and the same KPIs, frames and event counts, seed by seed, in hostile cases too."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from scenarios.certificates import simulate
from scenarios.certificates_kpis import kpis_of, series_frame, visits_frame, wards_frame
from scenarios.runner import make_params

HARSH = {"city_seed": 1, "days": 1, "demand_share": 0.05, "counter_windows_per_ward": 1,
         "pin_mistype_probability": 0.3, "kiosk_p_network_down": 0.05, "kiosk_p_paper_out": 0.03}


def decided(engine: str, seed: int, **over) -> dict:
    """Per-customer seats at every point, and everything the run decides, from one engine."""
    p = make_params("certificates", "full", overrides=HARSH | over | {"engine": engine})
    m, _, public = simulate(p, seed)
    visits = visits_frame(m)
    points = [*m.kiosk_points, *m.counter_points.values()]
    events = Counter(type(e).__name__ for e in [*m.service.events, *m.registry.events])
    frames = {"visits": visits.to_dicts(), "series": series_frame(m).to_dicts(),
              "wards": wards_frame(m, visits).to_dicts(), "documents": m.service.documents().to_dicts()}
    return {"seats": {pt.name: pt.records for pt in points}, "events": events, "counts": m.counts,
            "decided": json.dumps([kpis_of(m, visits, int(public.sum())), frames], default=str)}


def assert_same(ref: dict, fast: dict) -> None:
    """Seats agree to 1e-9 s (they are in fact equal); everything else is identical."""
    assert ref["seats"].keys() == fast["seats"].keys()
    for name, rows in ref["seats"].items():
        a, b = np.array(rows, dtype=float).reshape(-1, 4), np.array(fast["seats"][name], dtype=float).reshape(-1, 4)
        assert a.shape == b.shape and np.all(np.abs(a - b) <= 1e-9), name
    assert (fast["events"], fast["counts"], fast["decided"]) == (ref["events"], ref["counts"], ref["decided"])


@pytest.mark.parametrize("scale", [0.01, 0.02])
def test_both_engines_seat_every_customer_alike_and_decide_the_same(scale):
    for seed in (1, 2, 3):
        ref = decided("simpy", seed, scale=scale)
        assert ref["counts"]["kiosk_faults"] > 0 and ref["events"]["Refused"] > 0
        assert_same(ref, decided("fast", seed, scale=scale))


def test_overloaded_counters_renege_and_balk_alike_on_both_engines():
    over = {"scale": 0.01, "demand_share": 0.2, "counter_patience_min": 15.0,
            "balk_expected_wait_min": 15.0, "kiosk_p_paper_out": 0.0}
    ref = decided("simpy", 7, **over)
    assert ref["counts"]["reneged"] > 5 and ref["counts"]["balked_to_kiosk"] > 5
    assert_same(ref, decided("fast", 7, **over))


def test_visits_that_find_everything_closed_wait_for_the_opening_alike():
    over = {"scale": 0.01, "start_date": "2026-03-28", "days": 2, "kiosk_open_hour": 10.0}  # a weekend
    ref = decided("simpy", 8, **over)
    assert len(ref["seats"]) and ref["counts"]["kiosk_fallbacks"] > 0
    assert_same(ref, decided("fast", 8, **over))


def test_every_kiosk_out_of_service_sends_everyone_to_the_counters_alike():
    over = {"scale": 0.01, "kiosk_p_paper_out": 1.0, "paper_refill_h": 48.0, "kiosk_p_network_down": 0.0}
    ref = decided("simpy", 9, **over)
    assert ref["counts"]["kiosk_faults"] > 0 and ref["events"]["CertificateVoided"] > 0
    assert_same(ref, decided("fast", 9, **over))


def test_a_day_without_a_single_visit_gives_the_same_empty_run():
    ref = decided("simpy", 10, scale=0.01, demand_share=1e-6)
    assert all(not rows for rows in ref["seats"].values())
    assert_same(ref, decided("fast", 10, scale=0.01, demand_share=1e-6))
