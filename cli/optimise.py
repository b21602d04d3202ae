"""`run.py optimise`: the cheapest design that meets the city's targets (or a Pareto front)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cli import add_format, emit
from cli.scenario import SCENARIO_NAMES

EXAMPLE = ("run.py optimise --city kumamoto --base full --scenario disaster "
           "--vary safety.readers_per_shelter=1:8 --vary safety.paper_form_staff_per_shelter=0:6 "
           "--target 'checkin_wait_p95_min<=30' --minimise cost")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `optimise` subcommand."""
    p = sub.add_parser(
        "optimise",
        help="search design fields for the cheapest design that meets KPI targets",
        description="Vary numeric design fields within ranges and search (Optuna: TPE for one "
        "objective, NSGA-II for --pareto) for the design that minimises an objective while "
        "meeting every --target. Each trial runs the chosen scenarios with --reps replications "
        "and common random numbers, as Ray tasks; a target counts as met only when the 95 %% "
        "interval's bad end meets it; the best feasible trials are re-run with --final-reps "
        "before one is named. Writes best.toml (reviewed: best_review.md), trials.parquet, a "
        "plot and report.md into --out. `cost` is the scenarios' cost_yen summed. "
        f"Example: {EXAMPLE}",
    )
    p.add_argument("--base", default="full",
                   help="the design to start from: a name in designs/ or a TOML path "
                   "(default: full)")
    p.add_argument("--city", default=None, help="city preset (default: the design's city)")
    p.add_argument("--vary", action="append", default=[], metavar="FIELD=LOW:HIGH[:STEP]",
                   help="a numeric design field and its range (repeatable; see `run.py design "
                   "fields`), e.g. safety.readers_per_shelter=1:8")
    p.add_argument("--target", action="append", default=[], metavar="'KPI<=VALUE'",
                   help="a requirement on a KPI of the chosen scenarios, KPI<=VALUE or "
                   "KPI>=VALUE (repeatable; all must hold); e.g. 'checkin_wait_p95_min<=30'")
    goal = p.add_mutually_exclusive_group()
    goal.add_argument("--minimise", "--minimize", dest="minimise", default=None, metavar="KPI",
                      help="the KPI to minimise (default: cost)")
    goal.add_argument("--maximise", "--maximize", dest="maximise", default=None, metavar="KPI",
                      help="a KPI to maximise instead")
    goal.add_argument("--pareto", default=None, metavar="KPI,KPI",
                      help="two KPIs to trade off (a Pareto front), e.g. "
                      "'checkin_wait_p95_min,cost'")
    p.add_argument("--scenario", dest="scenarios", action="append", choices=SCENARIO_NAMES,
                   default=None, metavar="NAME",
                   help="a scenario to run per trial (repeatable; default: all three)")
    p.add_argument("--param", action="append", default=[], metavar="SCENARIO:KEY=VALUE",
                   help="set a scenario parameter for every trial (repeatable), e.g. "
                   "disaster:horizon_h=24; the study's settings apply otherwise")
    p.add_argument("--scale", type=float, default=None,
                   help="share of the population to build (default: 0.05: a search runs many "
                   "trials; confirm its best design with `run.py study` at scale 1)")
    p.add_argument("--trials", type=int, default=24, help="trials in the search (default: 24)")
    p.add_argument("--reps", type=int, default=3,
                   help="replications per trial, at least 3 (default: 3)")
    p.add_argument("--final-reps", type=int, default=None,
                   help="replications for the finalists (default: 3 x --reps)")
    p.add_argument("--finalists", type=int, default=3,
                   help="best feasible trials re-run before one is named (default: 3)")
    p.add_argument("--batch", type=int, default=4,
                   help="trials proposed and run together (default: 4; fixed, so the same "
                   "seed gives the same trials on any machine)")
    p.add_argument("--seed", type=int, default=0, help="root random seed (default: 0)")
    p.add_argument("--out", type=Path, default=Path("results/optimise"),
                   help="output folder (default: results/optimise)")
    p.add_argument("--address", default=None, help="run the trials on this Ray cluster")
    p.add_argument("--sequential", action="store_true",
                   help="run every replication in this process (no Ray)")
    add_format(p)
    p.set_defaults(func=run)


def _say(text: str) -> None:
    """One progress line on stderr."""
    print(text, file=sys.stderr, flush=True)


