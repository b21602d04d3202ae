"""The ledger's bulk writes (一括書き込み): many rows per statement, in SQL both SQLite and PostgreSQL run."""

from __future__ import annotations

from collections.abc import Sequence

from twin.services import points as pts
from twin.store import Tx

INSERT_CHUNK = 250  # rows per multi-row INSERT: 3,000 values at most (SQLite >= 3.32 takes 32,766, PostgreSQL 65,535)

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS ledger_accounts (
        account_id TEXT PRIMARY KEY, kind TEXT NOT NULL, balance BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ledger_postings (
        posting_id ID PRIMARY KEY, idem_key TEXT NOT NULL UNIQUE, op TEXT NOT NULL,
        resident_id BIGINT NOT NULL, amount BIGINT NOT NULL, detail TEXT NOT NULL,
        channel TEXT NOT NULL, method TEXT NOT NULL, site BIGINT NOT NULL, ref TEXT NOT NULL,
        expires_at REAL NOT NULL, at REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ledger_entries (
        posting_id BIGINT NOT NULL, account_id TEXT NOT NULL, amount BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ledger_refunds (
        payment_key TEXT PRIMARY KEY, refunded BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ledger_meta (name TEXT PRIMARY KEY, value BIGINT NOT NULL)""",
    """INSERT INTO ledger_meta (name, value) SELECT 'version', 0
        WHERE NOT EXISTS (SELECT 1 FROM ledger_meta WHERE name = 'version')""",
    *pts.SCHEMA,
)



def insert_values(tx: Tx, into: str, values: Sequence[object], width: int, then: str = "") -> None:
    """Insert rows given as one flat list of `width` values each, INSERT_CHUNK rows per statement."""
    one = "(" + ", ".join("?" * width) + ")"
    step = width * INSERT_CHUNK
    end = len(values) - len(values) % step
    if end:
        full = f"INSERT INTO {into} VALUES " + ", ".join([one] * INSERT_CHUNK) + then
        for i in range(0, end, step):
            tx.execute(full, tuple(values[i : i + step]))
    if end < len(values):
        rest = tuple(values[end:])
        tx.execute(f"INSERT INTO {into} VALUES " + ", ".join([one] * (len(rest) // width)) + then, rest)


def store_balances(tx: Tx, changed: dict[str, int]) -> None:
    """Set the balances of accounts already in the store (an upsert whose insert never happens).

    Many rows per statement, so it runs faster than one UPDATE per account. Every account named
    is in the store (read in this transaction, or cached at the version it read), so each row
    takes the ON CONFLICT branch.
    """
    values = [v for acc, bal in changed.items() for v in (acc, acc.partition(":")[0], bal)]
    insert_values(tx, "ledger_accounts (account_id, kind, balance)", values, 3,
                  " ON CONFLICT (account_id) DO UPDATE SET balance = excluded.balance")
