"""`run.py review`: the review of one or more rollout designs (designs/*.toml) against the report's chapters 3 and 4."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cli import add_format
from twin.design import load_design
from twin.presets import presets

# An invalid design file exits 2 (run.py's TwinError path). CONDITIONAL is 3: a design that
# breaks no rule but waits for others' action is neither accepted (0) nor refused (1).
EXIT_ACCEPTED, EXIT_REFUSED, EXIT_CONDITIONAL = 0, 1, 3
DESIGNS_DIR = Path(__file__).resolve().parent.parent / "designs"


def design_path(name: str) -> Path:
    """A design file path; a bare name that is not a file means designs/NAME.toml."""
    p = Path(name)
    shipped = DESIGNS_DIR / f"{name}.toml"
    if not p.exists() and p.suffix != ".toml" and shipped.is_file():
        return shipped
    return p


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `review` subcommand."""
    p = sub.add_parser(
        "review",
        help="review rollout designs against the report's chapter-3 viewpoints and chapter-4 tables",
        description="Review each DESIGN (a TOML file, e.g. designs/phased.toml) the way the designated cities' "
        "report asks (chapter 3's six viewpoints; chapter 4's table per service with rows 1-7), per enabled "
        "service: (1) legal provisions, (2) ordinances to enact, (3) systems, by who runs them, (4) business "
        "processes, (5) safety measures and PIA, (6) impact on residents and other bodies, with the residents "
        "who hold no card, (7) other; the national dependencies; the report's main effects beside the costs "
        "over the design's timeline; then the totals. Every line states its basis: the report (quoted, with "
        "its lines), the project's reading (with why), an assumption (with its source) or a law (the article "
        "as numbered on the legal baseline's date). Exit 0 when every design is ACCEPTED, 1 when any is "
        "REFUSED (a rule broken; the reasons go to stderr too), 3 when none is refused but any is "
        "CONDITIONAL (an enabled service waits for an unmet dependency; the conditions go to stderr), "
        "2 when a design file is invalid.",
    )
    p.add_argument(
        "designs",
        nargs="+",
        metavar="DESIGN",
        help="design TOML file, or the name of one in designs/ (baseline, full, phased)",
    )
    p.add_argument(
        "--city",
        choices=sorted(presets()),
        metavar="CITY",
        help="review for this city preset instead of the one the design names",
    )
    p.add_argument(
        "--compare",
        action="store_true",
        help="print the designs side by side (one row per question, one column per design) instead of each checklist",
    )
    add_format(p, ("text", "md", "json", "csv"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load every design first (all or nothing), review each, print in the chosen format."""
    from twin.policy import review
    from twin.policy_report import review_frame, review_markdown, review_text

    designs = [load_design(design_path(name)) for name in args.designs]
    reviews = [review(d, args.city) for d in designs]
    if args.compare:
        _print_comparison(reviews, args.format)
    elif args.format == "json":
        body = [r.to_dict() for r in reviews]
        json.dump(body[0] if len(body) == 1 else body, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif args.format == "csv":
        import polars as pl

        sys.stdout.write(pl.concat([review_frame(r) for r in reviews]).write_csv())
    else:
        render = review_markdown if args.format == "md" else review_text
        sys.stdout.write("\n\n".join(render(r).rstrip("\n") for r in reviews) + "\n")
    return _report_refusals(args.designs, reviews)


def _print_comparison(reviews: list, fmt: str) -> None:
    """The side-by-side table in the chosen format."""
    from twin.policy_report import review_comparison

    df = review_comparison(reviews)
    if fmt == "json":
        json.dump(df.to_dicts(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif fmt == "csv":
        sys.stdout.write(df.write_csv())
    else:
        sep = " | " if fmt == "md" else "  "
        widths = [max(len(c), *(len(v) for v in df[c])) for c in df.columns]
        lines = [sep.join(c.ljust(w) for c, w in zip(df.columns, widths, strict=True))]
        if fmt == "md":
            lines.append(sep.join("-" * w for w in widths))
        lines += [sep.join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in df.iter_rows()]
        sys.stdout.write("\n".join(f"| {x} |" if fmt == "md" else x.rstrip() for x in lines) + "\n")


def _report_refusals(names: list[str], reviews: list) -> int:
    """Print each refused or conditional design's reasons to stderr; the exit status."""
    refused = [(path, r) for path, r in zip(names, reviews, strict=True) if r.refused]
    conditional = [(path, r) for path, r in zip(names, reviews, strict=True) if r.verdict == "CONDITIONAL"]
    for path, r in refused:
        print(f"refused: {path} (design {r.design!r}):", file=sys.stderr)
        for x in r.refusals:
            print(f"  [{x.service}] {x.reason} ({x.basis.label()})", file=sys.stderr)
    for path, r in conditional:
        print(f"conditional: {path} (design {r.design!r}):", file=sys.stderr)
        for d in r.conditions:
            print(f"  [{d.service}] {d.status()}: {d.what} ({d.basis.label()})", file=sys.stderr)
    return EXIT_REFUSED if refused else EXIT_CONDITIONAL if conditional else EXIT_ACCEPTED
