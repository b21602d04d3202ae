"""`run.py scenario NAME`: run one scenario (disaster, certificates, payments) on one design."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cli import add_format, emit

SCENARIO_NAMES = ("disaster", "certificates", "payments")


def add_run_options(p: argparse.ArgumentParser) -> None:
    """Options shared by `scenario`, `sweep` and `study`: city, seed, scale, overrides."""
    p.add_argument("--city", default=None,
                   help="city preset (default: the design's city, e.g. kumamoto)")
    p.add_argument("--seed", type=int, default=0, help="root random seed (default: 0)")
    p.add_argument("--scale", type=float, default=None,
                   help="share of the population to build, (0, 1] (default: the scenario's, 0.05)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario parameter (e.g. evacuation_share=0.2) or, with a "
                   "dotted key, a design field (e.g. safety.readers_per_shelter=6); @FILE reads a parameter "
                   "file (e.g. from run.py calibrate --from-drill); repeatable")
    add_engine_option(p)


def add_engine_option(p: argparse.ArgumentParser) -> None:
    """--engine: the fast engine (default where a scenario has one) or the SimPy reference."""
    p.add_argument("--engine", choices=("fast", "simpy"), default=None,
                   help="simulation engine: fast (queue recursions; the default where a "
                   "scenario has it, same outcomes as SimPy) or simpy (the reference)")


DEFAULT_MAX_REPS = 20


def add_precision_options(p: argparse.ArgumentParser, kpis: bool = True) -> None:
    """--precision, --max-reps (and --kpis): replications in rounds until the answer is clear."""
    p.add_argument("--precision", type=float, default=None, metavar="R",
                   help="run replications in rounds until every selected KPI's 95 %% interval "
                   "has a half-width <= R x its mean (e.g. 0.05) for every design, or --max-reps "
                   "is reached; --reps is then the first round")
    p.add_argument("--max-reps", type=int, default=DEFAULT_MAX_REPS, metavar="N",
                   help=f"cap on replications per design with --precision (default: "
                   f"{DEFAULT_MAX_REPS})")
    if kpis:
        p.add_argument("--kpis", nargs="+", default=None, metavar="KPI",
                       help="KPIs --precision drives (default: the scenario's headline KPIs)")


def say(text: str) -> None:
    """One line of progress on stderr."""
    print(text, file=sys.stderr, flush=True)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `scenario` subcommand."""
    p = sub.add_parser(
        "scenario",
        help="run one scenario on one design and print its KPIs",
        description="Run one SimPy scenario in virtual time through the twin's real services: "
        "disaster (shelter check-in after an earthquake), certificates (the March-April peak at "
        "kiosks and counters) or payments (fees and points through the durable ledger with "
        "faults). The same arguments print the same bytes: wall time goes to stderr only. "
        "Use --params to list a scenario's parameters with units.",
    )
    p.add_argument("name", choices=SCENARIO_NAMES, help="the scenario")
    p.add_argument("--design", default="baseline",
                   help="design name in designs/ or a TOML path (default: baseline)")
    add_run_options(p)
    p.add_argument("--reps", type=int, default=1, help="replications, one seed stream each "
                   "(default: 1); with more than one, KPIs get 95 %% confidence intervals")
    add_precision_options(p)
    p.add_argument("--out", type=Path, default=None,
                   help="also write Parquet, PNG plots and report.md into this folder")
    p.add_argument("--params", action="store_true",
                   help="print the scenario's parameters (resolved for the design) and exit")
    add_format(p)
    p.set_defaults(func=run)


def progress(done: int, total: int, label: str) -> None:
    """One progress line on stderr."""
    print(f"  [{done}/{total}] {label} done", file=sys.stderr, flush=True)


def _params_text(params: object) -> str:
    """The resolved parameters with units and meaning."""
    rows = []
    for f in type(params).describe():
        v = getattr(params, f["name"])
        rows.append(f"  {f['name']:<32} {v!s:<24} {f['unit']:<14} {f['doc']}")
    return f"{type(params).scenario} parameters:\n" + "\n".join(rows)


def _result_text(result: object) -> str:
    """One run's KPIs as text."""
    from scenarios.registry import scenario as scenario_module
    from scenarios.report import fmt

    mod = scenario_module(result.scenario)
    p = result.params
    lines = [f"{result.scenario} on {p['design']} for {p['city']} (scale {p['scale']}), "
             f"seed {dict(result.seed)}"]
    width = max(len(k.label or k.name) for k in mod.KPIS)
    lines += [f"  {k.label or k.name:<{width}} {fmt(result.kpis[k.name], k.unit):>14} {k.unit}"
              for k in mod.KPIS]
    lines += [f"  note: {n}" for n in result.notes]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Resolve parameters, run the replications, print KPIs (and write files with --out)."""
    from scenarios.params import parse_overrides
    from scenarios.runner import make_params

    if args.precision is not None and not args.params:
        from scenarios.precision import check_target, selected

        check_target(args.precision, args.max_reps, max(args.reps, 2))
        selected(args.name, args.kpis)
    params = make_params(args.name, args.design, args.city, args.scale,
                         parse_overrides(args.overrides, args.name), engine=args.engine)
    if args.params:
        emit(params.to_dict(), args.format, _params_text(params))
        return 0
    t = time.perf_counter()
    sweep = _replicate(args, params)
    print(f"{args.name}: {sweep.reps} replication(s) in {time.perf_counter() - t:.1f} s wall",
          file=sys.stderr)
    if args.out:
        from scenarios.report import write_results

        paths = write_results([sweep], args.out, f"Scenario {args.name} on {params.design}")
        print(f"wrote {len(paths)} files to {args.out}", file=sys.stderr)
    if sweep.reps == 1:
        result = sweep.results[0][2]
        emit(result.to_dict(), args.format, _result_text(result), params.scale)
        return 0
    from scenarios.report import comparison_text

    keys = ("label", "unit", "kind", "n", "mean", "ci_low", "ci_high", "needs_reps")
    summary = {r["kpi"]: {k: r[k] for k in keys} for r in sweep.table().iter_rows(named=True)}
    data = {"scenario": args.name, "params": params.to_dict(), "seed": args.seed,
            "reps": [r.to_dict() for _, _, r in sweep.results], "summary": summary,
            "precision": list(sweep.precision)}
    emit(_json_safe(data), args.format, comparison_text(sweep), params.scale)
    return 0


def _replicate(args: argparse.Namespace, params: object) -> object:
    """One run with the seed itself, or replications with one SeedSequence child each."""
    from scenarios.registry import scenario as scenario_module
    from scenarios.sweep import SweepResult, run_sweep
    from twin.errors import ValidationError

    if args.reps < 1:
        raise ValidationError(f"--reps must be at least 1, got {args.reps}")
    if args.precision is not None:
        from scenarios.precision import run_until_precise
        from scenarios.stats import MIN_REPS

        first = args.reps if args.reps >= MIN_REPS else 3
        return run_until_precise([(args.name, [params])], args.precision, args.max_reps, first,
                                 args.seed, "local", progress, kpis=args.kpis, say=say)[0]
    if args.reps == 1:  # the seed itself, as scenarios.<name>.run(params, seed) uses it
        result = scenario_module(args.name).run(params, args.seed)
        return SweepResult(args.name, (params.design,), 1, args.seed, True, ((0, 0, result),))
    return run_sweep(args.name, [params], args.reps, args.seed, executor="local",
                     progress=progress)


def _json_safe(x: object) -> object:
    """Replace NaN and infinities by None, recursively."""
    import math

    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_json_safe(v) for v in x]
    return x
