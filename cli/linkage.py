"""`run.py linkage`: which attachment certificates linkage removes, per application, for a design."""

from __future__ import annotations

import argparse

from cli import add_format, emit

EPILOG = """examples:
  run.py linkage --design designs/full.toml
  run.py linkage --tasks child_allowance,school_aid --held-elsewhere --format json
  run.py linkage --permissions
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `linkage` subcommand."""
    p = sub.add_parser(
        "linkage",
        help="attachment certificates linkage removes, per application (情報連携による添付書類の省略)",
        description="For each application type, list the attachment certificates it needs and how "
        "many linkage removes, given the tasks the city's ordinances enable (from a design file or "
        "--tasks/--external), and the ordinances those tasks rest on. With --permissions, print the "
        "permission table instead (requesting agency, task, item, providing agency, legal basis).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--design", help="a design TOML file; its [linkage] section gives the tasks")
    p.add_argument(
        "--tasks", default="", help="comma-separated tasks enabled inside the city (庁内連携)"
    )
    p.add_argument(
        "--external",
        default="",
        help="comma-separated tasks enabled for rule-based external linkage (規則連携)",
    )
    p.add_argument(
        "--held-elsewhere",
        action="store_true",
        help="count for a resident whose data another authority holds (moved in this year)",
    )
    p.add_argument("--permissions", action="store_true", help="print the permission table and exit")
    add_format(p)
    p.set_defaults(func=run)


def _split(text: str) -> list[str]:
    """Comma-separated names, blanks dropped."""
    return [t.strip() for t in text.split(",") if t.strip()]


def run(args: argparse.Namespace) -> int:
    """Print the certificates avoided (or the permission table)."""
    from twin.services.linkage_applications import certificates_avoided
    from twin.services.linkage_tables import LinkageScope, PermissionTable

    table = PermissionTable.load()
    if args.permissions:
        rows = table.frame().drop("source").to_dicts()
        text = "\n".join(
            f"{r['requester']:<22} {r['task']:<30} {r['item']:<26} {r['provider']:<22} {r['basis']}"
            for r in rows
        )
        emit(rows, args.format, text)
        return 0
    if args.design:
        from twin.design import load_design

        scope = LinkageScope.from_design(load_design(args.design).service("linkage"))
    else:
        scope = LinkageScope.of(_split(args.tasks), _split(args.external))
    frame = certificates_avoided(scope.internal_tasks, scope.external_tasks, args.held_elsewhere)
    data = {
        "internal_tasks": sorted(scope.internal_tasks),
        "external_tasks": sorted(scope.external_tasks),
        "held_elsewhere": args.held_elsewhere,
        "ordinances_needed": sorted(table.ordinances_needed(scope)),
        "attachments": frame.to_dicts(),
        "copies_needed": int(frame["copies_needed"].sum()),
        "copies_avoided": int(frame["copies_avoided"].sum()),
    }
    lines = [f"{'application':<30} {'certificate':<24} needed avoided"]
    lines += [
        f"{r['application']:<30} {r['certificate']:<24} {r['copies_needed']:>6} {r['copies_avoided']:>7}"
        for r in data["attachments"]
    ]
    lines.append(f"{'total':<55} {data['copies_needed']:>6} {data['copies_avoided']:>7}")
    lines.append(f"ordinances needed: {', '.join(data['ordinances_needed']) or 'none'}")
    emit(data, args.format, "\n".join(lines))
    return 0
