"""The fast disaster engine's arrival times: SimPy's clock, gap by gap, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from scenarios.fast.first_visits import arrival_clock


def simpy_clock(at: list[float], horizon: float) -> list[float]:
    """The clock of a SimPy source that times out `at - now` before each arrival, up to the horizon."""
    now, out = 0.0, []
    for t in at:
        if t > horizon:
            break
        now = now + (t - now)
        out.append(now)
    return out


def hostile(seed: int) -> np.ndarray:
    """Ascending arrivals with ties, tiny first gaps and long runs of gaps that round (each arrival
    more than twice the one before, where `now + (at - now)` need not give `at`)."""
    rng = np.random.default_rng(seed)
    calm = np.sort(rng.uniform(0.0, 86400.0, 300))
    calm[50:60] = calm[50]  # ties
    growth = np.cumprod(rng.uniform(2.0, 3.0, 120)) * rng.uniform(1e-9, 1e-6)
    return np.sort(np.r_[rng.uniform(0.0, 1e-12, 5), growth, calm, 1e17 + rng.uniform(0, 1e3, 40)])


@pytest.mark.parametrize("passes", [0, 1, 32])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_arrival_times_are_simpys_clock_bit_for_bit_whether_worked_out_at_once_or_in_turn(seed, passes):
    at = hostile(seed)
    for horizon in (np.inf, 86400.0 / 2, 0.0):
        want = np.asarray(simpy_clock(at.tolist(), horizon), dtype=np.float64)
        got = arrival_clock(at, horizon, passes)
        assert got.dtype == np.float64 and got.view(np.int64).tolist() == want.view(np.int64).tolist()
    assert (arrival_clock(at, np.inf) != at).any()  # some gaps do round: the case is not trivial


def test_no_arrival_or_none_before_the_horizon_gives_no_time():
    assert arrival_clock(np.array([]), 10.0).size == 0
    assert arrival_clock(np.array([11.0, 12.0]), 10.0).size == 0
    assert arrival_clock(np.array([3.0, 11.0, 5.0]), 10.0).tolist() == [3.0]  # stops at the first one past it
