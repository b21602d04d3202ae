"""Shared helpers for the ledger and certificate tests (not a test module)."""

from __future__ import annotations

from twin.clock import jst

T0 = jst(2026, 4, 6, 10)  # Monday 6 April 2026, 10:00 JST: kiosks and counters open
TABLES = ("ledger_accounts", "ledger_postings", "ledger_entries", "ledger_refunds", "point_lots", "point_uses")


def snapshot(store, tables=TABLES) -> dict[str, list[tuple]]:
    """Every row of the given tables (sorted), to show that a refusal changed nothing."""
    out = {}
    with store.reading() as tx:
        names = {r[0] for r in tx.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for t in tables:
            out[t] = sorted(tx.query(f"SELECT * FROM {t}"), key=repr) if t in names else []
    return out
