"""Views of a shelter network: per-shelter counts, a resident's record, paper staff, history.

`ShelterViews` is the read side of `ShelterNetwork` (and the one setting a scenario sizes desks
by); the check-in rules are in `shelters.py`.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from twin.errors import Conflict
from twin.services.safety_validate import check_int
from twin.services.shelter_history import RecordingRegister, ShelterHistory


class ShelterViews:
    """`ShelterNetwork`'s views (a mixin: the network holds the state they read)."""

    def set_staff(self, shelter_id: int, staff: int) -> None:
        """Set how many staff take paper forms at a shelter (a scenario sizes the paper desk by it)."""
        check_int("staff", staff, 0, 1000)
        self.staff[self.shelter_index(shelter_id)] = staff

    def occupancy(self) -> pl.DataFrame:
        """Per shelter: capacity, readers (and how many are online), paper forms waiting for
        transcription, paper staff, desk count, server count (identified + anonymous), free places."""
        cap, occ, reg, anon = (np.array(v, dtype=np.int64) for v in (self.cap, self.occ, self.reg, self.anon))
        readers = np.bincount(np.fromiter(self.readers.values(), np.int64, len(self.readers)),
                              minlength=cap.size)
        up = [s for r, s in self.readers.items() if self.online[r]]
        online = np.bincount(np.asarray(up, dtype=np.int64), minlength=cap.size)
        waiting = np.asarray(self.paper.shelter[self.paper.next_pending:], dtype=np.int64)
        return pl.DataFrame({"shelter_id": self.facility_ids, "capacity": cap, "readers": readers,
                             "readers_online": online,
                             "paper_pending": np.bincount(waiting, minlength=cap.size),
                             "paper_staff": np.array(self.staff, dtype=np.int64), "desk_count": occ,
                             "registered": reg, "identified": reg - anon, "anonymous": anon,
                             "free": np.maximum(cap - occ, 0)})

    def record_history(self) -> None:
        """From now on note the counts after every register row, for `history` (reads answered later)."""
        if not isinstance(self.taps, RecordingRegister):
            self.taps = RecordingRegister(self)

    def history(self) -> ShelterHistory:
        """Each shelter's counts and each resident's record over time since `record_history`."""
        if not isinstance(self.taps, RecordingRegister):
            raise Conflict("this network keeps no history; call record_history() before the changes")
        return self.taps.history()

    def location_of(self, resident_id: int) -> tuple[int | None, float | None]:
        """Where the shelter system records a resident (facility id or None) and since when."""
        rid = self.resident_index(resident_id)
        s = int(self.where[rid])
        return (None, None) if s < 0 else (int(self.facility_ids[s]), float(self.since[rid]))
