"""Shelter readers: registering and retiring them, their network state, offline queues and syncs.

`ShelterReaders` is the part of `ShelterNetwork` that manages the card readers at shelter desks
(the check-in rules themselves are in `shelters.py`): which shelter a reader belongs to, whether
it is online, its queue of taps made while offline and their sync (see `shelter_offline`).
"""

from __future__ import annotations

from collections.abc import Callable

from twin.errors import Conflict
from twin.services import shelter_offline
from twin.services.card_serials import finite_time
from twin.services.safety_events import ReaderRegistered, ReaderStatusChanged
from twin.services.shelter_types import TapResult, UnknownReader


class ShelterReaders:
    """`ShelterNetwork`'s readers (a mixin: the network holds the state it reads and writes)."""

    def register_reader(self, shelter_id: int, now: float, journal: shelter_offline.Journal | None = None) -> int:
        """Register a new reader at a shelter; returns its reader id. A journal with rows resumes its queue
        (its tap ids must belong to the new id)."""
        s = self.shelter_index(shelter_id)
        rid = len(self.online) + 1
        while rid in self.online:
            rid += 1
        self.readers[rid], self.online[rid] = s, True
        self.reader_epoch += 1
        rows = journal.rows() if journal is not None else []
        self.queues[rid] = shelter_offline.TapQueue.from_rows(rid, rows, journal)  # a reused journal resumes
        self.events.append(ReaderRegistered(finite_time(now), rid, int(shelter_id)))
        return rid

    def retire_reader(self, reader_id: int, now: float) -> None:
        """Take a reader out of service; one with unsynced taps must sync first."""
        self.reader_shelter(reader_id, now, serial=-1)
        if self.queues[reader_id].pending():
            raise Conflict(f"reader {reader_id} still holds {len(self.queues[reader_id].pending())} "
                           "unsynced taps; bring it online and sync before retiring it")
        del self.readers[reader_id], self.queues[reader_id]
        self.reader_epoch += 1

    def reader_shelter(self, reader_id: int, now: float, serial: int) -> int:
        """The shelter index of a registered reader; an unregistered one is refused and logged."""
        s = self.readers.get(reader_id)
        if s is None:
            self.refuse(now, reader_id, serial, UnknownReader.code, -1)
            raise UnknownReader(f"reader {reader_id!r} is not registered to any shelter; the tap was "
                                "not recorded (register the reader at the shelter desk first)")
        return s

    def set_online(self, reader_id: int, online: bool, now: float) -> shelter_offline.SyncReport | None:
        """Mark a reader off or on the network; coming back online syncs its queue."""
        self.reader_shelter(reader_id, now, serial=-1)
        self.online[reader_id] = bool(online)
        self.reader_epoch += 1
        self.events.append(ReaderStatusChanged(finite_time(now), reader_id, bool(online)))
        return self.sync(reader_id, now) if online else None

    def sync(self, reader_id: int, now: float) -> shelter_offline.SyncReport:
        """Send a reader's queued taps to the server and drop the ones it processed."""
        return shelter_offline.sync_reader(self, reader_id, now)

    def apply_synced(self, reader_id: int, rows: list[dict], now: float) -> shelter_offline.SyncReport:
        """Apply queued tap rows from a reader exactly once (idempotent by tap id)."""
        return shelter_offline.apply_rows(self, reader_id, rows, now)

    def accept_tap(self, reader_id: int, tap, now: float) -> TapResult:
        """Check in from a card reader's `Tap` (its identity already established), once per tap id."""
        return shelter_offline.accept_reader_tap(self, reader_id, tap, now)

    def reader_sink(self, reader_id: int) -> Callable[[object], TapResult]:
        """A `sink` for `twin.reader.Reader`: its taps land at this reader's shelter (refusals raise)."""
        if reader_id not in self.readers:
            raise UnknownReader(f"reader {reader_id!r} is not registered to any shelter; register it first")
        return lambda tap: self.accept_tap(reader_id, tap, tap.at)

    def restore_reader(self, reader_id: int, rows: list[dict], journal: shelter_offline.Journal | None = None) -> None:
        """Replace a dead reader's queue with one rebuilt from its persisted rows."""
        if reader_id not in self.readers:
            raise UnknownReader(f"reader {reader_id!r} is not registered; nothing to restore")
        self.queues[reader_id] = shelter_offline.TapQueue.from_rows(reader_id, rows, journal)
