"""The durable store on a real PostgreSQL server: the ledger's rules, locking, isolation, errors."""

from __future__ import annotations

import threading

import pytest

from twin.clock import jst
from twin.errors import ValidationError
from twin.services.payments import IdempotencyConflict, InsufficientFunds, Ledger
from twin.store import POSTGRES, Store, StoreUnavailable

pytestmark = pytest.mark.postgres
T0 = jst(2026, 4, 6, 10)


@pytest.fixture
def pg(pg_dsn, pg_schema):
    store = Store.postgres(pg_dsn, schema=pg_schema)
    yield store
    store.close()


def test_the_ledger_posts_refunds_and_reconciles_on_postgresql(pg):
    ledger = Ledger(pg)
    ledger.top_up("t1", 7, 1_000, T0)
    ledger.pay_fee("f1", 7, "residence_record", 300, T0 + 1)
    ledger.refund("r1", "f1", T0 + 2, amount=100)
    ledger.grant_points("g1", 7, 50, "volunteering", T0 + 3)
    ledger.redeem_points("p1", 7, 20, T0 + 4)
    assert ledger.wallet_balance(7) == 1_000 - 300 + 100 + 20
    assert ledger.points_held(7, T0 + 5) == 30
    report = ledger.reconcile()
    assert report.ok and report.postings == 5 and report.total == 0


def test_a_repeated_key_replays_and_a_changed_one_is_refused_on_postgresql(pg):
    ledger = Ledger(pg)
    first = ledger.top_up("k", 3, 500, T0)
    again = ledger.top_up("k", 3, 500, T0 + 9)
    assert again.replayed and again.posting_id == first.posting_id
    with pytest.raises(IdempotencyConflict, match="amount was 500, now 600"):
        ledger.top_up("k", 3, 600, T0 + 10)
    with pytest.raises(InsufficientFunds):
        ledger.pay_fee("f", 3, "residence_record", 501, T0 + 11)
    assert ledger.wallet_balance(3) == 500 and ledger.reconcile().postings == 1


def test_posix_seconds_keep_their_fraction_in_double_precision(pg):
    ledger = Ledger(pg)
    at = T0 + 0.123456
    receipt = ledger.top_up("t", 1, 10, at)
    assert ledger.receipt("t").at == receipt.at == pytest.approx(at, abs=1e-6)


def test_two_connections_writing_at_once_lose_no_update(pg_dsn, pg_schema):
    stores = [Store.postgres(pg_dsn, schema=pg_schema) for _ in range(2)]
    ledgers = [Ledger(s) for s in stores]
    errors: list[BaseException] = []

    def pay(ledger: Ledger, tag: str) -> None:
        try:
            for i in range(40):
                ledger.top_up(f"{tag}{i}", 9, 10, T0 + i)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=pay, args=(lg, tag)) for lg, tag in zip(ledgers, "ab", strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert ledgers[0].wallet_balance(9) == 80 * 10
    report = ledgers[1].reconcile()
    assert report.ok and report.postings == 80
    for s in stores:
        s.close()


def test_stores_in_two_schemas_do_not_see_each_other(pg_dsn, pg_schema):
    other = pg_schema + "_b"
    a, b = Store.postgres(pg_dsn, schema=pg_schema), Store.postgres(pg_dsn, schema=other)
    try:
        Ledger(a).top_up("t", 1, 100, T0)
        assert Ledger(b).wallet_balance(1) == 0 and Ledger(a).wallet_balance(1) == 100
    finally:
        b.close()
        import psycopg

        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{other}" CASCADE')
        a.close()


def test_a_failed_transaction_rolls_back_on_postgresql(pg):
    pg.ensure_schema("t", ("CREATE TABLE IF NOT EXISTS t (id ID PRIMARY KEY, v REAL)",))
    with pytest.raises(RuntimeError), pg.transaction() as tx:
        tx.execute("INSERT INTO t (id, v) VALUES (?, ?)", (1, 0.5))
        raise RuntimeError("crash before commit")
    with pg.reading() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM t") == 0


def test_an_unreachable_server_is_a_503_that_hides_the_password():
    with pytest.raises(StoreUnavailable) as err:
        Store.postgres("postgresql://myna:hunter2@127.0.0.1:1/none", connect_timeout=1)
    assert err.value.status == 503 and "hunter2" not in str(err.value) and "***" in str(err.value)


def test_a_schema_name_that_is_not_a_plain_identifier_is_refused(pg_dsn):
    with pytest.raises(ValidationError, match="schema must be"):
        Store.postgres(pg_dsn, schema='x"; DROP TABLE y; --')


def test_the_postgres_dialect_maps_real_to_double_precision():
    assert POSTGRES.ddl("CREATE TABLE t (a ID PRIMARY KEY, b REAL, c BIGINT)") == \
        "CREATE TABLE t (a BIGINT PRIMARY KEY, b DOUBLE PRECISION, c BIGINT)"
