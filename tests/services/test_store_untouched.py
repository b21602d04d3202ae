"""An in-memory store creates its tables on first use: a run that never uses its book never pays for
them, and every use (a read, a write, rows held back) finds them as if they had been made at once."""

from __future__ import annotations

import sqlite3

import pytest

from twin.store import Store

SCHEMA = ("CREATE TABLE IF NOT EXISTS t (id ID PRIMARY KEY, n BIGINT NOT NULL)",
          "CREATE INDEX IF NOT EXISTS t_n ON t (n)")


def _tables(store: Store) -> list[str]:
    return sorted(r[0] for r in store._conn.execute("SELECT name FROM sqlite_master"))


def test_an_in_memory_store_creates_its_tables_on_its_first_read():
    s = Store.memory()
    s.ensure_schema("t", SCHEMA)
    assert s.untouched and _tables(s) == []
    with s.reading() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM t") == 0
    assert not s.untouched and _tables(s) == ["t", "t_n"]
    s.ensure_schema("t", SCHEMA)  # known: nothing run again
    s.ensure_schema("u", ("CREATE TABLE IF NOT EXISTS u (a BIGINT)",))  # used already: made at once
    assert "u" in _tables(s)


def test_rows_held_back_are_written_after_the_deferred_tables_exist():
    s = Store.memory()
    s.ensure_schema("t", SCHEMA)
    written = []

    def flush():
        with s.transaction() as tx:
            tx.execute("INSERT INTO t (id, n) VALUES (?, ?)", (1, 7))
        written.append(1)

    s.write_behind(flush)
    with s.reading() as tx:
        assert tx.query("SELECT id, n FROM t") == [(1, 7)]
    assert written == [1] and s.behind is None


def test_a_file_store_creates_its_tables_at_once(tmp_path):
    s = Store.sqlite(tmp_path / "f.db")
    s.ensure_schema("t", SCHEMA)
    assert not s.untouched
    other = sqlite3.connect(tmp_path / "f.db")
    assert other.execute("SELECT name FROM sqlite_master WHERE name = 't'").fetchall() == [("t",)]
    other.close()
    s.close()


def test_a_deferred_statement_that_fails_fails_on_first_use_and_creates_nothing():
    s = Store.memory()
    s.ensure_schema("bad", ("CREATE TABLE IF NOT EXISTS ok (a BIGINT)", "CREATE TABLE broken ("))
    with pytest.raises(sqlite3.OperationalError):
        with s.reading():
            pass
    assert _tables(s) == []
