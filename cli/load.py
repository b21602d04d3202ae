"""`run.py load`: open-loop load against the live endpoints, with throughput, latency and errors."""

from __future__ import annotations

import argparse
import sys
import time

from cli import add_format, emit
from twin.errors import ValidationError

DEFAULT_FOLDER = "kumamoto-s1-x0.1"  # `run.py serve`'s folder with its defaults


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `load` subcommand."""
    p = sub.add_parser(
        "load",
        help="load-test the live endpoints with a scenario's workload (open loop, bounded)",
        description="Send a scenario's requests to a running `run.py serve` at a fixed rate for a fixed time "
        "(open loop: requests start on schedule whether or not earlier ones answered), then report "
        "throughput, latency p50/p95/p99 and the answers by HTTP status. Retries a 5xx or lost answer with "
        "the same key, as devices do. Reads the service's device tokens and city from its data folder. "
        "Targets this machine only unless --allow-remote is given.",
    )
    p.add_argument("--target", default="http://127.0.0.1:8000", help="the service's base URL "
                   "(default: http://127.0.0.1:8000)")
    p.add_argument("--scenario", required=True, choices=("disaster", "certificates", "payments"),
                   help="disaster: shelter check-ins; certificates: kiosk authentication + certificate; "
                   "payments: fees, top-ups and point grants")
    p.add_argument("--rate", type=float, required=True, help="requests started per second")
    p.add_argument("--duration", type=float, required=True, help="seconds to keep starting requests (max 3600)")
    p.add_argument("--data", default=None, help="the service's data folder (service.json, credentials.json); "
                   f"default: run.py serve's default folder ({DEFAULT_FOLDER})")
    p.add_argument("--batch", type=int, default=1, help="disaster: taps per request via the batch endpoint "
                   "(default: 1, single taps)")
    p.add_argument("--max-requests", type=int, default=0, help="stop after this many (default: rate x duration)")
    p.add_argument("--max-in-flight", type=int, default=256, help="requests waiting at once (default: 256)")
    p.add_argument("--retries", type=int, default=3, help="retries of a 5xx or lost answer (default: 3)")
    p.add_argument("--pool", default=":", help="which card holders the requests name, as positions START:STOP "
                   "in the city's list (default: all), e.g. to keep clear of a drill's participants")
    p.add_argument("--seed", type=int, default=0, help="random seed of the schedule and workload (default: 0)")
    p.add_argument("--allow-remote", action="store_true", help="allow a target that is not this machine")
    add_format(p)
    p.set_defaults(func=run)


def banner(scenario: str, settings) -> str:
    """How many operations start and how many HTTP requests they send at most, in words."""
    from actors.workloads import REQUESTS_PER_OP

    ops, per = settings.budget, REQUESTS_PER_OP[scenario]
    sent = f"{ops * per:,} requests at most" + (f" ({ops:,} operations of {per} requests each)"
                                               if per > 1 else "")
    return sent + (f", plus up to {settings.retries} retries of a request that fails"
                   if settings.retries else "")


def run(args: argparse.Namespace) -> int:
    """Check the target, build the workload, run it, print the report."""
    import httpx
    import numpy as np

    from actors.load import LoadSettings, check_target, run_load
    from actors.workloads import Target, parse_pool, workload
    from cli.serve import DEFAULT_DATA

    target = check_target(args.target, args.allow_remote)
    if not 1 <= args.batch <= 500:
        raise ValidationError(f"--batch must be 1..500, got {args.batch}")
    settings = LoadSettings(args.rate, args.duration, args.max_requests, args.max_in_flight, args.retries,
                            seed=args.seed)
    t = Target.from_folder(args.data or DEFAULT_DATA / DEFAULT_FOLDER, parse_pool(args.pool))
    try:
        health = httpx.get(f"{target}/v1/health", timeout=30).json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ValidationError(f"no live service answers at {target}: {exc}") from None
    offset = float(health.get("now", time.time())) - time.time()  # the service's clock (it may be shifted)
    ops = workload(args.scenario, t, np.random.default_rng(args.seed), lambda: time.time() + offset, args.batch)
    print(f"load: {args.scenario} at {args.rate:g}/s for {args.duration:g} s against {target} "
          f"({banner(args.scenario, settings)}) ...", file=sys.stderr, flush=True)
    report = run_load(target, args.scenario, ops, settings)
    emit(report.to_dict(), args.format, report.to_text())
    return 0
