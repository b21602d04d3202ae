"""The queue machinery: exact records on hand-made arrivals, reneging, occupancy."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from scenarios.queueing import ServicePoint, occupancy_series, wait_summary
from twin.errors import ValidationError


def _run(arrivals, durations, servers, patience=None):
    env = simpy.Environment()
    point = ServicePoint(env, servers, "p")
    waits = {}

    def customer(i, at, d):
        yield env.timeout(at)
        if patience is None:
            waits[i] = yield from point.serve(i, d)
        else:
            waits[i] = yield from point.serve_or_renege(i, d, patience)

    for i, (at, d) in enumerate(zip(arrivals, durations, strict=True)):
        env.process(customer(i, at, d))
    env.run()
    return point, waits


def test_two_servers_serve_four_customers_first_come_first_served():
    point, waits = _run([0, 0, 0, 1], [3, 3, 3, 1], servers=2)
    assert sorted(point.records) == [(0, 0, 0, 3), (1, 0, 0, 3), (2, 0, 3, 6), (3, 1, 3, 4)]
    assert waits == {0: 0, 1: 0, 2: 3, 3: 2}
    assert point.span() == (0, 6)  # first arrival, last finish
    assert ServicePoint(simpy.Environment(), 1).span() is None


def test_a_customer_out_of_patience_leaves_the_line_and_is_recorded_as_reneged():
    point, waits = _run([0, 0, 1], [5, 5, 1], servers=1, patience=2)
    assert waits == {0: 0, 1: None, 2: None}
    df = point.frame().sort("who")
    assert df["reneged"].to_list() == [False, True, True]
    assert df["finished"].to_list() == [5.0, 2.0, 3.0]  # reneged: when they left
    assert df["wait"].to_list() == [0.0, None, None]


def test_a_patient_customer_is_served_once_a_server_frees():
    point, waits = _run([0, 0], [2, 1], servers=1, patience=5)
    assert waits == {0: 0, 1: 2}
    assert point.queue_length == 0 and point.busy == 0


def test_a_service_point_without_servers_is_refused():
    with pytest.raises(ValidationError, match="needs >= 1 server"):
        ServicePoint(simpy.Environment(), 0, "kiosk")


def test_occupancy_counts_waiting_and_served_customers_at_each_instant():
    point, _ = _run([0, 0, 0, 1], [3, 3, 3, 1], servers=2)
    rec = np.array(sorted(point.records), dtype=float)
    waiting, serving = occupancy_series(rec[:, 1], rec[:, 2], rec[:, 3], np.array([0.5, 2, 3.5, 7]))
    assert waiting.tolist() == [1, 2, 0, 0]
    assert serving.tolist() == [2, 2, 2, 0]


def test_wait_summary_gives_percentiles_and_handles_no_waits():
    s = wait_summary(np.arange(101, dtype=float))
    assert (s["p50"], s["p95"], s["max"], s["n"]) == (50.0, 95.0, 100.0, 101)
    assert np.isnan(wait_summary(np.array([]))["p95"])
