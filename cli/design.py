"""`run.py design`: list the design fields, or check and show a design file."""

from __future__ import annotations

import argparse

from cli import add_format, emit
from twin.design import design_fields, design_to_toml, load_design
from twin.errors import ValidationError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `design` subcommand."""
    p = sub.add_parser(
        "design",
        help="list every design field, or validate and show a design file",
        description="`design fields` lists every field a design file may set (dotted key, kind, unit, "
        "range or options, default). `design check FILE` validates a design file and prints it in full, "
        "defaults filled in; an invalid file exits 2 naming the file, the key and what was expected.",
    )
    p.add_argument("action", choices=("fields", "check"), help="fields: list the fields; check: validate FILE")
    p.add_argument("file", nargs="?", help="design TOML file (for check)")
    add_format(p)
    p.set_defaults(func=run)


def _range(s) -> str:
    if s.options:
        return " | ".join(s.options)
    if s.minimum is not None:
        return f"{s.minimum:,} .. {s.maximum:,}"
    return ""


def run(args: argparse.Namespace) -> int:
    """List the fields or check one file."""
    if args.action == "fields":
        specs = design_fields()
        lines = [f"{s.key:<48} {s.kind:<8} {s.unit:<26} {_range(s):<40} default={s.default!r}" for s in specs]
        emit([s.to_dict() for s in specs], args.format, "\n".join(lines))
        return 0
    if not args.file:
        raise ValidationError("design check needs a design FILE, e.g. run.py design check designs/phased.toml")
    d = load_design(args.file)
    emit(d.to_dict(), args.format, f"# {args.file}: valid; enabled: {', '.join(d.enabled_services()) or 'none'}\n" + design_to_toml(d))
    return 0
