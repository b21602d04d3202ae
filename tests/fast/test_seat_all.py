"""A desk's planned customers seated in one loop: `FifoSeats.seat_all` is `seat` customer by customer."""

from __future__ import annotations

import numpy as np
import pytest

from scenarios.fast.kernel import FifoSeats


@pytest.mark.parametrize("servers", [1, 2, 4])
@pytest.mark.parametrize("seed", [1, 2])
def test_seating_all_at_once_gives_each_customer_what_seating_one_by_one_gives(servers, seed):
    rng = np.random.default_rng(seed)
    at = np.sort(rng.integers(0, 60, 400)).astype(float).tolist()  # ties in arrival times
    d = (rng.integers(0, 4, 400) * rng.exponential(3.0, 400)).tolist()  # zero-length services too
    start = tuple(sorted(rng.uniform(0.0, 20.0, servers).tolist()))  # resumed: servers busy at first
    one, many = FifoSeats(servers, "desk", start), FifoSeats(servers, "desk", start)
    rows = [one.seat(a, x) for a, x in zip(at, d, strict=True)]
    started, finished = many.seat_all(at, d)
    assert started == [r[0] for r in rows] and finished == [r[1] for r in rows]
    assert many.state() == one.state()  # the servers end as free as after one by one
    assert many.seat(61.0, 1.0) == one.seat(61.0, 1.0)


def test_seating_nobody_changes_nothing():
    seats = FifoSeats(2)
    assert seats.seat_all([], []) == ([], []) and seats.state() == (0.0, 0.0)
