"""`run.py sensitivity`: which assumptions drive a scenario's answer (Morris, then Sobol)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cli import add_format, emit
from cli.scenario import SCENARIO_NAMES, add_run_options


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `sensitivity` subcommand."""
    p = sub.add_parser(
        "sensitivity",
        help="rank the assumptions a scenario's KPIs depend on (Morris, then Sobol)",
        description="Screen every assumption of a scenario that has a declared range "
        "(calibration/data/assumption_ranges.csv) with Morris elementary effects, then compute "
        "Sobol first-order and total indices for the --top factors (SALib). Every design point "
        "runs with the same seed (common random numbers). With --versus, the output is the "
        "difference of each KPI between the two designs: which assumptions decide which design "
        "is better. Runs are Ray tasks (or --sequential). Writes a ranked table per KPI, a "
        "tornado chart PNG, Parquet, JSON and a Markdown report into --out. Cost: "
        "designs x (trajectories x (factors + 1) + samples x (top + 2)) runs; the defaults make "
        "85 disaster runs (about 30 s at scale 0.01 on 2 cores) or 118 certificates runs "
        "(minutes: a certificates run costs about the same at any scale; use --set days=1 and "
        "--trajectories 2 for a quick look). See docs/sensitivity.md.",
    )
    p.add_argument("--scenario", required=True, choices=SCENARIO_NAMES, help="the scenario")
    p.add_argument("--design", default="baseline",
                   help="design name in designs/ or a TOML path (default: baseline)")
    p.add_argument("--versus", default=None, metavar="DESIGN",
                   help="analyse the difference DESIGN minus this reference design instead of "
                   "one design's KPIs (e.g. --design full --versus baseline)")
    add_run_options(p)
    p.add_argument("--trajectories", type=int, default=3,
                   help="Morris trajectories r (default: 3; runs: r x (factors + 1))")
    p.add_argument("--samples", type=int, default=8,
                   help="Sobol base sample N, rounded up to a power of 2 (default: 8; runs: "
                   "N x (top + 2)); 0 skips Sobol")
    p.add_argument("--top", type=int, default=3,
                   help="how many of the Morris-ranked factors get Sobol indices (default: 3)")
    p.add_argument("--params", nargs="+", default=None, metavar="NAME",
                   help="screen only these assumptions (default: every screened one; "
                   "fitted figures are named calibration:NAME, e.g. calibration:monday_factor)")
    p.add_argument("--kpis", nargs="+", default=None, metavar="KPI",
                   help="KPIs to print and chart (default: the scenario's headline KPIs); every "
                   "KPI is in the files")
    p.add_argument("--address", default=None,
                   help="Ray cluster address (e.g. 'auto'); default: start a local Ray")
    p.add_argument("--num-cpus", type=int, default=None,
                   help="CPUs for a local Ray (default: all); ignored with --address")
    p.add_argument("--sequential", action="store_true",
                   help="run the design points one after another in this process (no Ray)")
    p.add_argument("--out", type=Path, default=Path("results") / "sensitivity",
                   help="output folder (default: results/sensitivity)")
    add_format(p)
    p.set_defaults(func=run)


def progress_printer() -> object:
    """A progress callback printing runs done/total and elapsed seconds on stderr."""
    t0 = time.perf_counter()

    def show(done: int, total: int, label: str) -> None:
        print(f"  runs {done}/{total}, {time.perf_counter() - t0:.0f} s elapsed ({label})",
              file=sys.stderr, flush=True)

    return show


def run(args: argparse.Namespace) -> int:
    """Build the design(s), run the analysis, write the files and print the ranking."""
    from scenarios.params import parse_overrides
    from scenarios.registry import scenario as scenario_module
    from scenarios.sensitivity import analyse, bases_for, factors_for, run_count
    from scenarios.sensitivity_report import as_text, write
    from twin.errors import ValidationError

    designs = [args.versus, args.design] if args.versus else [args.design]
    bases, fixed = bases_for(args.scenario, designs, args.city, args.scale,
                             parse_overrides(args.overrides, args.scenario), args.engine)
    if args.kpis:
        known = [k.name for k in scenario_module(args.scenario).KPIS]
        bad = sorted(set(args.kpis) - set(known))
        if bad:
            raise ValidationError(f"unknown KPI(s) {bad} of {args.scenario}; KPIs: {', '.join(known)}")
    factors, _ = factors_for(bases[0], fixed, args.params)
    total = run_count(len(factors), args.trajectories, args.samples, args.top, len(designs))
    print(f"sensitivity {args.scenario}: {len(factors)} assumptions, about {total} runs"
          + ("" if args.sequential else " as Ray tasks"), file=sys.stderr, flush=True)
    started, sequential = False, args.sequential
    if not sequential:
        from scenarios.sweep import start_ray

        try:
            from cli._quiet import default_log, ray_lines_to

            with ray_lines_to(default_log("sensitivity")):  # Ray's start-up notices: a log, not the terminal
                started = start_ray(args.address, args.num_cpus)
        except Exception as exc:  # noqa: BLE001 - any start-up failure: run here instead
            if args.address:
                raise
            print(f"Ray did not start ({type(exc).__name__}: {exc}); running sequentially",
                  file=sys.stderr, flush=True)
            sequential = True
    try:
        result = analyse(bases, args.trajectories, args.samples, args.top, args.seed, args.params,
                         "local" if sequential else "ray", progress_printer(), fixed)
    finally:
        if started:
            import ray

            ray.shutdown()
    paths = write(result, args.out)
    print(f"done in {result.wall_seconds:.1f} s; wrote {len(paths)} files to {args.out}",
          file=sys.stderr)
    data = result.to_dict() | {"files": [str(p) for p in paths]}
    emit(data, args.format, as_text(result, args.kpis))
    return 0
