"""The fast disaster engine's event loop against SimPy's order of calls, ties in time included."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import simpy

from scenarios.fast.loop import Loop


def schedule(seed: int) -> tuple[list[float], list[tuple[float, int]], dict[int, list[float]]]:
    """A hostile schedule: integer times (many ties), calls that schedule others, zero delays.

    Returns the fed arrival times, the first calls (time, label) and, per label, the delays of
    the calls it schedules when it runs (its children are labelled 10 * label + k)."""
    rng = np.random.default_rng(seed)
    feed = np.sort(rng.integers(0, 20, 30)).astype(float).tolist()
    first = [(float(t), k) for k, t in enumerate(rng.integers(0, 20, 15).tolist(), start=1)]
    children = {k: rng.integers(0, 4, rng.integers(0, 3)).astype(float).tolist()
                for k in range(1, 10_000)}
    return feed, first, children


def on_loop(feed, first, children, until: float, width: float = 60.0) -> list[tuple[float, int]]:
    """The order the fast loop runs the calls in: (time, label) per call (calendar buckets of `width`)."""
    loop, seen = Loop(width), []

    def call(label: int) -> None:
        seen.append((loop.now, label))
        for k, d in enumerate(children.get(label, []), start=1):
            if 10 * label + k < 10_000:
                loop.at(loop.now + d, call, 10 * label + k)

    for t, label in first:
        loop.at(t, call, label)
    loop.feed(feed, lambda i: seen.append((loop.now, -i - 1)))
    loop.run(until)
    return seen


def on_simpy(feed, first, children, until: float) -> list[tuple[float, int]]:
    """The same calls as SimPy runs them (timeouts with callbacks; arrivals from a source)."""
    env, seen = simpy.Environment(), []

    def later(delay: float, label: int) -> None:
        env.timeout(delay).callbacks.append(lambda _e: call(label))

    def call(label: int) -> None:
        seen.append((env.now, label))
        for k, d in enumerate(children.get(label, []), start=1):
            if 10 * label + k < 10_000:
                later(d, 10 * label + k)

    def source():
        for i, at in enumerate(feed):
            yield env.timeout(at - env.now)
            seen.append((env.now, -i - 1))

    for t, label in first:
        later(t, label)
    env.process(source())
    env.run(until=until)
    return seen


WIDTHS = (0.7, 3.0, 60.0)  # calendar buckets: many (calls cross them), a few, one for the whole run


def _calls(loop: Loop, out: list, children: dict) -> Callable[[int], None]:
    """A call that notes (now, label) and schedules its children on `loop` at whole delays."""
    def call(label: int) -> None:
        out.append((loop.now, label))
        for k, d in enumerate(children.get(label % 1000, []), start=1):
            if label < 10**6:
                loop.at(loop.now + d, call, 10 * label + k)
    return call


def _fed_one_by_one(feed: list[float], delay: list[int], children: dict, width: float) -> tuple[list, int]:
    """The loop's calls (now, label) to 25.0, with fed arrivals one at a time that each schedule a call
    0.25 + delay later; and the loop's event count."""
    loop, seen = Loop(width), []
    call = _calls(loop, seen, children)

    def arrival(i: int) -> None:
        seen.append((loop.now, -i - 1))
        loop.at(loop.now + (0.25 + delay[i]), call, 1000 + i)

    loop.feed(feed, arrival)
    loop.run(25.0)
    return seen, loop.events


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("seed", range(8))
def test_calls_at_equal_times_run_in_simpys_order(seed, width):
    _feed, first, children = schedule(seed)
    fast = on_loop([], first, children, 25.0, width)
    assert len(fast) > 40 and len({t for t, _ in fast}) < len(fast)  # ties happened
    assert fast == on_simpy([], first, children, 25.0)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("seed", range(4))
def test_fed_arrivals_run_in_simpys_order_when_no_call_ties_with_them(seed, width):
    feed, first, children = schedule(seed)
    feed = [t + 0.5 for t in feed]  # arrivals tie with each other, never with a call
    fast = on_loop(feed, first, children, 25.0, width)
    assert len({t for t, label in fast if label < 0}) < len(feed)
    assert fast == on_simpy(feed, first, children, 25.0)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("seed", range(4))
