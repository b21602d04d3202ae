"""The ledger's fee fast path on PostgreSQL: multi-row inserts, and a known key rolled back to a savepoint."""

from __future__ import annotations

import pytest

from twin.clock import jst
from twin.errors import TwinError
from twin.services import ledger_book
from twin.services.payments import FeePayment, Ledger, TopUp
from twin.store import Store

pytestmark = pytest.mark.postgres
T0 = jst(2026, 4, 6, 10)
RR = "residence_record"


def _plain(results: list) -> list:
    return [(type(r).__name__, str(r)) if isinstance(r, TwinError) else tuple(r) for r in results]


def test_fee_batches_with_new_and_known_keys_answer_on_postgresql_as_the_general_path_does(
        pg_dsn, pg_schema, monkeypatch):
    store = Store.postgres(pg_dsn, schema=pg_schema)
    pg, reference = Ledger(store), Ledger.in_memory()
    written = []  # per fee-only batch the fast path planned: written (True) or rolled back (False)
    write = ledger_book.Batch.write_if_keys_new

    def spy(batch):
        written.append(write(batch))
        return written[-1]

    monkeypatch.setattr(ledger_book.Batch, "write_if_keys_new", spy)
    batches = [[TopUp(f"t{r}", r, 20_000) for r in range(3)],
               [FeePayment(f"f{i}", i % 3, RR, 300, "kiosk", "wallet", 2) for i in range(9)],
               [FeePayment(f"g{i}", i % 3, RR, 200) for i in range(130)],  # three multi-row chunks
               [FeePayment("g5", 2, RR, 200), FeePayment("h1", 0, RR, 100), FeePayment("g6", 0, RR, 999)]]
    try:
        for batch in batches:
            got = _plain(pg.post_many(batch, T0))
            with monkeypatch.context() as m:
                m.setattr(ledger_book, "fee_columns", lambda *a: None)
                assert got == _plain(reference.post_many(batch, T0))
        assert written == [True, True, False]  # the last batch repeats keys: rolled back, posted slowly
        assert pg.balances().rows() == reference.balances().rows()
        assert pg.reconcile().ok and pg.reconcile().postings == 3 + 9 + 130 + 1
    finally:
        store.close()
