"""`run.py validate-queue`: the scenarios' queue machinery on M/M/c next to Erlang C."""

from __future__ import annotations

import argparse
import sys
import time

from cli import add_format, emit


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `validate-queue` subcommand."""
    p = sub.add_parser(
        "validate-queue",
        help="check the simulation's queues against Erlang C (M/M/c)",
        description="Run the same queue machinery the kiosks, counters and shelter readers use "
        "on an M/M/c queue (Poisson arrivals, exponential service, C servers, FIFO) and print "
        "the simulated probability of waiting and mean wait next to the Erlang C values. Times "
        "are in the unit of the input: with --arrival-rate per minute and --service-mean in "
        "minutes, waits are in minutes. Defaults: the FACTS.md example (30 arrivals/h, 5 min "
        "service, 4 servers: P(wait) 0.320, mean wait 1.07 min).",
    )
    p.add_argument("--arrival-rate", type=float, default=0.5, metavar="L",
                   help="arrivals per time unit (default: 0.5)")
    p.add_argument("--service-mean", type=float, default=5.0, metavar="S",
                   help="mean service time in the same unit (default: 5)")
    p.add_argument("--servers", type=int, default=4, metavar="C", help="servers (default: 4)")
    p.add_argument("--customers", type=int, default=200_000, metavar="N",
                   help="customers to simulate (default: 200000)")
    p.add_argument("--seed", type=int, default=0, metavar="X", help="random seed (default: 0)")
    p.add_argument("--engine", choices=("simpy", "fast"), default="simpy",
                   help="the SimPy queue machinery (default) or the fast engine's kernel; both "
                   "give the same customers the same times")
    add_format(p)
    p.set_defaults(func=run)


def _text(d: dict) -> str:
    """The comparison as a small table."""
    i, s, a, e = d["input"], d["simulated"], d["analytic"], d["relative_error"]
    return "\n".join([
        f"M/M/{i['servers']}: arrival rate {i['arrival_rate']:g}, service mean "
        f"{i['service_mean']:g}, load {a['load_erlangs']:.3g} Erlangs, "
        f"{i['customers']:,} customers, seed {i['seed']}",
        f"{'':12}{'simulated':>12}{'Erlang C':>12}{'rel. error':>12}",
        f"{'P(wait)':12}{s['p_wait']:>12.4f}{a['p_wait']:>12.4f}{e['p_wait']:>+12.2%}",
        f"{'mean wait':12}{s['mean_wait']:>12.4f}{a['mean_wait']:>12.4f}{e['mean_wait']:>+12.2%}",
        f"{'utilisation':12}{s['utilisation']:>12.4f}{a['utilisation']:>12.4f}",
    ])


def run(args: argparse.Namespace) -> int:
    """Simulate and compare; wall time goes to stderr."""
    from scenarios.mmc import simulate_mmc

    t = time.perf_counter()
    result = simulate_mmc(args.arrival_rate, args.service_mean, args.servers, args.customers,
                          args.seed, engine=args.engine).to_dict()
    print(f"simulated {args.customers:,} customers in {time.perf_counter() - t:.2f} s",
          file=sys.stderr)
    emit(result, args.format, _text(result))
    return 0