def test_calls_that_fed_arrivals_schedule_run_in_simpys_order(seed, width):
    # arrivals at x.5 schedule calls at x.75 + k; those calls schedule others at whole delays:
    # calls tie with calls (SimPy's order by scheduling), never with an arrival
    feed, _first, children = schedule(seed)
    feed = [t + 0.5 for t in feed]
    delay = np.random.default_rng(seed).integers(0, 4, len(feed)).tolist()

    fast, _events = _fed_one_by_one(feed, delay, children, width)
    env, ref = simpy.Environment(), []

    def ref_call(label: int) -> None:
        ref.append((env.now, label))
        for k, d in enumerate(children.get(label % 1000, []), start=1):
            if label < 10**6:
                env.timeout(d).callbacks.append(lambda _e, x=10 * label + k: ref_call(x))

    def source():
        for i, at in enumerate(feed):
            yield env.timeout(at - env.now)
            ref.append((env.now, -i - 1))
            env.timeout(0.25 + delay[i]).callbacks.append(lambda _e, x=1000 + i: ref_call(x))

    env.process(source())
    env.run(until=25.0)
    assert len(fast) > 60 and fast == ref


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("seed", range(4))
def test_fed_calls_handed_over_in_runs_run_in_the_order_of_single_fed_calls(seed, width):
    # as above, but the loop hands the fed arrivals over in runs: a run makes the arrivals before
    # the bound and before any call an arrival of the run scheduled
    feed, _first, children = schedule(seed)
    feed = [t + 0.5 for t in feed]
    delay = np.random.default_rng(seed).integers(0, 4, len(feed)).tolist()
    loop, fast, runs = Loop(width), [], []
    fast_call = _calls(loop, fast, children)

    def fast_run(i: int, bound: float) -> int:
        j = i
        while j < len(feed) and feed[j] < bound:
            loop.now = feed[j]
            fast.append((loop.now, -j - 1))
            due = loop.now + (0.25 + delay[j])
            loop.at(due, fast_call, 1000 + j)
            bound = min(bound, due)
            j += 1
        runs.append(j - i)
        return j

    loop.feed_runs(feed, fast_run)
    loop.run(25.0)
    seen, events = _fed_one_by_one(feed, delay, children, width)
    assert max(runs) > 1 and sum(runs) == len([t for t in feed if t < 25.0])  # runs of several
    assert fast == seen and loop.events == events


def test_a_call_an_arrival_makes_for_before_the_next_bucket_runs_in_time_order():
    loop, seen = Loop(1.0), []
    loop.at(0.2, seen.append, "a")
    loop.at(0.4, seen.append, "b")
    loop.at(5.5, seen.append, "c")  # the next bucket with calls: reached while the feed is at 3.0
    loop.feed([3.0], lambda i: (seen.append("arrival"), loop.at(4.0, seen.append, "d")))
    loop.run(10.0)
    assert seen == ["a", "b", "arrival", "d", "c"]


def test_calls_due_at_an_arrivals_time_run_before_it():
    # the loop's rule at a tie between a call and a fed arrival; SimPy runs a call scheduled
    # after the previous arrival behind it instead, so the disaster model relies on its clocks
    # never putting a call and an arrival at one instant (continuous times; see docs/scenarios.md)
    loop, seen = Loop(), []
    loop.feed([1.0, 2.0, 2.0], lambda i: seen.append(f"arrival{i}"))
    loop.at(2.0, seen.append, "call")
    loop.run(5.0)
    assert seen == ["arrival0", "call", "arrival1", "arrival2"]


def test_a_call_made_for_the_current_time_runs_after_the_calls_already_due_then():
    loop, seen = Loop(), []
    loop.at(5.0, seen.append, "a")
    loop.at(1.0, lambda: (seen.append("c"), loop.at(1.0, seen.append, "d"),
                          loop.at(5.0, seen.append, "e")))
    loop.at(5.0, seen.append, "b")
    loop.run(10.0)
    assert seen == ["c", "d", "a", "b", "e"] and loop.events == 5 and loop.now == 10.0


def test_a_calendar_bucket_must_be_a_positive_time():
    with pytest.raises(ValueError, match="positive"):
        Loop(0.0)


def test_calls_at_or_after_the_end_do_not_run():
    loop, seen = Loop(), []
    loop.at(3.0, seen.append, 3)
    loop.at(2.0, seen.append, 2)
    loop.feed([1.0, 3.0], seen.append)
    loop.run(3.0)
    assert seen == [0, 2] and loop.now == 3.0


def test_a_finished_run_leaves_no_cycle_behind():
    """The loop drops its calls at the end: the model is freed at once, not by the cycle collector."""
    import gc
    import weakref

    from scenarios.disaster import Params, simulate

    gc.disable()
    try:
        m, _rows, _stats = simulate(Params(scale=0.01, horizon_h=6.0, engine="fast"), np.random.default_rng(1))
        ref = weakref.ref(m)
        del m
        assert ref() is None
    finally:
        gc.enable()
