"""Readers offline (オフライン受付): store-and-forward taps, synced later exactly once.

An offline reader still admits people: it writes each tap (a unique tap id, the serial, the
time) to its journal BEFORE acknowledging it, so a reader that dies after the beep loses
nothing; a rebuilt queue (`TapQueue.from_rows`) resends it. The server applies each tap id
once: a replay of an applied row is skipped, a row altered under a known tap id is refused.
Tap ids are `reader_id << 32 | sequence`, so two readers can never collide.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from twin.errors import Conflict, TwinError, ValidationError
from twin.services.card_serials import finite_time
from twin.services.safety_events import CheckInRefused, OfflineBatchSynced, SyncRowRejected
from twin.services.shelter_outcomes import FULL, HERE, IN, MOVED, NO_ROOM, QUEUED, REFUSED, Outcome
from twin.services.shelter_types import TapResult

if TYPE_CHECKING:
    from twin.services.shelters import ShelterNetwork

SEQ_BITS = 32


class Journal(Protocol):
    """Durable append-only rows (the live deployment keeps them in its database)."""

    def append(self, row: dict[str, Any]) -> None:
        """Persist one row before returning."""
        ...

    def rows(self) -> list[dict[str, Any]]:
        """Every row persisted so far, in order."""
        ...

    def rewrite(self, rows: list[dict[str, Any]]) -> None:
        """Replace every row at once (compaction); either all of `rows` persist or none."""
        ...


class MemoryJournal:
    """A journal in a list: survives the queue object, not the process (tests, scenarios)."""

    def __init__(self) -> None:
        self._rows: list[dict[str, Any]] = []

    def append(self, row: dict[str, Any]) -> None:
        """Keep a copy of the row."""
        self._rows.append(dict(row))

    def rows(self) -> list[dict[str, Any]]:
        """Copies of every row."""
        return [dict(r) for r in self._rows]

    def rewrite(self, rows: list[dict[str, Any]]) -> None:
        """Replace every row."""
        self._rows = [dict(r) for r in rows]


class JsonlJournal:
    """A journal file of JSON lines, fsynced per row; a torn last line (a crash mid-write) is cut off on open."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._cut_torn_tail()

    def _cut_torn_tail(self) -> None:
        """Truncate the file after its last complete line, so new rows start on a line of their own."""
        if not self.path.exists():
            return
        with open(self.path, "rb+") as f:
            data = f.read()
            keep = data.rfind(b"\n") + 1
            if keep != len(data):
                f.truncate(keep)
                f.flush()
                os.fsync(f.fileno())

    def append(self, row: dict[str, Any]) -> None:
        """Write one line and fsync it before returning (the tap is acknowledged only after)."""
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def rewrite(self, rows: list[dict[str, Any]]) -> None:
        """Replace the file atomically: write a sibling, fsync it, rename it over the journal."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, sort_keys=True) + "\n" for r in rows)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def rows(self) -> list[dict[str, Any]]:
        """Every complete line written so far."""
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a write cut short by a crash: it was never acknowledged
        return out


class TapQueue:
    """One reader's unsynced taps; every change goes to its journal first."""

    def __init__(self, reader_id: int, journal: Journal | None = None) -> None:
        self.reader_id = int(reader_id)
        self.journal: Journal = journal if journal is not None else MemoryJournal()
        self._pending: dict[int, dict[str, Any]] = {}
        self._serials: set[int] = set()
        self._next_seq = 1

    @classmethod
    def from_rows(cls, reader_id: int, rows: list[dict[str, Any]], journal: Journal | None = None) -> TapQueue:
        """Rebuild a queue from its persisted rows (taps, confirmations, a sequence watermark)."""
        q = cls(reader_id, journal)
        for row in rows:
            q._replay(row)
        return q

    def _replay(self, row: dict[str, Any]) -> None:
        """Apply one persisted row to the in-memory state."""
        kind = row.get("type")
        if kind == "tap":
            tap_id = int(row["tap_id"])
            if tap_id >> SEQ_BITS != self.reader_id:
                raise ValidationError(f"tap {tap_id} belongs to reader {tap_id >> SEQ_BITS}, not {self.reader_id}")
            self._pending[tap_id] = {k: row[k] for k in ("type", "tap_id", "reader_id", "serial", "at")}
            self._serials.add(int(row["serial"]))
            self._next_seq = max(self._next_seq, (tap_id & (2**SEQ_BITS - 1)) + 1)
        elif kind == "confirm":
            for tap_id in row["tap_ids"]:
                gone = self._pending.pop(int(tap_id), None)
                if gone is not None:
                    self._serials.discard(int(gone["serial"]))
        elif kind == "watermark":
            self._next_seq = max(self._next_seq, int(row["next_seq"]))
        else:
            raise ValidationError(f"unknown journal row type {kind!r}; expected tap, confirm or watermark")

    def holds(self, serial: int) -> bool:
        """Whether an unsynced tap of this card is already queued here."""
        return serial in self._serials

    def enqueue(self, serial: int, now: float) -> int:
        """Persist a tap and return its id (the acknowledgement)."""
        tap_id = (self.reader_id << SEQ_BITS) | self._next_seq
        row = {"type": "tap", "tap_id": tap_id, "reader_id": self.reader_id, "serial": int(serial), "at": float(now)}
        self.journal.append(row)  # durable before it is acknowledged
        self._replay(row)
        return tap_id

    def pending(self) -> list[dict[str, Any]]:
        """The unsynced tap rows, oldest first."""
        return [dict(r) for r in self._pending.values()]

    def confirm(self, tap_ids: list[int]) -> None:
        """Forget taps the server has processed (persisted, so a restart does not resend them)."""
        if tap_ids:
            row = {"type": "confirm", "tap_ids": [int(t) for t in tap_ids]}
            self.journal.append(row)
            self._replay(row)

    def to_rows(self) -> list[dict[str, Any]]:
        """The queue as compact rows: the sequence watermark, then the pending taps."""
        return [{"type": "watermark", "next_seq": self._next_seq}, *self.pending()]

    def compact(self) -> None:
        """Shrink the journal to `to_rows()` (confirmed taps dropped, the sequence kept)."""
        self.journal.rewrite(self.to_rows())


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one sync did: rows applied, replays skipped, rows refused, and the tap ids processed."""

    reader_id: int
    applied: int
    replayed: int
    refused: int
    processed: tuple[int, ...]


def queue_tap(net: ShelterNetwork, reader_id: int, s: int, serial: int, now: float) -> TapResult:
    """An offline reader admits a card holder at the desk and queues the tap for the server."""
    t = finite_time(now)
    q = net.queues[reader_id]
    fid = int(net.facility_ids[s])
    if q.holds(int(serial)):
        net.taps.add(t, "offline", reader_id, s, -1, HERE, "", -1, -1)
        return TapResult(Outcome.ALREADY_HERE, fid)
    if net.occ[s] >= net.cap[s]:
        red = net.nearest_with_room(s)
        out = FULL if red >= 0 else NO_ROOM
        net.taps.add(t, "offline", reader_id, s, -1, out, "", red, -1)
        return TapResult(Outcome(out), fid, -1, int(net.facility_ids[red]) if red >= 0 else None)
    tap_id = q.enqueue(int(serial), t)
    net.occ[s] += 1  # the desk let the person in
    net.taps.add(t, "offline", reader_id, s, -1, QUEUED, "", -1, tap_id)
    return TapResult(Outcome.QUEUED, fid, -1, None, tap_id)


def sync_reader(net: ShelterNetwork, reader_id: int, now: float) -> SyncReport:
    """Send an online reader's queue to the server, then drop what the server processed."""
    from twin.services.shelters import ReaderOffline

    net.reader_shelter(reader_id, now, serial=-1)
    if not net.online[reader_id]:
        raise ReaderOffline(f"reader {reader_id} is offline; its {len(net.queues[reader_id].pending())} "
                            "queued taps stay on the reader until it is back online")
    q = net.queues[reader_id]
    report = apply_rows(net, reader_id, q.pending(), now)
    q.confirm(list(report.processed))
    return report


