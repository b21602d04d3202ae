"""Common random numbers, measured: paired against independent variance of design differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scenarios.crn import measure, summary, variance_ratios
from scenarios.results import ScenarioResult
from scenarios.runner import make_params
from scenarios.sweep import SweepResult
from tests.scenarios.test_precision import TINY


def _sweep(values: dict[str, np.ndarray], paired: bool) -> SweepResult:
    """A two-design sweep whose throughput per (design, rep) is given."""
    results = tuple((d, r, ScenarioResult("payments", {"design": name}, {},
                                          {"throughput_per_s": float(v)}))
                    for d, name in enumerate(values) for r, v in enumerate(values[name]))
    reps = len(next(iter(values.values())))
    return SweepResult("payments", tuple(values), reps, 0, paired, results)


def test_the_ratio_is_the_variance_of_paired_differences_over_independent_ones():
    rng = np.random.default_rng(4)
    common = rng.normal(100, 10, 6)
    paired = _sweep({"baseline": common, "full": common + 5 + rng.normal(0, 1, 6)}, True)
    apart = _sweep({"baseline": rng.normal(100, 10, 6), "full": rng.normal(105, 10, 6)}, False)
    (row,) = variance_ratios(paired, apart, ["throughput_per_s"])
    dp = paired.values(1, "throughput_per_s") - paired.values(0, "throughput_per_s")
    di = apart.values(1, "throughput_per_s") - apart.values(0, "throughput_per_s")
    assert row["var_paired"] == pytest.approx(dp.var(ddof=1))
    assert row["ratio"] == pytest.approx(dp.var(ddof=1) / di.var(ddof=1)) and row["ratio"] < 0.05
    assert row["reps"] == 6 and (row["design"], row["versus"]) == ("full", "baseline")


def test_kpis_that_never_vary_have_no_ratio_and_the_summary_says_n_a():
    flat = _sweep({"baseline": np.zeros(3), "full": np.zeros(3)}, True)
    (row,) = variance_ratios(flat, flat, ["throughput_per_s"])
    assert math.isnan(row["ratio"])
    assert "throughput_per_s n/a (0 of 1 at or below the aim of 0.5)" in summary([row])


def test_measuring_runs_the_designs_both_ways_for_every_headline_kpi():
    params = [make_params("payments", d, overrides=TINY) for d in ("baseline", "full")]
    rows = measure([("payments", params)], reps=3, seed=2, executor="local")
    assert [r["kpi"] for r in rows] == ["throughput_per_s", "latency_p99_ms", "lost",
                                        "duplicated"]
    assert all(r["reps"] == 3 for r in rows)
    assert "Common random numbers, measured over 3 replications per way" in summary(rows)
