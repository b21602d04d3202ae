"""`run.py ledger`: reconcile a durable ledger, list its balances, or its certificate audit records."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

from cli import add_format, emit
from twin.errors import NotFound, ValidationError

EXIT_OK, EXIT_NOT_RECONCILED = 0, 1


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `ledger` subcommand with `reconcile`, `balances` and `documents`."""
    p = sub.add_parser("ledger", help="reconcile a payments ledger file, list balances or certificate records",
                       description="Inspect a durable ledger (a SQLite file written by twin.services.payments; "
                       "see docs/services-certificates-payments.md). `reconcile` re-checks every rule from the "
                       "rows (signed sum zero, balances from entries, balanced postings, point lots, refunds) "
                       "and exits 1 if any fails; `balances` lists accounts; `documents` lists the audit "
                       "records of issued certificates.")
    acts = p.add_subparsers(dest="action", required=True, metavar="{reconcile,balances,documents}")
    rec = acts.add_parser("reconcile", help="the reconciliation report (exit 1 if not reconciled)")
    bal = acts.add_parser("balances", help="every account with its balance (natural sign)")
    docs = acts.add_parser("documents", help="the certificate audit register, one row per document")
    for q in (rec, bal, docs):
        q.add_argument("db", type=Path, help="the ledger's SQLite file")
    bal.add_argument("--kind", help="only accounts of this kind (wallet, points, revenue, cash, clearing, ...)")
    for q in (bal, docs):
        q.add_argument("--limit", type=int, default=50, help="rows to print as text (default: 50; JSON/CSV get all)")
    add_format(rec)
    add_format(bal, ("text", "json", "csv"))
    add_format(docs, ("text", "json", "csv"))
    p.set_defaults(func=run)


def _ledger(path: Path):
    """Open an existing ledger file (refusing a missing file or one that holds no ledger)."""
    from twin.services.payments import Ledger

    if not path.is_file():
        raise NotFound(f"no ledger file at {path}")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as probe:
        tables = {r[0] for r in probe.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "ledger_postings" not in tables:
        raise ValidationError(f"{path} is not a ledger (it has no ledger_postings table)")
    return Ledger.open(path)


def run(args: argparse.Namespace) -> int:
    """Dispatch to the action."""
    ledger = _ledger(args.db)
    try:
        if args.action == "reconcile":
            rec = ledger.reconcile()
            emit(rec.to_dict(), args.format, rec.to_text())
            return EXIT_OK if rec.ok else EXIT_NOT_RECONCILED
        if args.action == "balances":
            frame = ledger.balances()
            if args.kind:
                frame = frame.filter(frame["kind"] == args.kind)
        else:
            from twin.services.certificate_register import frame as documents

            with ledger.store.reading() as tx:
                tables = {r[0] for r in tx.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
                frame = documents(tx) if "certificate_documents" in tables else None
            if frame is None:
                raise NotFound(f"{args.db} holds no certificate records")
        _emit_frame(frame, args)
        return EXIT_OK
    finally:
        ledger.store.close()


def _emit_frame(frame, args: argparse.Namespace) -> None:
    """A frame as text (first --limit rows), JSON rows or CSV."""
    import sys

    if args.format == "csv":
        sys.stdout.write(frame.write_csv())
        return
    text = "\n".join(["  ".join(frame.columns)] + ["  ".join(str(v) for v in row)
                                                   for row in frame.head(args.limit).iter_rows()])
    if frame.height > args.limit:
        text += f"\n... {frame.height - args.limit:,} more rows (use --limit or --format csv)"
    emit(frame.to_dicts(), args.format, text)
