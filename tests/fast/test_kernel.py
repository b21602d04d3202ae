"""The fast kernel's FIFO c-server stage against `ServicePoint` on SimPy, customer by customer."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scenarios.fast.kernel import NO_SERVER, RENEGED, FifoSeats, FifoStage, fifo_stage
from tests.fast.simpy_ref import simpy_stage
from twin.errors import ValidationError

TOL = 1e-9


def assert_same(arrived, service, servers, patience=None, free_from=None):
    """Both engines give every customer the same start and finish (within 1e-9 s)."""
    fast = fifo_stage(arrived, service, servers, patience=patience, free_from=free_from)
    s_ref, f_ref = simpy_stage(np.asarray(arrived, float), np.asarray(service, float), servers,
                               None if patience is None else np.asarray(patience, float),
                               free_from)
    both_inf = np.isinf(fast.started) & np.isinf(s_ref)
    assert np.array_equal(np.isinf(fast.started), np.isinf(s_ref))
    assert np.allclose(fast.started[~both_inf], s_ref[~both_inf], rtol=0, atol=TOL)
    assert np.allclose(fast.finished[~both_inf], f_ref[~both_inf], rtol=0, atol=TOL)
    return fast


@pytest.mark.parametrize("servers", [1, 2, 5])
def test_poisson_customers_start_and_finish_as_on_simpy(servers):
    rng = np.random.default_rng(servers)
    arrived = np.cumsum(rng.exponential(1.0, 3000))
    service = rng.exponential(0.9 * servers, 3000)
    assert_same(arrived, service, servers)


@pytest.mark.parametrize("seed", range(6))
def test_ties_in_arrivals_and_finishes_are_broken_as_simpy_breaks_them(seed):
    rng = np.random.default_rng(100 + seed)
    n = 400
    arrived = np.sort(rng.integers(0, 200, n)).astype(float) / 2.0  # many equal times
    service = rng.integers(1, 8, n).astype(float) / 2.0  # finishes land on arrivals
    servers = int(rng.integers(1, 4))
    patience = rng.integers(0, 10, n).astype(float) / 2.0  # patience ends on finishes
    assert_same(arrived, service, servers)
    fast = assert_same(arrived, service, servers, patience)
    assert fast.reneged.any() and (~fast.reneged).any()


def test_a_customer_whose_patience_ends_as_a_server_frees_is_served():
    fast = assert_same([0.0, 1.0, 1.0], [5.0, 2.0, 2.0], 1, patience=[0.0, 4.0, 3.0])
    assert fast.started.tolist() == [0.0, 5.0, RENEGED]
    assert fast.finished.tolist() == [5.0, 7.0, 4.0]
    assert fast.server.tolist() == [0, 0, NO_SERVER]


def test_a_customer_who_finds_a_free_server_is_served_whatever_its_patience():
    fast = assert_same([0.0, 0.0], [3.0, 3.0], 2, patience=[0.0, 0.0])
    assert fast.started.tolist() == [0.0, 0.0]


def test_zero_arrivals_give_empty_columns():
    fast = assert_same(np.array([]), np.array([]), 3)
    assert fast.started.size == fast.finished.size == fast.server.size == 0


def test_a_single_server_serves_one_after_another():
    fast = assert_same([0.0, 0.0, 0.0], [1.0, 2.0, 3.0], 1)
    assert fast.finished.tolist() == [1.0, 3.0, 6.0]


def test_all_servers_down_means_nobody_is_served_and_the_patient_wait_forever():
    arrived, service = [0.0, 1.0, 2.0], [1.0, 1.0, 1.0]
    down = np.array([math.inf, math.inf])
    fast = assert_same(arrived, service, 2, free_from=down)
    assert np.isinf(fast.started).all() and (fast.server == NO_SERVER).all()
    fast = assert_same(arrived, service, 2, patience=[1.0, 1.0, 1.0], free_from=down)
    assert fast.reneged.all() and fast.finished.tolist() == [1.0, 2.0, 3.0]


def test_servers_that_open_late_take_the_line_in_order():
    rng = np.random.default_rng(7)
    arrived = np.sort(rng.uniform(0, 50, 300))
    service = rng.exponential(1.5, 300)
    assert_same(arrived, service, 3, free_from=np.array([0.0, 20.0, math.inf]))
    assert_same(arrived, service, 3, patience=rng.exponential(5.0, 300),
                free_from=np.array([10.0, 20.0, 25.0]))


def test_the_online_stage_gives_what_the_array_stage_gives():
    rng = np.random.default_rng(3)
    arrived = np.sort(rng.integers(0, 100, 500)).astype(float)
    service = rng.integers(1, 6, 500).astype(float)
    patience = rng.integers(0, 6, 500).astype(float)
    whole = fifo_stage(arrived, service, 2, patience=patience)
    stage = FifoStage(2)
    rows = [stage.arrive(a, d, p) for a, d, p in zip(arrived, service, patience, strict=True)]
    assert [r[0] for r in rows] == whole.started.tolist()
    assert [r[1] for r in rows] == whole.finished.tolist()


@pytest.mark.parametrize("servers", [1, 3])
def test_seats_give_what_the_array_stage_gives(servers):
    rng = np.random.default_rng(4)
    arrived = np.sort(rng.integers(0, 100, 500)).astype(float)  # ties in arrival times
    service = rng.integers(0, 6, 500).astype(float)  # zero-length services too
    whole = fifo_stage(arrived, service, servers)
    seats = FifoSeats(servers)
    rows = [seats.seat(a, d) for a, d in zip(arrived.tolist(), service.tolist(), strict=True)]
    assert [r[0] for r in rows] == whole.started.tolist()
    assert [r[1] for r in rows] == whole.finished.tolist()
    resumed = FifoSeats(servers, "desk", seats.state())  # seats on from where the other stands
    assert resumed.seat(100.0, 1.0) == seats.seat(100.0, 1.0)
    assert FifoSeats(servers).state() == (0.0,) * servers


def test_seats_refuse_a_desk_without_servers():
    with pytest.raises(ValidationError, match="whole number >= 1"):
        FifoSeats(0, "desk")


def test_a_server_is_never_given_two_customers_at_once():
    rng = np.random.default_rng(11)
    arrived = np.sort(rng.uniform(0, 100, 2000))
    t = fifo_stage(arrived, rng.exponential(0.3, 2000), 3)
    for k in range(3):
        mine = t.server == k
        assert (t.started[mine][1:] >= t.finished[mine][:-1]).all()


@pytest.mark.parametrize("bad", [
    dict(arrived=[1.0, 0.0], service=[1.0, 1.0], servers=1),
    dict(arrived=[0.0], service=[-1.0], servers=1),
    dict(arrived=[0.0], service=[1.0], servers=0),
    dict(arrived=[0.0, 1.0], service=[1.0], servers=1),
    dict(arrived=[0.0], service=[1.0], servers=2, free_from=[0.0]),
])
def test_bad_input_is_refused_with_a_clear_error(bad):
    with pytest.raises(ValidationError):
        fifo_stage(bad.pop("arrived"), bad.pop("service"), bad.pop("servers"), **bad)


def test_the_online_stage_refuses_customers_out_of_arrival_order():
    stage = FifoStage(1, "desk")
    stage.arrive(5.0, 1.0)
    with pytest.raises(ValidationError, match="arrival order"):
        stage.arrive(4.0, 1.0)
