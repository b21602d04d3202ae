"""Confidence intervals over replications and differences between designs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scenarios.stats import diff_ci, mean_ci
from scenarios.sweep import verdict


def test_the_mean_interval_uses_student_t():
    ci = mean_ci(np.array([1.0, 2.0, 3.0, 4.0]))
    half = 3.182446305284263 * np.std([1, 2, 3, 4], ddof=1) / 2  # t(0.975, 3)
    assert (ci.mean, ci.n) == (2.5, 4)
    assert ci.half_width == pytest.approx(half)
    assert ci.low == pytest.approx(2.5 - half) and ci.contains(2.5)


def test_one_replication_has_a_mean_but_no_interval_and_nans_are_ignored():
    ci = mean_ci(np.array([5.0, np.nan]))
    assert ci.mean == 5.0 and ci.n == 1 and math.isnan(ci.half_width)
    assert mean_ci(np.array([])).n == 0


def test_the_95_percent_interval_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(3)
    hits = sum(mean_ci(rng.normal(10.0, 2.0, 5)).contains(10.0) for _ in range(4000))
    assert 0.935 <= hits / 4000 <= 0.965


def test_paired_differences_cancel_the_common_noise():
    rng = np.random.default_rng(1)
    common = rng.normal(0, 10, 8)
    a, b = 100 + common, 103 + common + rng.normal(0, 0.1, 8)
    paired, welch = diff_ci(a, b, paired=True), diff_ci(a, b, paired=False)
    assert paired.mean == pytest.approx(welch.mean)
    assert paired.low > 0 and welch.low < 0 < welch.high


def test_paired_differences_need_equal_replications():
    with pytest.raises(ValueError, match="equal replications"):
        diff_ci(np.ones(3), np.ones(4), paired=True)


def test_welch_interval_of_identical_constant_samples_is_a_point():
    ci = diff_ci(np.full(3, 2.0), np.full(3, 2.0), paired=False)
    assert (ci.mean, ci.low, ci.high) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("better, low, high, said", [
    ("lower", -5, -1, "better"), ("lower", 1, 5, "worse"), ("higher", 1, 5, "better"),
    ("lower", -1, 1, "no clear difference"), ("", 1, 5, ""), ("lower", math.nan, math.nan,
                                                               "no clear difference"),
])
def test_the_verdict_reads_the_interval_in_the_kpis_direction(better, low, high, said):
    assert verdict(better, low, high) == said