def _check_row(row: Any, reader_id: int, now: float) -> tuple[int, int, float]:
    """A queued row's (tap id, serial, time), or a ValidationError saying what is wrong."""
    try:
        tap_id, serial, at = int(row["tap_id"]), int(row["serial"]), float(row["at"])
    except (KeyError, TypeError, ValueError) as e:
        raise ValidationError(f"malformed queued tap {row!r}: {e}") from None
    if tap_id >> SEQ_BITS != reader_id:
        raise ValidationError(f"tap {tap_id} was not issued by reader {reader_id}")
    if not at <= now:
        raise ValidationError(f"tap {tap_id} claims a time after the sync ({at} > {now})")
    return tap_id, serial, at


def apply_rows(net: ShelterNetwork, reader_id: int, rows: list[dict[str, Any]], now: float) -> SyncReport:
    """Apply queued taps at the server exactly once; replays skip, altered replays are refused."""
    t = finite_time(now)
    s = net.reader_shelter(reader_id, t, serial=-1)
    counts = {"applied": 0, "replayed": 0, "refused": 0}
    processed: list[int] = []
    for row in rows:
        kind, tap_id = _apply_one(net, reader_id, s, row, t)
        counts[kind] += 1
        if tap_id is not None:
            processed.append(tap_id)
    net.events.append(OfflineBatchSynced(t, reader_id, counts["applied"], counts["replayed"], counts["refused"]))
    return SyncReport(reader_id, counts["applied"], counts["replayed"], counts["refused"], tuple(processed))


