"""The durable store: SQLite WAL, transactions, portable SQL through dialects."""

from __future__ import annotations

import sqlite3

import pytest

from twin.errors import ValidationError
from twin.store import SQLITE, Dialect, Store

SCHEMA = ("CREATE TABLE IF NOT EXISTS t (id ID PRIMARY KEY, name TEXT NOT NULL, n BIGINT NOT NULL, x REAL)",)


@pytest.fixture
def store(tmp_path):
    s = Store.sqlite(tmp_path / "s.db")
    s.ensure_schema("t", SCHEMA)
    yield s
    s.close()


def test_a_file_store_is_in_wal_mode_with_full_sync_by_default(tmp_path):
    s = Store.sqlite(tmp_path / "w.db")
    with s.reading() as tx:
        assert tx.scalar("PRAGMA journal_mode") == "wal"
        assert tx.scalar("PRAGMA synchronous") == 2  # FULL
    assert s.durable
    s.close()


def test_a_committed_transaction_is_seen_by_a_second_connection(store, tmp_path):
    with store.transaction() as tx:
        tx.execute("INSERT INTO t (id, name, n, x) VALUES (?, ?, ?, ?)", (1, "a", 10, 0.5))
    other = sqlite3.connect(tmp_path / "s.db")
    assert other.execute("SELECT id, name, n, x FROM t").fetchall() == [(1, "a", 10, 0.5)]
    other.close()


def test_an_exception_inside_a_transaction_rolls_everything_back(store):
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.execute("INSERT INTO t (id, name, n) VALUES (?, ?, ?)", (1, "a", 10))
        tx.execute("INSERT INTO t (id, name, n) VALUES (?, ?, ?)", (2, "b", 20))
        raise RuntimeError("crash between statements")
    with store.reading() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM t") == 0


def test_query_in_reads_more_values_than_one_in_list_holds(store):
    with store.transaction() as tx:
        tx.executemany("INSERT INTO t (id, name, n) VALUES (?, ?, ?)", [(i, f"n{i}", i) for i in range(1_200)])
        rows = tx.query_in("SELECT id FROM t WHERE n >= ? AND id IN ({in})", list(range(0, 1_200, 1)), (100,))
    assert sorted(r[0] for r in rows) == list(range(100, 1_200))


def test_the_format_dialect_translates_placeholders_and_escapes_percent_signs():
    pg = Dialect("postgresql", "format", {"ID": "BIGINT", "BIGINT": "BIGINT", "TEXT": "TEXT", "REAL": "DOUBLE PRECISION"})
    assert pg.sql("SELECT a FROM t WHERE b LIKE 'x%' AND c = ? AND d = ?") == \
        "SELECT a FROM t WHERE b LIKE 'x%%' AND c = %s AND d = %s"
    assert pg.ddl("CREATE TABLE t (id ID PRIMARY KEY, v REAL, s TEXT)") == \
        "CREATE TABLE t (id BIGINT PRIMARY KEY, v DOUBLE PRECISION, s TEXT)"
    assert SQLITE.ddl("CREATE TABLE t (id ID PRIMARY KEY, n BIGINT)") == "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)"


def test_an_unknown_paramstyle_is_refused():
    with pytest.raises(ValidationError, match="paramstyle"):
        Dialect("odd", "named")


def test_an_unknown_sync_level_and_a_missing_folder_are_refused(tmp_path):
    with pytest.raises(ValidationError, match="synchronous must be one of"):
        Store.sqlite(tmp_path / "x.db", synchronous="sometimes")
    with pytest.raises(ValidationError, match="does not exist"):
        Store.sqlite(tmp_path / "nowhere" / "x.db")


def test_the_memory_store_runs_the_same_sql_but_is_not_durable():
    s = Store.memory()
    s.ensure_schema("t", SCHEMA)
    with s.transaction() as tx:
        tx.execute("INSERT INTO t (id, name, n) VALUES (?, ?, ?)", (1, "a", 1))
    with s.reading() as tx:
        assert tx.query("SELECT name FROM t") == [("a",)]
    assert not s.durable


def test_the_store_survives_a_reopen_with_its_rows(tmp_path):
    s = Store.sqlite(tmp_path / "r.db")
    s.ensure_schema("t", SCHEMA)
    with s.transaction() as tx:
        tx.execute("INSERT INTO t (id, name, n) VALUES (?, ?, ?)", (7, "kept", 70))
    s.close()
    with Store.sqlite(tmp_path / "r.db") as again, again.reading() as tx:
        assert tx.query("SELECT id, name, n FROM t") == [(7, "kept", 70)]
