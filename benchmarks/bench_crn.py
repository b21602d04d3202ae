"""Common random numbers, measured on the default study's designs and scenarios.

Runs baseline vs full (the study's designs, with the study's per-scenario settings) twice: with
common random numbers (replication r of both designs on seed stream r) and with independent
streams, as Ray tasks. Prints, per headline KPI, the variance of the design difference both
ways and their ratio (the baseline is the independent-stream variance measured in the same run;
aim: ratio <= 0.5).
"""

from __future__ import annotations

import argparse
import math
import sys


def main(argv: list[str]) -> int:
    """Measure and print the variance ratios."""
    ap = argparse.ArgumentParser(prog="bench_crn")
    ap.add_argument("--quick", action="store_true",
                    help="scale 0.01, 3 replications, one certificate-peak day")
    ap.add_argument("--scale", type=float, default=None, help="population scale (default 0.02)")
    ap.add_argument("--reps", type=int, default=None, help="replications per way (default 8)")
    ap.add_argument("--scenarios", nargs="+", default=["disaster", "certificates", "payments"])
    ap.add_argument("--sequential", action="store_true", help="run in this process (no Ray)")
    args = ap.parse_args(argv)
    scale = args.scale or (0.01 if args.quick else 0.02)
    reps = args.reps or (3 if args.quick else 8)
    from cli.study import STUDY_OVERRIDES
    from scenarios.crn import AIM, measure
    from scenarios.runner import make_params
    from scenarios.sweep import start_ray

    overrides = {k: dict(v) for k, v in STUDY_OVERRIDES.items()}
    if args.quick:
        overrides["certificates"]["days"] = 1
    specs = [(s, [make_params(s, d, scale=scale, overrides=overrides.get(s))
                  for d in ("baseline", "full")]) for s in args.scenarios]
    started = False if args.sequential else start_ray()
    try:
        rows = measure(specs, reps, seed=0, executor="local" if args.sequential else "ray",
                       progress=lambda done, total, _: print(f"   {done}/{total}", end="\r",
                                                             file=sys.stderr, flush=True))
    finally:
        if started:
            import ray

            ray.shutdown()
    print(f"   scale {scale}, {reps} replications per design and way, full − baseline")
    print(f"   {'scenario':<13}{'KPI':<30}{'var paired':>14}{'var independent':>17}{'ratio':>8}")
    for r in rows:
        ratio = r["ratio"]
        mark = "" if not math.isfinite(ratio) else (" ok" if ratio <= AIM else " above aim")
        print(f"   {r['scenario']:<13}{r['kpi']:<30}{r['var_paired']:>14.4g}"
              f"{r['var_independent']:>17.4g}{ratio:>8.2f}{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
