"""`run.py study` (and `run.py` with no arguments): the default study, the README's main command.

The three scenarios for one city on the baseline and the full design, a handful of replications
each, run as Ray tasks; prints the KPI comparison and writes results/ (report.md, PNG plots,
Parquet data).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cli import add_format, emit
from cli.scenario import add_engine_option, add_precision_options, progress
from scenarios.defaults import (  # one place for the study's and the dashboard's defaults
    SCREEN_SCALE,
    STUDY_CITY,
    STUDY_DESIGNS,
    STUDY_OVERRIDES,
    STUDY_REPS,
    STUDY_SCALE,
    STUDY_SCENARIOS,
    STUDY_SEED,
)

DEFAULT_SCALE = STUDY_SCALE
DEFAULT_REPS = STUDY_REPS
__all__ = ["DEFAULT_REPS", "DEFAULT_SCALE", "STUDY_OVERRIDES", "register", "run"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `study` subcommand."""
    p = sub.add_parser(
        "study",
        help="run the default study (the README's main command; `run.py` alone runs it)",
        description="Run the three scenarios (disaster check-in, peak certificate demand, payment "
        "throughput) for a city on two or more designs, with replications as parallel Ray tasks, "
        "print the KPI comparison (means, 95 % confidence intervals, differences against the "
        "first design) and write a Markdown report, PNG plots and Parquet data. Defaults: "
        f"{STUDY_CITY}, {' vs '.join(STUDY_DESIGNS)}, {DEFAULT_REPS} replications, population scale "
        f"{DEFAULT_SCALE} (a few minutes on 2 cores).",
    )
    p.add_argument("--city", default=STUDY_CITY, help=f"city preset (default: {STUDY_CITY})")
    p.add_argument("--designs", nargs="+", default=list(STUDY_DESIGNS), metavar="DESIGN",
                   help="designs to compare, the first is the reference (default: "
                   f"{' '.join(STUDY_DESIGNS)})")
    p.add_argument("--scenarios", nargs="+", default=list(STUDY_SCENARIOS),
                   choices=["disaster", "certificates", "payments"], metavar="NAME",
                   help="scenarios to run (default: all three)")
    p.add_argument("--reps", type=int, default=DEFAULT_REPS,
                   help=f"replications per design (default: {DEFAULT_REPS})")
    p.add_argument("--scale", type=float, default=DEFAULT_SCALE,
                   help=f"share of the population to build, (0, 1] (default: {DEFAULT_SCALE})")
    p.add_argument("--seed", type=int, default=STUDY_SEED,
                   help=f"root random seed (default: {STUDY_SEED})")
    add_precision_options(p, kpis=False)
    p.add_argument("--crn-check", action="store_true",
                   help="also run every design with independent seed streams and report, per "
                   "headline KPI, the variance of paired differences over that of independent "
                   "ones (how much common random numbers sharpen the comparison; doubles the runs)")
    p.add_argument("--out", type=Path, default=Path("results"),
                   help="output folder (default: results)")
    p.add_argument("--sequential", action="store_true",
                   help="run in this process, one replication after another (no Ray)")
    p.add_argument("--address", default=None, help="run on this Ray cluster instead of locally")
    p.add_argument("--no-depends", dest="depends", action="store_false",
                   help="skip the closing 'What this answer depends on' screen (a 2-trajectory "
                   "Morris screen of the design differences; about a minute on 2 cores)")
    add_engine_option(p)
    add_format(p)
    p.set_defaults(func=run)


def _say(text: str) -> None:
    """One line of progress on stderr."""
    print(text, file=sys.stderr, flush=True)


def _plan(args: argparse.Namespace) -> list[tuple[str, list]]:
    """Each scenario's parameters for every design."""
    from scenarios.runner import make_params

    return [(name, [make_params(name, d, args.city, args.scale, STUDY_OVERRIDES.get(name),
                                engine=args.engine, strict_engine=False)
                    for d in args.designs]) for name in args.scenarios]


def _preamble(args: argparse.Namespace, specs: list, wall: float | None = None) -> list[str]:
    """The study's setting, in sentences."""
    from scenarios.cities import city_for
    from scenarios.scaling import scale_line

    city = city_for(args.city, 0, args.scale)
    lines = [scale_line(args.scale)] if args.scale < 1 else []
    lines += [f"City **{args.city}** ({city.preset.name_ja}) at population scale {args.scale}: "
             f"{city.residents.height:,} synthetic residents of {city.preset.population:,} "
             f"({args.scale:.0%}). Designs: {', '.join(args.designs)} (the first is the "
             f"reference). {_reps_text(args)}, root seed {args.seed}, common random numbers across "
             "designs.",
             "Certificate demand is simulated at the city's full rate whatever the scale (queues "
             "at ward counters need the real load); in the disaster, each shelter's places and "
             "staff scale with the residents it serves, so loads per desk are the whole city's "
             "(docs/scenarios.md, 'Scale').",]
    changed = {k: v for k, v in STUDY_OVERRIDES.items() if v and k in args.scenarios}
    if changed:
        lines.append("Study settings: " + "; ".join(
            f"{k}: " + ", ".join(f"{a}={b}" for a, b in v.items()) for k, v in changed.items()))
    if wall is not None:
        lines.append(f"Ran in {wall:.0f} s.")
    return lines


