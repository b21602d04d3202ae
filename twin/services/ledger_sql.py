"""The ledger's bulk writes (一括書き込み): many rows per statement, in SQL both SQLite and PostgreSQL run."""

from __future__ import annotations

from collections.abc import Sequence

from twin.store import Tx

INSERT_CHUNK = 250  # rows per multi-row INSERT: 3,000 values at most (SQLite >= 3.32 takes 32,766, PostgreSQL 65,535)


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
