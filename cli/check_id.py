"""`run.py check-id`: tell a My Number from a corporate number and check its digit."""

from __future__ import annotations

import argparse

from cli import add_format, emit
from twin.ids import is_valid_corporate_number, is_valid_my_number

EXIT_VALID, EXIT_INVALID, EXIT_MALFORMED = 0, 1, 2


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `check-id` subcommand."""
    p = sub.add_parser(
        "check-id",
        help="check a My Number (12 digits) or corporate number (13 digits)",
        description="Say which kind of number NUMBER is (12 digits: My Number; 13: corporate "
        "number) and whether its check digit is right. Exit 0 valid, 1 well-formed but invalid, "
        "2 malformed.",
    )
    p.add_argument("number", help="the number, digits only")
    add_format(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Classify and check the number."""
    s = args.number
    kind = {12: "my_number", 13: "corporate_number"}.get(len(s))
    if kind is None or not (s.isascii() and s.isdigit()):
        why = "not digits only" if kind else f"{len(s)} characters; expected 12 (My Number) or 13 (corporate number)"
        emit({"number": s, "kind": None, "valid": False, "error": why}, args.format, f"{s}: malformed ({why})")
        return EXIT_MALFORMED
    valid = is_valid_my_number(s) if kind == "my_number" else is_valid_corporate_number(s)
    label = "My Number" if kind == "my_number" else "corporate number"
    emit(
        {"number": s, "kind": kind, "valid": valid},
        args.format,
        f"{s}: {label}, {'valid' if valid else 'invalid check digit'}",
    )
    return EXIT_VALID if valid else EXIT_INVALID