def build(args: argparse.Namespace) -> tuple:
    """The problem, targets and objectives from the arguments (every check before any run)."""
    from cli.study import STUDY_OVERRIDES
    from scenarios.defaults import SEARCH_SCALE
    from scenarios.optimise import check_request
    from scenarios.optimise_problems import DesignProblem
    from scenarios.optimise_space import (
        COST,
        parse_objective,
        parse_pareto,
        parse_target,
        parse_variable,
    )
    from twin.design import design_fields
    from twin.errors import ValidationError

    if not args.vary:
        raise ValidationError("nothing to vary: give at least one --vary FIELD=LOW:HIGH "
                              f"(e.g. {EXAMPLE})")
    fields = {f.key: f for f in design_fields()}
    variables = tuple(parse_variable(v, fields) for v in args.vary)
    keys = [v.key for v in variables]
    if len(set(keys)) != len(keys):
        raise ValidationError(f"--vary names a field twice: {sorted(k for k in keys if keys.count(k) > 1)[0]}")
    scenarios = tuple(dict.fromkeys(args.scenarios or SCENARIO_NAMES))
    settings = {k: dict(v) for k, v in STUDY_OVERRIDES.items() if k in scenarios}
    for name, values in _scenario_params(args.param, scenarios).items():
        settings.setdefault(name, {}).update(values)
    problem = DesignProblem(args.base, scenarios, variables, args.city,
                            args.scale if args.scale is not None else SEARCH_SCALE,
                            settings, "local" if args.sequential else "ray")
    base = problem.design({v.key: v.low for v in variables})  # loads with the fields set
    problem.city = problem.city or base.city
    problem.check_ranges()
    targets = tuple(parse_target(t, problem.kpis) for t in args.target)
    if args.pareto:
        objectives = parse_pareto(args.pareto, problem.kpis)
    elif args.maximise:
        objectives = (parse_objective(args.maximise, problem.kpis, maximise=True),)
    else:
        objectives = (parse_objective(args.minimise or COST, problem.kpis),)
    check_request(problem, targets, objectives, args.trials, args.reps, args.batch,
                  args.finalists)
    if args.final_reps is not None and args.final_reps < args.reps:
        raise ValidationError(f"--final-reps must be at least --reps ({args.reps}), got "
                              f"{args.final_reps}")
    return problem, targets, objectives


def _scenario_params(pairs: list[str], scenarios: tuple[str, ...]) -> dict[str, dict]:
    """`SCENARIO:KEY=VALUE` pairs as {scenario: {key: value}} (values parsed as --set does)."""
    from scenarios.params import parse_overrides
    from twin.errors import ValidationError

    out: dict[str, list[str]] = {}
    for pair in pairs:
        name, colon, rest = pair.partition(":")
        if not colon or "=" not in rest:
            raise ValidationError(f"--param {pair!r}: expected SCENARIO:KEY=VALUE, e.g. "
                                  "disaster:horizon_h=24")
        if name not in scenarios:
            raise ValidationError(f"--param {pair!r}: scenario {name!r} is not run here "
                                  f"(running: {', '.join(scenarios)})")
        out.setdefault(name, []).append(rest)
    return {k: parse_overrides(v) for k, v in out.items()}


def run(args: argparse.Namespace) -> int:
    """Check the request, search, re-run the finalists, write and print the answer."""
    from scenarios.optimise import search
    from scenarios.optimise_report import best_design, review_of, verdict_of, write_outputs
    from scenarios.sweep import start_ray

    problem, targets, objectives = build(args)
    t0 = time.perf_counter()
    preamble = _preamble(args, problem)
    for line in preamble:
        _say(line)
    started = False
    if not args.sequential:
        from cli._quiet import default_log, ray_lines_to

        with ray_lines_to(default_log("optimise")):  # Ray's start-up notices: a log, not the terminal
            started = start_ray(args.address)
    try:
        outcome = search(problem, targets, objectives, trials=args.trials, reps=args.reps,
                         seed=args.seed, batch=args.batch, finalists=args.finalists,
                         final_reps=args.final_reps, say=_say)
    finally:
        if started:
            import ray

            ray.shutdown()
    wall = time.perf_counter() - t0
    title = f"{problem.city}, base {args.base}"
    paths = write_outputs(problem, outcome, args.out, title, [*preamble, f"Ran in {wall:.0f} s."])
    rev = review_of(best_design(problem, outcome))
    _say(f"wrote {len(paths)} files to {args.out}/ in {wall:.0f} s")
    data = {**outcome.to_dict(), "review": verdict_of(rev), "wall_seconds": round(wall, 1),
            "files": {k: str(v) for k, v in paths.items()}}
    emit(_json_safe(data), args.format, _text(outcome, rev, paths))
    return 0 if outcome.feasible else 1


def _preamble(args: argparse.Namespace, problem: object) -> list[str]:
    """The setting, in sentences (reduced scale stated first)."""
    scale = problem.scale
    lines = [f"Population scale {scale:g}" + (" (reduced: queues and costs are for a city of "
             f"{scale:.0%} of the population)" if scale < 1 else " (full city)") + ".",
             f"Base design {args.base}; scenarios: {', '.join(problem.scenarios)}; "
             f"{args.trials} trials x {args.reps} replications, seed {args.seed}."]
    return lines


def _text(outcome: object, rev: object, paths: dict) -> str:
    """The answer for a person."""
    from scenarios.optimise_report import _headline, _num, _point_text, shown_trials

    lines = [_headline(outcome)]
    for t in shown_trials(outcome):
        lines.append(f"  {_point_text(t)} ({t.reps} replications)")
        lines += [f"    {k:<45} {_num(e.mean):>12}  [{_num(e.low)}, {_num(e.high)}]"
                  for k, e in t.estimates.items()]
    if rev is not None:
        from scenarios.optimise_report import verdict_of

        lines.append(f"review of {paths['design']}: {verdict_of(rev)}")
        if rev.verdict != "ACCEPTED":
            lines.append("  the review does not accept this design as it stands: read best_review.md")
    if not outcome.feasible:
        lines.append("infeasible: no trial met every target with its interval's bad end; "
                     "widen the ranges, relax a target or add trials")
    lines.append(f"report: {paths['report']}")
    return "\n".join(lines)


def _json_safe(x: object) -> object:
    """Replace NaN and infinities by None, recursively."""
    from cli.scenario import _json_safe as safe

    return safe(x)
