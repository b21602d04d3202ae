"""`run.py study`: the default study (today: build the default city and print its summary)."""

from __future__ import annotations

import argparse

from cli import add_format, emit
from cli.city import summary_text
from twin.population import build_city
from twin.presets import DEFAULT_CITY


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `study` subcommand."""
    p = sub.add_parser("study", help="run the default study (the README's main command)",
                       description="Run the default study for a city.")
    p.add_argument("--city", default=DEFAULT_CITY, help=f"city preset (default: {DEFAULT_CITY})")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--scale", type=float, default=1.0, help="population scale (default: 1)")
    add_format(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the city and print its summary."""
    s = build_city(args.city, seed=args.seed, scale=args.scale).summary()
    emit(s, args.format, summary_text(s))
    return 0
