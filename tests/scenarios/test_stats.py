"""Intervals over replications: inside each quantity's range, honest coverage, verdicts by kind."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from scenarios.erlang import mmc
from scenarios.results import KINDS, KPI
from scenarios.stats import (
    Interval,
    diff_ci,
    difference_bounds,
    mean_ci,
    relative_half_width,
    verdict,
)

BOUNDS = [KPI("x", "u", "d", kind=k).bounds for k in KINDS] + [(-3.0, 7.5), (10.0, math.inf)]


@hs.composite
def samples(draw, size: int | None = None):
    """Bounds of some kind and replications inside them, with NaNs, ties and values on a bound."""
    lo, hi = draw(hs.sampled_from(BOUNDS))
    top = hi if math.isfinite(hi) else (lo if math.isfinite(lo) else 0.0) + 1e9
    bottom = lo if math.isfinite(lo) else -1e9
    value = hs.one_of(hs.floats(bottom, top), hs.sampled_from([bottom, top]), hs.just(math.nan))
    n = size if size is not None else draw(hs.integers(0, 12))
    return (lo, hi), np.array(draw(hs.lists(value, min_size=n, max_size=n)), dtype=np.float64)


def _inside(ci: Interval, lo: float, hi: float) -> bool:
    """The interval exists and lies in [lo, hi] around its mean."""
    return lo <= ci.low <= ci.mean <= ci.high <= hi


@settings(max_examples=300, deadline=None)
@given(samples())
def test_no_mean_interval_of_any_kind_leaves_its_quantitys_range(case):
    (lo, hi), x = case
    ci = mean_ci(x, (lo, hi))
    finite = int(np.isfinite(x).sum())
    assert ci.n == finite
    if finite < 2:
        assert not ci.defined and ci.needs == 2
    else:
        assert _inside(ci, lo, hi), ci


@settings(max_examples=300, deadline=None)
@given(hs.integers(0, 10).flatmap(lambda n: hs.tuples(samples(n), samples(n))),
       hs.booleans())
def test_no_difference_interval_leaves_the_range_of_a_difference(pair, paired):
    ((lo, hi), a), (_, b) = pair
    b = np.clip(b, lo, hi)  # both designs measure the same quantity
    dlo, dhi = difference_bounds((lo, hi))
    ci = diff_ci(a, b, paired, (lo, hi))
    if ci.defined:
        assert _inside(ci, dlo, dhi), ci
    else:
        assert ci.needs == 2 and verdict("lower", ci) == "needs ≥ 2 replications"


def test_shares_near_one_and_waits_near_zero_keep_their_intervals_in_range():
    share = mean_ci(np.array([0.99, 1.0, 0.97]), (0.0, 1.0))
    wait = mean_ci(np.array([0.0, 0.1, 4.6]), (0.0, math.inf))
    assert 0.0 < share.low < share.mean < share.high < 1.0
    assert 0.0 < wait.low < wait.mean < wait.high
    t = mean_ci(np.array([-1.0, 1.0, 3.0]))  # a signed quantity keeps Student's t
    assert t.half_width == pytest.approx(4.302652729911275 * 2 / math.sqrt(3))


def test_degenerate_replications_give_points_or_say_what_is_missing():
    assert mean_ci(np.full(4, 0.3), (0, 1)) == Interval(0.3, 0.3, 0.3, 4)
    assert mean_ci(np.zeros(3), (0, math.inf)) == Interval(0.0, 0.0, 0.0, 3)
    one = mean_ci(np.array([5.0, np.nan, np.inf]), (0, math.inf))
    assert one.mean == 5.0 and one.n == 1 and one.needs == 2 and not one.defined
    assert mean_ci(np.array([np.nan, np.nan])).needs == 2
    assert diff_ci(np.full(3, 2.0), np.full(3, 2.0), False) == Interval(0.0, 0.0, 0.0, 3)
    assert relative_half_width(Interval(0.0, 0.0, 0.0, 3)) == 0.0
    assert math.isnan(relative_half_width(one))


def test_welch_degrees_of_freedom_survive_variances_that_underflow():
    ci = diff_ci(np.zeros(2), np.array([0.0, 1.0e-156]), False, (0.0, 1.0))
    assert ci.defined and -1.0 <= ci.low <= ci.mean <= ci.high <= 1.0


def test_values_outside_the_declared_range_are_refused_by_range():
    with pytest.raises(ValueError, match=r"leave the declared range \[0.0, 1.0\]"):
        mean_ci(np.array([0.5, 1.2]), (0.0, 1.0))


def test_paired_differences_cancel_the_common_noise():
    rng = np.random.default_rng(1)
    common = rng.normal(0, 10, 8)
    a, b = 100 + common, 103 + common + rng.normal(0, 0.1, 8)
    paired, welch = diff_ci(a, b, True, (0, math.inf)), diff_ci(a, b, False, (0, math.inf))
    assert paired.mean == pytest.approx(welch.mean)
    assert paired.low > 0 and welch.low < 0 < welch.high
    with pytest.raises(ValueError, match="equal replications"):
        diff_ci(np.ones(3), np.ones(4), paired=True)


def test_a_mean_near_zero_is_judged_against_the_kpis_floor():
    ci = Interval(0.01, 0.0, 0.03, 5)
    assert relative_half_width(ci) == pytest.approx(1.5)
    assert relative_half_width(ci, floor=1.0) == pytest.approx(0.015)


@pytest.mark.parametrize("better, low, high, said", [
    ("lower", -5, -1, "better"), ("lower", 1, 5, "worse"), ("higher", 1, 5, "better"),
    ("higher", -5, -1, "worse"), ("lower", -1, 1, "no clear difference"), ("", 1, 5, ""),
    ("lower", 0, 0, "no clear difference"),
])
def test_the_verdict_reads_the_interval_in_the_kpis_direction(better, low, high, said):
    assert verdict(better, Interval((low + high) / 2, low, high, 5)) == said
    assert verdict(better, Interval(1.0, math.nan, math.nan, 1, 2)) == (
        "needs ≥ 2 replications" if better else "")


def _mm2_replications(rng: np.random.Generator, chains: int, customers: int, warmup: int,
                      arrival_rate: float, service_mean: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean wait and share who waited in FIFO M/M/2, `chains` runs at once (Kiefer-Wolfowitz).

    The sorted workload vector (a <= b) of the two servers: an arrival waits a, adds its service
    to the server it takes, and both workloads drain by the next gap. The first `warmup`
    customers are discarded so the mean is the steady-state one.
    """
    a, b = np.zeros(chains), np.zeros(chains)
    total, waited = np.zeros(chains), np.zeros(chains)
    gaps = rng.exponential(1 / arrival_rate, (warmup + customers, chains))
    services = rng.exponential(service_mean, (warmup + customers, chains))
    for k in range(warmup + customers):
        if k >= warmup:
            total += a
            waited += a > 0
        a = np.maximum(a + services[k] - gaps[k], 0.0)
        b = np.maximum(b - gaps[k], 0.0)
        a, b = np.minimum(a, b), np.maximum(a, b)
    return total / customers, waited / customers


def test_the_95_percent_interval_covers_erlang_c_in_93_to_97_percent_of_400_studies():
    studies, reps = 400, 10
    q = mmc(1.4, 1.0, 2)  # utilisation 0.7
    wait, share = _mm2_replications(np.random.default_rng(0), studies * reps, 4000, 400, 1.4, 1.0)
    covered = {
        "mean wait (log scale)": np.mean([mean_ci(x, (0, math.inf)).contains(q.mean_wait)
                                          for x in wait.reshape(studies, reps)]),
        "share who waited (logit scale)": np.mean([mean_ci(x, (0, 1)).contains(q.p_wait)
                                                   for x in share.reshape(studies, reps)]),
    }
    for name, c in covered.items():
        assert 0.93 <= c <= 0.97, f"{name}: the 95 % interval covered Erlang C in {c:.1%}"
