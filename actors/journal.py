"""The command journal (操作記録) behind each actor: what changed its state, in order, durably.

An actor applies a command to its twin aggregate, then commits the command (and the answers
it gave under idempotency keys) in one transaction before it replies. A restarted actor
rebuilds the aggregate from the city and replays the journal through the same code, so it
answers as before; a repeated key gets its first answer back from `answers`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from twin.store import Store

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS twin_journal (seq ID PRIMARY KEY, op TEXT NOT NULL, body TEXT NOT NULL, "
    "at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS twin_answers (idem_key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, "
    "answer TEXT NOT NULL, status BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS twin_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


@dataclass(frozen=True, slots=True)
class Answer:
    """The first answer given under an idempotency key, with what the request looked like."""

    fingerprint: str
    answer: dict[str, Any]
    status: int


@dataclass(frozen=True, slots=True)
class Entry:
    """One journaled command."""

    seq: int
    op: str
    body: dict[str, Any]
    at: float


_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def dumps(value: Any) -> str:
    """Compact JSON for stored bodies and answers (read back by `json.loads`); orjson when it can
    (several times faster), the standard encoder for what orjson refuses (integers beyond 64 bits,
    such as a generator's saved state) and for NaN, which orjson would turn into null."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        return _ENCODE(value)
    return _ENCODE(value) if "null" in text and _has_nan(value) else text


def _has_nan(value: Any) -> bool:
    """Whether a float NaN or infinity hides in a JSON-like value."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_nan(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_nan(v) for v in value)
    return False


class Journal:
    """Append-only commands and keyed answers on one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.ensure_schema("journal", SCHEMA)
        with store.reading() as tx:
            self._next = int(tx.scalar("SELECT COALESCE(MAX(seq), 0) FROM twin_journal")) + 1

    def entries(self, batch: int = 5_000, after: int = 0) -> Iterator[Entry]:
        """Every command after position `after`, in order (read in pages, so a long journal is not held at once)."""
        last = after
        while True:
            with self.store.reading() as tx:
                rows = tx.query("SELECT seq, op, body, at FROM twin_journal WHERE seq > ? ORDER BY seq LIMIT ?",
                                (last, batch))
            for seq, op, body, at in rows:
                yield Entry(int(seq), op, json.loads(body), float(at))
            if len(rows) < batch:
                return
            last = int(rows[-1][0])

    def answers(self) -> dict[str, Answer]:
        """Every keyed answer given so far."""
        with self.store.reading() as tx:
            rows = tx.query("SELECT idem_key, fingerprint, answer, status FROM twin_answers")
        return {k: Answer(fp, json.loads(a), int(s)) for k, fp, a, s in rows}

    def commit(self, commands: Sequence[tuple[str, dict[str, Any], float]],
               answers: Iterable[tuple[str, Answer]] = ()) -> None:
        """Write commands and answers in one transaction (durable when this returns)."""
        rows = []
        for op, body, at in commands:
            rows.append((self._next + len(rows), op, dumps(body), float(at)))
        keyed = [(k, a.fingerprint, dumps(a.answer), int(a.status)) for k, a in answers]
        if not rows and not keyed:
            return
        with self.store.transaction() as tx:
            tx.executemany("INSERT INTO twin_journal (seq, op, body, at) VALUES (?, ?, ?, ?)", rows)
            tx.executemany("INSERT INTO twin_answers (idem_key, fingerprint, answer, status) VALUES (?, ?, ?, ?)",
                           keyed)
        self._next += len(rows)

    def meta(self, name: str, default: str | None = None) -> str | None:
        """A stored setting (e.g. a key generated on first start)."""
        with self.store.reading() as tx:
            value = tx.scalar("SELECT value FROM twin_meta WHERE name = ?", (name,))
        return default if value is None else str(value)

    def set_meta(self, name: str, value: str) -> None:
        """Store a setting once; an existing value is kept (first writer wins)."""
        with self.store.transaction() as tx:
            if tx.scalar("SELECT value FROM twin_meta WHERE name = ?", (name,)) is None:
                tx.execute("INSERT INTO twin_meta (name, value) VALUES (?, ?)", (name, value))

    def __len__(self) -> int:
        return self._next - 1