def _crn(args: argparse.Namespace, specs: list, sweeps: list, executor: str) -> list[dict]:
    """The designs again with independent streams: the variance ratios of the differences."""
    from scenarios.crn import measure

    _say("measuring common random numbers: the same replications with independent streams")
    return measure(specs, args.reps, args.seed, executor, progress, paired=sweeps)


def _reps_text(args: argparse.Namespace) -> str:
    """How many replications the study runs, in words."""
    if args.precision is None:
        return f"{args.reps} replications each"
    return (f"Replications in rounds from {args.reps} until every headline KPI's 95 % interval "
            f"is within ±{args.precision:.0%} of its mean (at most {args.max_reps}; per scenario "
            "below)")


def _depends(args: argparse.Namespace, executor: str) -> list:
    """The 'What this answer depends on' screens (empty with --no-depends or one design)."""
    from scenarios.sensitivity_study import screen

    if not args.depends or len(args.designs) < 2:
        return []
    _say(f"screening the assumptions behind {args.designs[-1]} − {args.designs[0]} ...")
    return screen(args.scenarios, args.designs, args.city, min(args.scale, SCREEN_SCALE), args.seed,
                  STUDY_OVERRIDES, executor, progress, engine=args.engine)


def run(args: argparse.Namespace) -> int:
    """Run every scenario's replications, print the comparison and write results/."""
    from scenarios.report import comparison_text, write_results
    from scenarios.sensitivity_study import as_json, markdown_section, text_section
    from scenarios.sweep import run_sweeps, start_ray

    t = time.perf_counter()
    if args.precision is not None:
        from scenarios.precision import check_target

        check_target(args.precision, args.max_reps, args.reps)
    specs = _plan(args)
    for line in _preamble(args, specs):
        _say(line.replace("**", ""))
    total = len(args.designs) * args.reps * len(specs)
    started, sequential = False, args.sequential
    if not sequential:
        _say("starting Ray" + (f" on {args.address}" if args.address else " locally") + " ...")
        try:
            from cli._quiet import default_log, ray_lines_to

            with ray_lines_to(default_log("study")):  # Ray's start-up notices: a log, not the terminal
                started = start_ray(args.address)
        except Exception as exc:  # noqa: BLE001 - any start-up failure: run here instead
            if args.address:
                raise
            _say(f"Ray did not start ({type(exc).__name__}: {exc}); running sequentially")
            sequential = True
    executor = "local" if sequential else "ray"
    try:
        if args.precision is not None:
            from scenarios.precision import run_until_precise

            _say(f"rounds from {args.reps} replications until every headline KPI is within "
                 f"±{args.precision:.1%} (cap {args.max_reps})")
            sweeps = run_until_precise(specs, args.precision, args.max_reps, args.reps,
                                       args.seed, executor, progress, say=_say)
        else:
            _say(f"running {total} replications ({len(specs)} scenarios x {len(args.designs)} "
                 f"designs x {args.reps})")
            sweeps = run_sweeps(specs, args.reps, args.seed, executor=executor,
                                progress=progress)
        _say(f"replications done at {time.perf_counter() - t:.0f} s")
        crn = _crn(args, specs, sweeps, executor) if args.crn_check else []
        depends = _depends(args, executor)
        if depends:
            _say(f"screen done at {time.perf_counter() - t:.0f} s")
    finally:
        if started:
            import ray

            ray.shutdown()
    wall = time.perf_counter() - t
    preamble = _preamble(args, specs, wall)
    if args.crn_check:
        from scenarios.crn import summary

        preamble.append(summary(crn))
    paths = write_results(sweeps, args.out, f"myna-twin study: {args.city}, "
                          f"{' vs '.join(args.designs)}", preamble)
    if depends:
        paths[0].write_text(paths[0].read_text(encoding="utf-8") + "\n"
                            + markdown_section(depends), encoding="utf-8")
    _say(f"wrote {len(paths)} files to {args.out}/ (report: {paths[0]}) in {wall:.0f} s")
    text = "\n\n".join([*(comparison_text(s) for s in sweeps), text_section(depends)])
    if args.crn_check:
        text += "\n\n" + preamble[-1]
    data = {"city": args.city, "scale": args.scale, "designs": args.designs,
            "reps": {s.scenario: s.reps for s in sweeps} if args.precision else args.reps,
            "seed": args.seed, "out": str(args.out),
            "precision": {s.scenario: list(s.precision) for s in sweeps}, "crn": crn,
            "kpi_table": [r for s in sweeps for r in s.table().to_dicts()],
            "differences": [r for s in sweeps for r in s.differences().to_dicts()],
            "depends_on": as_json(depends)}
    from cli.scenario import _json_safe

    emit(_json_safe(data), args.format, text, args.scale)
    return 0
