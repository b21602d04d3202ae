"""`run.py city`: build a city preset and print its summary."""

from __future__ import annotations

import argparse

from cli import add_format, emit
from twin.population import build_city
from twin.presets import DEFAULT_CITY, presets


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `city` subcommand."""
    p = sub.add_parser(
        "city",
        help="build a synthetic city from a preset and print its summary",
        description="Build a synthetic city (residents, households, facilities) from one of the "
        f"20 designated-city presets and print its summary. Presets: {', '.join(sorted(presets()))}.",
    )
    p.add_argument("name", nargs="?", default=DEFAULT_CITY, help=f"city preset (default: {DEFAULT_CITY})")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--scale", type=float, default=1.0, help="share of the population to build, (0, 1] (default: 1)")
    add_format(p)
    p.set_defaults(func=run)


def summary_text(s: dict) -> str:
    """The city summary as human text."""
    lines = [
        f"{s['city']} ({s['name_ja']})  seed={s['seed']} scale={s['scale']}",
        f"  residents     {s['residents']:>12,}",
        f"  wards         {s['wards']:>12,}",
        f"  households    {s['households']:>12,}",
        f"  card holders  {s['card_holders']:>12,}  ({s['card_ownership']:.1%})",
        f"  no card       {s['no_card']:>12,}",
        f"  aged 0-14     {s['age_0_14']:>12,}",
        f"  aged 65+      {s['age_65_plus']:>12,}",
        "  facilities:",
    ]
    lines += [f"    {k:<18}{v:>8,}" for k, v in s["facilities"].items()]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Build and summarise the city."""
    city = build_city(args.name, seed=args.seed, scale=args.scale)
    s = city.summary()
    emit(s, args.format, summary_text(s))
    return 0
