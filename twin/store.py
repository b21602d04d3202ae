"""A small durable store over DB-API: SQLite in WAL mode by default, portable SQL for others.

Code above this module writes plain SQL with `?` placeholders and the portable column types
`ID`, `BIGINT`, `TEXT`, `REAL`, `BLOB` in its DDL; a `Dialect` translates both for its backend.
Only `Dialect.begin_write` (how a write transaction takes its lock) and `Dialect.begin_read`
(how a read snapshot starts) are backend-specific. PostgreSQL (psycopg 3, paramstyle "format")
is the `POSTGRES` dialect and `Store.postgres(dsn, schema=...)`: each store lives in its own
schema, and a write transaction takes that schema's advisory lock, so writers are serialised
as SQLite's `BEGIN IMMEDIATE` serialises them; the tests run against any `Store`.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from twin.errors import TwinError, ValidationError

_TYPE_TOKEN = re.compile(r"\b(ID|BIGINT|TEXT|REAL|BLOB)\b")
SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")
IN_CHUNK = 500  # ids per `IN (...)` list; far below every backend's parameter limit
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class StoreUnavailable(TwinError):
    """The database server cannot be reached (or refused the connection)."""

    code = "store_unavailable"
    status = 503


@dataclass(frozen=True)
class Dialect:
    """How one backend spells placeholders, column types and a locking write transaction."""

    name: str
    paramstyle: str  # "qmark" (?) or "format" (%s)
    types: dict[str, str] = field(default_factory=dict)  # portable type token -> backend type
    begin_write: tuple[str, ...] = ("BEGIN",)
    begin_read: tuple[str, ...] = ("BEGIN",)

    def __post_init__(self) -> None:
        if self.paramstyle not in ("qmark", "format"):
            raise ValidationError(f"paramstyle must be 'qmark' or 'format', got {self.paramstyle!r}")

    def sql(self, text: str) -> str:
        """The statement with placeholders in this backend's style."""
        return _translate(text, self.paramstyle)

    def ddl(self, text: str) -> str:
        """A CREATE statement with portable type tokens mapped to this backend's types."""
        return _TYPE_TOKEN.sub(lambda m: self.types.get(m.group(1), m.group(1)), self.sql(text))


@lru_cache(maxsize=512)
def _translate(text: str, paramstyle: str) -> str:
    """`?` placeholders to `%s` (escaping literal `%`) for the format paramstyle."""
    if paramstyle == "qmark":
        return text
    return text.replace("%", "%%").replace("?", "%s")


SQLITE = Dialect(
    name="sqlite",
    paramstyle="qmark",
    types={"ID": "INTEGER", "BIGINT": "INTEGER", "TEXT": "TEXT", "REAL": "REAL", "BLOB": "BLOB"},
    begin_write=("BEGIN IMMEDIATE",),  # take the write lock first, so reads inside are stable
)


POSTGRES = Dialect(
    name="postgresql",
    paramstyle="format",
    types={"ID": "BIGINT", "BIGINT": "BIGINT", "TEXT": "TEXT", "REAL": "DOUBLE PRECISION", "BLOB": "BYTEA"},
    # one writer per schema at a time (the lock is released at COMMIT/ROLLBACK)
    begin_write=("BEGIN ISOLATION LEVEL READ COMMITTED",
                 "SELECT pg_advisory_xact_lock(hashtext(current_schema()))"),
    begin_read=("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",),  # one snapshot for every query
)


