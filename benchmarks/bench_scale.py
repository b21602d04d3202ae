"""Scale must not change the answer: Kumamoto's headline KPIs at population scale 0.01-1.0.

Prints, per scenario, each KPI's mean and 95 % interval at every scale and its ratio to the
full city (scale 1.0, measured in the same run), and whether it agrees (mean inside the full
city's interval, or the full city's mean inside its own). Before per-facility loads were kept
(issue 14.4) the disaster's p95 check-in wait read 8 / 423 / 867 / 1,036 min at 0.01 / 0.05 /
0.2 / 1.0. `--quick`: the disaster only, 0.05 vs 1.0, 2 replications.
"""

from __future__ import annotations

import argparse
import time

from scenarios.defaults import STUDY_OVERRIDES
from scenarios.scale_check import scale_table

SCALES = (0.01, 0.05, 0.2, 1.0)


def _print(table) -> None:
    """The table, one line per KPI and scale."""
    print(f"   {'KPI':<24} {'scale':>6} {'mean [95% CI]':>32} {'/ full':>8}  agrees")
    for r in table.iter_rows(named=True):
        ci = f"{r['mean']:.4g} [{r['ci_low']:.4g}, {r['ci_high']:.4g}]"
        print(f"   {r['kpi']:<24} {r['scale']:>6g} {ci:>32} {r['ratio_to_reference']:>8.3f}  "
              f"{'yes' if r['agrees'] else 'NO'}")


def main(argv: list[str]) -> int:
    """Run every scenario at every scale (same seeds) and print the tables."""
    ap = argparse.ArgumentParser(prog="bench_scale")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--scenarios", nargs="+", default=["disaster", "certificates", "payments"])
    args = ap.parse_args(argv)
    scales, reps, names = SCALES, args.reps, args.scenarios
    if args.quick:
        scales, reps, names = (0.05, 1.0), 2, ["disaster"]
    for name in names:
        t = time.perf_counter()
        table = scale_table(name, scales, design="baseline", city="kumamoto", reps=reps, seed=1,
                            overrides=STUDY_OVERRIDES.get(name))
        print(f"-- {name} (kumamoto, baseline, seed 1, {reps} reps, the study's settings; "
              f"{time.perf_counter() - t:.0f} s)")
        _print(table)
    return 0