def _apply_one(net: ShelterNetwork, reader_id: int, s: int, row: Any, now: float) -> tuple[str, int | None]:
    """Apply one row: ('applied' | 'replayed' | 'refused', its tap id if it had a valid one)."""
    try:
        tap_id, serial, at = _check_row(row, reader_id, now)
    except ValidationError as e:
        net.refuse(now, reader_id, -1, "malformed_tap", s, "offline")
        net.events.append(SyncRowRejected(now, reader_id, str(e)))
        return "refused", None
    seen = net.applied.get(tap_id)
    if seen is not None:
        if seen == (serial, at):
            return "replayed", tap_id
        net.refuse(now, reader_id, serial, "altered_replay", s, "offline")
        return "refused", tap_id
    net.applied[tap_id] = (serial, at)
    try:
        rid = net.resolver.resident_of(serial, at)
    except TwinError as e:
        net.anon[s] += 1  # admitted at the desk but not identified: counted, followed up
        net.reg[s] += 1
        net.events.append(CheckInRefused(now, reader_id, serial, e.code))
        net.taps.add(now, "offline", reader_id, s, -1, REFUSED, e.code, -1, tap_id)
        return "refused", tap_id
    settle(net, rid, s, at, now, reader_id, tap_id)
    return "applied", tap_id


def settle(net: ShelterNetwork, rid: int, s: int, at: float, now: float, reader_id: int, tap_id: int,
           channel: str = "offline") -> None:
    """Record a check-in the desk already admitted (no capacity check; a double count is undone)."""
    cur = int(net.where[rid])
    if cur == s:
        net.occ[s] = max(net.occ[s] - 1, 0)  # the desk counted this person twice
        out = HERE
    else:
        if cur >= 0:
            net.occ[cur] = max(net.occ[cur] - 1, 0)
            net.reg[cur] -= 1
        net.reg[s] += 1
        net.where[rid], net.since[rid] = s, at
        out = IN if cur < 0 else MOVED
    net.taps.add(now, channel, reader_id, s, rid, out, "", -1, tap_id)


def accept_reader_tap(net: ShelterNetwork, reader_id: int, tap: Any, now: float) -> TapResult:
    """A tap delivered by a card reader (`twin.reader.Tap`: identity already established), once per tap id.

    Online taps check in like any identity; a tap the reader queued offline was already let in
    at the desk, so it is settled without a capacity check. A redelivered tap changes nothing;
    a different tap under a known id is refused.
    """
    t = finite_time(now)
    s = net.reader_shelter(reader_id, t, int(getattr(tap, "serial", -1)))
    key, fingerprint = str(tap.tap_id), (int(tap.resident_id), int(tap.serial), float(tap.at))
    seen = net.reader_taps.get(key)
    if seen is not None:
        if seen == fingerprint:
            return TapResult(Outcome.ALREADY_HERE, int(net.facility_ids[s]), fingerprint[0])
        net.refuse(t, reader_id, fingerprint[1], "altered_replay", s, str(tap.method))
        raise Conflict(f"reader tap {key} was already delivered with other contents; the redelivery was refused")
    rid = net.resident_index(fingerprint[0])
    net.reader_taps[key] = fingerprint
    if not tap.offline:
        return net.admit(rid, s, fingerprint[2], str(tap.method), reader_id)
    net.occ[s] += 1  # the desk let the person in while the reader was offline
    settle(net, rid, s, fingerprint[2], t, reader_id, -1, str(tap.method))
    return TapResult(Outcome.CHECKED_IN, int(net.facility_ids[s]), rid)
