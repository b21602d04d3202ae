"""A reader's durable tap queue (未送信キュー): SQLite, so taps survive a crash or power cut.

A tap is written in one transaction only after the whole card read succeeded, so a card
pulled out mid-read leaves no row. Rows stay `pending` until the endpoint answers for them;
then they become `synced` (recorded or duplicate) or `rejected` (a final refusal, kept with
its reason). Resending a pending tap is safe: the endpoint is idempotent by tap id.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from devices.contract import Tap, TapResult
from twin.errors import Conflict

_SCHEMA = """
CREATE TABLE IF NOT EXISTS taps (
    tap_id     TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    read_at    REAL NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'synced', 'rejected')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    answer     TEXT,
    settled_at REAL
);
CREATE INDEX IF NOT EXISTS taps_pending ON taps (state, read_at);
"""


@dataclass(frozen=True, slots=True)
class QueueCounts:
    """How many taps are in each state."""

    pending: int
    synced: int
    rejected: int


class TapQueue:
    """Taps waiting to be sent, and the record of what the endpoint answered."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a tap acknowledged to the person is on disk
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            self._db.close()

    def add(self, tap: Tap) -> None:
        """Store a complete tap as pending (one transaction); the same tap twice is a no-op."""
        body = json.dumps(tap.to_json(), sort_keys=True, ensure_ascii=False)
        with self._lock:
            row = self._db.execute("SELECT body FROM taps WHERE tap_id = ?", (tap.tap_id,)).fetchone()
            if row is not None:
                if row[0] != body:
                    raise Conflict(f"tap {tap.tap_id} is already queued with a different body")
                return
            self._db.execute("INSERT INTO taps (tap_id, body, read_at) VALUES (?, ?, ?)",
                             (tap.tap_id, body, tap.at))

    def pending(self, limit: int = 500) -> list[Tap]:
        """The oldest pending taps, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM taps WHERE state = 'pending' ORDER BY read_at, tap_id LIMIT ?", (limit,)
            ).fetchall()
        return [Tap.from_json(json.loads(body)) for (body,) in rows]

    def attempted(self, tap_ids: list[str]) -> None:
        """Count one send attempt for each tap."""
        with self._lock:
            self._db.executemany("UPDATE taps SET attempts = attempts + 1 WHERE tap_id = ?",
                                 [(t,) for t in tap_ids])

    def settle(self, results: list[TapResult], now: float) -> None:
        """Record the endpoint's answers (all in one transaction)."""
        rows = [("rejected" if r.status == "rejected" else "synced",
                 json.dumps(r.to_json(), sort_keys=True, ensure_ascii=False), now, r.tap_id)
                for r in results]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "UPDATE taps SET state = ?, answer = ?, settled_at = ? WHERE tap_id = ? AND state = 'pending'",
                    rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def counts(self) -> QueueCounts:
        """Pending, synced and rejected taps."""
        with self._lock:
            got = dict(self._db.execute("SELECT state, COUNT(*) FROM taps GROUP BY state").fetchall())
        return QueueCounts(got.get("pending", 0), got.get("synced", 0), got.get("rejected", 0))

    def answer(self, tap_id: str) -> tuple[str, TapResult | None] | None:
        """A tap's state and the endpoint's answer (None if the tap is unknown)."""
        with self._lock:
            row = self._db.execute("SELECT state, answer FROM taps WHERE tap_id = ?", (tap_id,)).fetchone()
        if row is None:
            return None
        return row[0], TapResult.from_json(json.loads(row[1])) if row[1] else None
