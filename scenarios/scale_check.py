"""Does the scale change the answer? Headline KPIs of one scenario at several population scales.

Each scale runs the same replications (same seed, so the same random streams) and is compared
with the largest scale run (the reference, normally 1.0): a scale agrees on a KPI when its mean
lies inside the reference's 95 % interval or the reference mean inside its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from scenarios.stats import mean_ci
from twin.presets import DEFAULT_CITY

# The KPIs a reduced-scale run must reproduce (what drives the queues a planner sizes).
SCALE_KPIS: dict[str, tuple[str, ...]] = {
    "disaster": ("checkin_wait_p50_min", "checkin_wait_p95_min", "registered_share"),
    "certificates": ("counter_wait_p50_min", "counter_wait_p95_min", "kiosk_share"),
    "payments": ("payments_per_s", "latency_p50_ms", "latency_p99_ms"),
}


def scale_table(scenario: str, scales: Sequence[float], *, design: str = "baseline",
                city: str = DEFAULT_CITY, reps: int = 3, seed: int = 1,
                overrides: Mapping[str, Any] | None = None, executor: str = "local",
                kpis: Sequence[str] | None = None) -> pl.DataFrame:
    """One row per (KPI, scale): mean, 95 % interval, ratio to the reference and agreement."""
    from scenarios.runner import make_params
    from scenarios.sweep import run_sweep

    names = tuple(kpis or SCALE_KPIS[scenario])
    ordered = sorted({float(s) for s in scales})
    values: dict[float, dict[str, Any]] = {}
    for s in ordered:
        params = make_params(scenario, design, city, s, dict(overrides or {}))
        sweep = run_sweep(scenario, [params], reps, seed, executor=executor)
        values[s] = {k: sweep.values(0, k) for k in names}
    ref_scale = ordered[-1]
    rows = []
    for k in names:
        ref = mean_ci(values[ref_scale][k])
        for s in ordered:
            ci = mean_ci(values[s][k])
            agrees = ref.contains(ci.mean) or ci.contains(ref.mean) or ci.mean == ref.mean
            ratio = ci.mean / ref.mean if ref.mean else (1.0 if ci.mean == 0 else math.inf)
            rows.append({"scenario": scenario, "kpi": k, "scale": s, "mean": ci.mean,
                         "ci_low": ci.low, "ci_high": ci.high, "reps": ci.n,
                         "ratio_to_reference": ratio, "agrees": bool(agrees)})
    return pl.DataFrame(rows)
