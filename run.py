#!/usr/bin/env python3
"""myna-twin's one command line. With no subcommand it runs the default study."""

from __future__ import annotations

import argparse
import sys

from cli import subcommand_modules
from twin.errors import TwinError

DEFAULT_COMMAND = "study"


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand registered by the modules in cli/."""
    parser = argparse.ArgumentParser(
        prog="run.py",
        description="myna-twin: a digital twin of a designated city's My Number card services. "
        f"With no subcommand, runs `{DEFAULT_COMMAND}` (the default study).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in subcommand_modules():
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run the subcommand; domain errors exit 2 with their message."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = [DEFAULT_COMMAND, *argv]
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except TwinError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
