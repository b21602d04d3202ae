"""The ledger's bulk writes: every row lands once, in order, across statement boundaries."""

from __future__ import annotations

import pytest

from twin.services.ledger_sql import INSERT_CHUNK, SCHEMA, insert_values, store_balances
from twin.store import Store


@pytest.fixture
def store():
    s = Store.memory()
    s.ensure_schema("ledger", SCHEMA)
    yield s
    s.close()


@pytest.mark.parametrize("n", [0, 1, INSERT_CHUNK - 1, INSERT_CHUNK, INSERT_CHUNK + 1, 2 * INSERT_CHUNK + 7])
def test_insert_values_writes_every_row_once_in_order_whatever_the_count(store, n):
    rows = [(i, f"wallet:{i % 7}", (-1) ** i * i) for i in range(n)]
    with store.transaction() as tx:
        insert_values(tx, "ledger_entries (posting_id, account_id, amount)", [v for r in rows for v in r], 3)
    with store.reading() as tx:
        assert tx.query("SELECT posting_id, account_id, amount FROM ledger_entries ORDER BY rowid") == rows


def test_store_balances_sets_only_the_named_accounts_and_keeps_their_kind(store):
    accounts = [(f"wallet:{i}", "wallet", -100) for i in range(INSERT_CHUNK + 3)] + [("revenue:x", "revenue", -5)]
    with store.transaction() as tx:
        tx.executemany("INSERT INTO ledger_accounts VALUES (?, ?, ?)", accounts)
        store_balances(tx, {f"wallet:{i}": -i for i in range(1, INSERT_CHUNK + 3)})
    with store.reading() as tx:
        got = tx.query("SELECT account_id, kind, balance FROM ledger_accounts ORDER BY rowid")
    assert got == [("wallet:0", "wallet", -100)] + [(f"wallet:{i}", "wallet", -i) for i in range(1, INSERT_CHUNK + 3)] \
        + [("revenue:x", "revenue", -5)]
