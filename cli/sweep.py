"""`run.py sweep`: replications of a scenario over several designs as parallel Ray tasks."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cli import add_format, emit
from cli.scenario import SCENARIO_NAMES, add_precision_options, add_run_options, progress, say


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `sweep` subcommand."""
    p = sub.add_parser(
        "sweep",
        help="run replications of a scenario over several designs on Ray",
        description="Run R replications of a scenario for every design as Ray tasks in parallel "
        "(each replication its own numpy SeedSequence stream; by default replication r of every "
        "design shares stream r, so differences are paired). Writes Parquet (per-replication "
        "KPIs, the KPI table with means and 95 % confidence intervals, the differences against "
        "the first design, and the scenario's frames), PNG plots and report.md into --out, and "
        "prints the comparison. Runs on a local Ray (--num-cpus) or on a cluster (--address).",
    )
    p.add_argument("--scenario", required=True, choices=SCENARIO_NAMES, help="the scenario")
    p.add_argument("--designs", nargs="+", required=True, metavar="DESIGN",
                   help="design names in designs/ or TOML paths; the first is the reference")
    p.add_argument("--reps", type=int, default=5, help="replications per design (default: 5)")
    add_run_options(p)
    add_precision_options(p)
    p.add_argument("--cities", nargs="+", default=None, metavar="CITY",
                   help="run the sweep in each of these cities ('all': every city preset), all "
                   "cities' tasks at once; a table per city, files in --out/CITY (not with --city)")
    p.add_argument("--address", default=None,
                   help="Ray cluster address (e.g. 10.0.0.5:6379 or 'auto'); default: start a "
                   "local Ray for this run")
    p.add_argument("--num-cpus", type=int, default=None,
                   help="CPUs for a local Ray (default: all); ignored with --address")
    p.add_argument("--upload-code", action="store_true",
                   help="ship this checkout to the cluster's workers (Ray working_dir); needed "
                   "when the cluster's nodes do not share this file system")
    p.add_argument("--sequential", action="store_true",
                   help="run the replications one after another in this process (no Ray)")
    p.add_argument("--independent-streams", action="store_true",
                   help="give every (design, replication) its own seed stream (Welch "
                   "differences) instead of common random numbers")
    p.add_argument("--out", type=Path, default=Path("results") / "sweep",
                   help="output folder (default: results/sweep)")
    add_format(p)
    p.set_defaults(func=run)


def _run(args: argparse.Namespace, by_city: dict[str, list]) -> dict:
    """The sweep of every city on Ray (started here unless one runs) or sequentially."""
    from scenarios.precision import check_target, run_until_precise
    from scenarios.sweep import run_city_sweeps, start_ray

    if args.precision is not None:
        check_target(args.precision, args.max_reps, args.reps)

    started = False
    if not args.sequential:
        print("starting Ray" + (f" on {args.address}" if args.address else " locally"),
              file=sys.stderr, flush=True)
        from cli._quiet import default_log, ray_lines_to

        with ray_lines_to(default_log("sweep")):  # Ray's start-up notices: a log, not the terminal
            started = start_ray(args.address, args.num_cpus, args.upload_code)
    executor = "local" if args.sequential else "ray"
    crn = not args.independent_streams
    designs = len(next(iter(by_city.values())))
    where = f" in {len(by_city)} cities" if len(by_city) > 1 else ""
    try:
        if args.precision is not None:
            say(f"sweep {args.scenario}{where}: {designs} design(s), rounds from {args.reps} "
                f"replications until ±{args.precision:.1%} or {args.max_reps}")
            # rounds are per scenario name, so the cities take their rounds one after another
            return {city: run_until_precise([(args.scenario, ps)], args.precision, args.max_reps,
                                            args.reps, args.seed, executor, progress, crn,
                                            args.kpis, say)[0]
                    for city, ps in by_city.items()}
        say(f"sweep {args.scenario}{where}: {designs} design(s) x {args.reps} replication(s) = "
            f"{len(by_city) * designs * args.reps} tasks")
        return run_city_sweeps(args.scenario, by_city, args.reps, args.seed, executor=executor,
                               progress=progress, common_random_numbers=crn)
    finally:
        if started:
            import ray

            ray.shutdown()


def _cities(args: argparse.Namespace) -> list[str | None]:
    """The cities to sweep: --cities (or every preset for 'all'), else the one --city (or None)."""
    from twin.errors import ValidationError
    from twin.presets import preset, presets

    if args.cities is None:
        return [args.city]
    if args.city is not None:
        raise ValidationError("give either --city or --cities, not both")
    names = sorted(presets()) if args.cities == ["all"] else list(args.cities)
    for name in names:
        preset(name)  # unknown city: an error listing the valid ones
    if len(set(names)) != len(names):
        raise ValidationError(f"cities must be distinct, got {names}")
    return names


def _placement(sweeps: dict) -> str:
    """Which node ran which cities' replications (a cluster spreads them; one machine is one node)."""
    by_node: dict[str, list[str]] = {}
    for city, sweep in sweeps.items():
        for node in sorted(set(sweep.nodes)):
            by_node.setdefault(node, []).append(city)
    lines = [f"Ran on {len(by_node)} node{'s' if len(by_node) != 1 else ''}:"]
    lines += [f"  {node[:12]}: {', '.join(cities)}" for node, cities in sorted(by_node.items())]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Build every city's and design's parameters, run the sweeps, write and print the comparison."""
    from scenarios.params import parse_overrides
    from scenarios.report import comparison_text, write_results
    from scenarios.runner import make_params
    from twin.errors import ValidationError

    overrides = parse_overrides(args.overrides)
    by_city: dict[str, list] = {}
    for city in _cities(args):
        params = [make_params(args.scenario, d, city, args.scale, overrides, engine=args.engine)
                  for d in args.designs]
        by_city[params[0].city] = params
    names = [p.design for p in next(iter(by_city.values()))]
    if len(set(names)) != len(names):
        raise ValidationError(f"designs must have distinct names, got {names}")
    t = time.perf_counter()
    sweeps = _run(args, by_city)
    print(f"done in {time.perf_counter() - t:.1f} s wall", file=sys.stderr)
    many = args.cities is not None
    texts, tables = [], {}
    for city, sweep in sweeps.items():
        params = by_city[city]
        out = args.out / city if many else args.out
        title = f"Sweep: {args.scenario} on {', '.join(names)}" + (f" in {city}" if many else "")
        paths = write_results([sweep], out, title, [
            f"City {city}, scale {params[0].scale}, root seed {args.seed}."])
        print(f"wrote {len(paths)} files to {out} (report: {paths[0]})", file=sys.stderr)
        tables[city] = {"scale": params[0].scale, "reps": sweep.reps,
                        "kpi_table": sweep.table().to_dicts(),
                        "differences": sweep.differences().to_dicts(),
                        "precision": list(sweep.precision), "nodes": sorted(set(sweep.nodes))}
        head = f"== {city} (scale {params[0].scale}) ==\n" if many else ""
        texts.append(head + comparison_text(sweep))
    sweep = next(iter(sweeps.values()))
    data = {"scenario": args.scenario, "designs": names, "reps": sweep.reps, "seed": args.seed,
            "paired": sweep.paired, "out": str(args.out)}
    if many:
        data["cities"] = tables
        texts.append(_placement(sweeps))
    else:
        only = next(iter(tables.values()))
        data.update(kpi_table=only["kpi_table"], differences=only["differences"],
                    precision=only["precision"])
    from cli.scenario import _json_safe

    scale = next(iter(by_city.values()))[0].scale
    emit(_json_safe(data), args.format, "\n\n".join(texts), scale)
    return 0