class Tx:
    """One open transaction: run statements with `?` placeholders."""

    __slots__ = ("_cur", "_dialect")

    def __init__(self, cursor: Any, dialect: Dialect) -> None:
        self._cur = cursor
        self._dialect = dialect

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""
        self._cur.execute(self._dialect.sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for many parameter rows (a no-op for none)."""
        rows = list(rows)
        if rows:
            self._cur.executemany(self._dialect.sql(sql), rows)

    def ddl(self, statement: str) -> None:
        """Run a CREATE statement written with the portable type tokens."""
        self._cur.execute(self._dialect.ddl(statement))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Every row of a query."""
        self._cur.execute(self._dialect.sql(sql), tuple(params))
        return self._cur.fetchall()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row (None for no row)."""
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def query_in(self, sql: str, values: Sequence[Any], params: Sequence[Any] = ()) -> list[tuple]:
        """Rows of a query whose `{in}` marks an IN list, run in chunks over `values`."""
        out: list[tuple] = []
        values = list(values)
        for i in range(0, len(values), IN_CHUNK):
            chunk = values[i : i + IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            out += self.query(sql.replace("{in}", marks), [*params, *chunk])
        return out


class Store:
    """A database connection with transactions; durable unless built by `Store.memory()`."""

    def __init__(self, connection: Any, dialect: Dialect, *, durable: bool, where: str) -> None:
        self._conn = connection
        self.dialect = dialect
        self.durable = durable
        self.where = where
        self._behind: Callable[[], None] | None = None
        self._lock = threading.RLock()
        self._schemas: set[str] = set()
        # an in-memory store's tables are created on its first use (a run that never uses its book never
        # pays for them); until then nothing was written: `untouched`
        self._ddl: list[str] | None = None if durable else []

    @classmethod
    def sqlite(cls, path: str | Path, *, synchronous: str = "FULL", busy_timeout_ms: int = 10_000) -> Store:
        """A SQLite file in WAL mode; FULL syncs the log on every commit (survives power loss)."""
        level = str(synchronous).upper()
        if level not in SYNCHRONOUS_LEVELS:
            raise ValidationError(f"synchronous must be one of {', '.join(SYNCHRONOUS_LEVELS)}, got {synchronous!r}")
        path = Path(path)
        if not path.parent.is_dir():
            raise ValidationError(f"cannot open store {path}: folder {path.parent} does not exist")
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise ValidationError(f"cannot put {path} in WAL mode (got {mode!r})")
        conn.execute(f"PRAGMA synchronous={level}")
        return cls(conn, SQLITE, durable=level != "OFF", where=str(path))

    @classmethod
    def memory(cls) -> Store:
        """An in-memory SQLite database: the same SQL and rules, nothing kept after close."""
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        return cls(conn, SQLITE, durable=False, where=":memory:")

    @classmethod
    def postgres(cls, dsn: str, *, schema: str | None = None, connect_timeout: float = 10.0) -> Store:
        """A PostgreSQL store (psycopg 3), its tables in `schema` (created if missing; default: public)."""
        import psycopg  # only deployments on PostgreSQL need the driver loaded

        if schema is not None and not _SCHEMA_NAME.match(schema):
            raise ValidationError(f"schema must be 1-63 of a-z 0-9 _ starting with a letter or _, got {schema!r}")
        where = f"{_redact(dsn)}#{schema or 'public'}"
        try:
            conn = psycopg.connect(dsn, autocommit=True, connect_timeout=max(1, int(connect_timeout)))
        except psycopg.Error as exc:
            raise StoreUnavailable(f"cannot connect to PostgreSQL at {_redact(dsn)}: "
                                   f"{str(exc).strip() or type(exc).__name__}") from None
        if schema is not None:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            conn.execute(f'SET search_path TO "{schema}"')
        return cls(conn, POSTGRES, durable=True, where=where)

    @classmethod
    def connect(cls, connect: Callable[[], Any], dialect: Dialect, *, where: str) -> Store:
        """A store over any DB-API connection in autocommit mode (e.g. a PostgreSQL backend)."""
        return cls(connect(), dialect, durable=True, where=where)

    @property
    def lock(self) -> threading.RLock:
        """The lock every transaction holds; hold it longer to keep follow-up work atomic per process."""
        return self._lock

    def ensure_schema(self, name: str, statements: Sequence[str]) -> None:
        """Create tables and indexes once (each statement uses IF NOT EXISTS)."""
        if name in self._schemas:
            return
        with self._lock:
            if self._ddl is not None:  # in memory and never used: created with the first transaction or read
                self._ddl.extend(statements)
                self._schemas.add(name)
                return
        with self.transaction() as tx:
            for stmt in statements:
                tx.ddl(stmt)
        self._schemas.add(name)

    @property
    def untouched(self) -> bool:
        """Whether this is an in-memory store no transaction or read has used yet (its tables are empty)."""
        return self._ddl is not None

    def _create(self) -> None:
        """Create the tables an untouched in-memory store deferred (then it is used: nothing is deferred)."""
        statements, self._ddl = self._ddl or [], None
        if statements:  # before anything held back is written (its tables first)
            cur = self._conn.cursor()
            for stmt in self.dialect.begin_write:
                cur.execute(stmt)
            try:
                tx = Tx(cur, self.dialect)
                for stmt in statements:
                    tx.ddl(stmt)
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def write_behind(self, flush: Callable[[], None] | None) -> None:
        """Writes held back in memory: `flush` writes them before the next transaction or read (None: none)."""
        self._behind = flush

    @property
    def behind(self) -> Callable[[], None] | None:
        """The write of held-back rows that runs before the next access, if any."""
        return self._behind

    def _catch_up(self) -> None:
        """Write what is held back (once), so every access sees it."""
        flush, self._behind = self._behind, None
        if flush is not None:
            flush()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction: committed on normal exit (durably), rolled back on an exception."""
        with self._lock:
            if self._ddl is not None:
                self._create()
            if self._behind is not None:
                self._catch_up()
            cur = self._conn.cursor()
            for stmt in self.dialect.begin_write:
                cur.execute(stmt)
            try:
                yield Tx(cur, self.dialect)
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        """A read-only transaction (a consistent snapshot)."""
        with self._lock:
            if self._ddl is not None:
                self._create()
            if self._behind is not None:
                self._catch_up()
            cur = self._conn.cursor()
            for stmt in self.dialect.begin_read:
                cur.execute(stmt)
            try:
                yield Tx(cur, self.dialect)
            finally:
                cur.execute("ROLLBACK")

    def close(self) -> None:
        """Close the connection; rows held back are written first, or dropped with an in-memory store."""
        with self._lock:
            if self.durable:
                self._catch_up()
            self._behind = None
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.dialect.name}, {self.where!r}, durable={self.durable})"


def _redact(dsn: str) -> str:
    """A connection string with any password replaced by ***, for messages."""
    dsn = re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", dsn)
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", dsn, flags=re.IGNORECASE)
