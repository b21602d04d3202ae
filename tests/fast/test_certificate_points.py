"""FastPoint on FastEnv seats customers as ServicePoint on SimPy does: same starts, finishes,
waits, reneges and the same line length seen by each newcomer (the balking and walk-on rules).

Exact ties between a hand-over and a newcomer or a customer's patience (whole-number times) are
ordered by SimPy by when their events were scheduled; the fast engine hands over first (the
kernel's rule). Seats without patience agree even then; with continuous times, as the scenario
draws them, such ties do not occur."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from scenarios.fast.certificates_engine import FastEnv, FastPoint
from scenarios.queueing import ServicePoint


def run(env, point, arrivals, services, patience=None, opens_at=None):
    """Each customer arrives, waits for the opening if closed, notes the line, then is served."""
    seen, waits = {}, {}

    def customer(i):
        yield env.timeout(arrivals[i])
        if opens_at is not None and env.now < opens_at:
            yield env.timeout(opens_at - env.now)
        seen[i] = point.queue_length
        if patience is None:
            waits[i] = yield from point.serve(i, services[i])
        else:
            waits[i] = yield from point.serve_or_renege(i, services[i], patience[i])

    for i in range(len(arrivals)):
        env.process(customer(i))
    env.run()
    return sorted(point.records), seen, waits


def both(servers, arrivals, services, **kw):
    env = simpy.Environment()
    ref = run(env, ServicePoint(env, servers, "ref"), arrivals, services, **kw)
    fenv = FastEnv()
    return ref, run(fenv, FastPoint(fenv, servers, "fast"), arrivals, services, **kw)


@pytest.mark.parametrize("servers", [1, 3])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_poisson_customers_with_patience_are_seated_and_see_the_same_line(servers, seed):
    rng = np.random.default_rng(seed)
    a = np.cumsum(rng.exponential(1.0, 400)).tolist()
    s = rng.exponential(servers * 1.1, 400).tolist()
    pat = rng.exponential(5.0, 400).tolist()
    ref, fast = both(servers, a, s, patience=pat)
    assert fast == ref
    assert sum(1 for r in ref[0] if r[2] == -1.0) > 10 and max(ref[1].values()) >= 3


def test_customers_waiting_for_the_opening_all_start_in_their_order():
    rng = np.random.default_rng(4)
    a = np.sort(rng.uniform(0, 50, 30)).tolist()
    ref, fast = both(2, a, rng.exponential(3.0, 30).tolist(), opens_at=100.0)
    assert fast == ref
    assert min(r[1] for r in ref[0]) == 100.0  # closed at every arrival


def test_zero_customers_and_a_single_server_with_whole_number_times():
    assert both(1, [], []) == ((([]), {}, {}), ([], {}, {}))
    ref, fast = both(1, [0.0, 0.0, 1.0, 2.0, 2.0], [2.0, 1.0, 1.0, 3.0, 0.0])
    assert fast[0] == ref[0] and fast[2] == ref[2]  # ties in arrivals and finishes: same seats


def test_start_and_finish_agree_to_a_nanosecond_on_long_runs():
    rng = np.random.default_rng(5)
    a = (1.7e9 % 86400 + np.cumsum(rng.exponential(60.0, 3000))).tolist()
    s = rng.lognormal(np.log(170.0), 0.5, 3000).tolist()
    (ref, _, _), (fast, _, _) = both(3, a, s)
    assert np.max(np.abs(np.array(ref) - np.array(fast))) <= 1e-9
