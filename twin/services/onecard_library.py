"""The city library on the card (図書館カード): checkout, return and holds, by card tap or old card."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import polars as pl

from twin.clock import DAY
from twin.errors import Conflict, Forbidden, NotFound, ValidationError
from twin.events import Event, EventLog
from twin.services._checks import params_from_dict
from twin.services.onecard import Credential, OneCard

NOBODY = -1
Notify = Callable[[int, str, str, float], int]


@dataclass(frozen=True, slots=True)
class LibraryParams:
    """Loan rules (assumptions typical of Japanese city libraries, unverified)."""

    loan_days: int = 14
    max_loans: int = 10
    hold_pickup_days: int = 7

    def __post_init__(self) -> None:
        for name in ("loan_days", "max_loans", "hold_pickup_days"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValidationError(f"library.{name} must be an int >= 1, got {v!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LibraryParams:
        """Parameters from a design table; unknown keys are errors."""
        return params_from_dict(cls, data, "library")


@dataclass(frozen=True, slots=True)
class LibraryEvent(Event):
    """A library desk action: checkout, return, hold, hold_ready, hold_lapsed or refused."""

    action: str
    resident_id: int
    copy_id: int
    title_id: int
    detail: str
    kind: ClassVar[str] = "library"


class Library:
    """Copies as columns (title, borrower, due, reserved for); holds queue per title."""

    def __init__(
        self,
        onecard: OneCard,
        copies_per_title: np.ndarray,
        params: LibraryParams | None = None,
        events: EventLog | None = None,
        notify: Notify | None = None,
    ) -> None:
        counts = np.asarray(copies_per_title, dtype=np.int64)
        if counts.ndim != 1 or (counts < 0).any():
            raise ValidationError("copies_per_title must be a 1-d array of non-negative counts")
        self.onecard, self.params = onecard, params or LibraryParams()
        self.events = events if events is not None else onecard.events
        self.notify = notify
        self.title = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
        self.borrower = np.full(self.title.size, NOBODY, dtype=np.int64)
        self.due = np.full(self.title.size, np.nan)
        self.reserved_for = np.full(self.title.size, NOBODY, dtype=np.int64)
        self.reserved_until = np.full(self.title.size, np.nan)
        self.holds: dict[int, list[int]] = {}

    def _log(self, action: str, rid: int, copy_id: int, detail: str, now: float) -> None:
        """Record one desk action."""
        title = int(self.title[copy_id]) if 0 <= copy_id < self.title.size else -1
        self.events.append(LibraryEvent(now, action, int(rid), int(copy_id), title, detail))

    def _copy(self, copy_id: int) -> int:
        """A valid copy id."""
        if not 0 <= copy_id < self.title.size:
            raise NotFound(f"no copy {copy_id} (the library holds {self.title.size})")
        return int(copy_id)

    def _refuse(self, err: Exception, rid: int, copy_id: int, now: float) -> Exception:
        """Log a refusal; hand the error back."""
        self._log("refused", rid, copy_id, str(err), now)
        return err

    def checkout(self, credential: Credential, copy_id: int, now: float) -> float:
        """Lend a copy; returns its due time. Overdue loans, full quotas and others' holds refuse."""
        rid = self.onecard.holder("library", credential, now)
        c = self._copy(copy_id)
        self._lapse(c, now)
        mine = self.borrower == rid
        if self.borrower[c] != NOBODY:
            raise self._refuse(Conflict(f"copy {c} is already on loan"), rid, c, now)
        if self.reserved_for[c] not in (NOBODY, rid):
            raise self._refuse(Conflict(f"copy {c} is held for another member"), rid, c, now)
        if (mine & (self.due < now)).any():
            raise self._refuse(
                Forbidden("return your overdue items before borrowing more"), rid, c, now
            )
        if mine.sum() >= self.params.max_loans:
            raise self._refuse(
                Forbidden(f"the limit is {self.params.max_loans} items"), rid, c, now
            )
        self.borrower[c], self.due[c] = rid, now + self.params.loan_days * DAY
        self.reserved_for[c], self.reserved_until[c] = NOBODY, np.nan
        queue = self.holds.get(int(self.title[c]), [])
        if rid in queue:
            queue.remove(rid)
        self._log("checkout", rid, c, "", now)
        return float(self.due[c])

    def return_copy(self, copy_id: int, now: float) -> int:
        """Take a copy back (any desk or book drop); returns days late (0 when on time)."""
        c = self._copy(copy_id)
        rid = int(self.borrower[c])
        if rid == NOBODY:
            raise Conflict(f"copy {c} is not on loan")
        late = max(0, int(np.ceil((now - self.due[c]) / DAY)))
        self.borrower[c], self.due[c] = NOBODY, np.nan
        self._log("return", rid, c, f"{late} days late" if late else "", now)
        self._next_hold(c, now)
        return late

    def place_hold(self, credential: Credential, title_id: int, now: float) -> int:
        """Queue for a title whose copies are all out; returns the place in the queue (1 = next)."""
        rid = self.onecard.holder("library", credential, now)
        copies = np.flatnonzero(self.title == title_id)
        if copies.size == 0:
            raise NotFound(f"the library has no copy of title {title_id}")
        for c in copies:
            self._lapse(int(c), now)
        free = (self.borrower[copies] == NOBODY) & (self.reserved_for[copies] == NOBODY)
        if free.any():
            raise self._refuse(
                Conflict(f"copy {int(copies[free][0])} is on the shelf; borrow it"),
                rid,
                int(copies[0]),
                now,
            )
        queue = self.holds.setdefault(int(title_id), [])
        if rid in queue or (self.borrower[copies] == rid).any():
            raise self._refuse(
                Conflict(f"member {rid} already holds or has title {title_id}"),
                rid,
                int(copies[0]),
                now,
            )
        queue.append(rid)
        self._log("hold", rid, int(copies[0]), f"place {len(queue)}", now)
        return len(queue)

    def _next_hold(self, c: int, now: float) -> None:
        """Set a returned copy aside for the first member in its title's queue and tell them."""
        queue = self.holds.get(int(self.title[c]), [])
        if not queue:
            return
        rid = queue.pop(0)
        self.reserved_for[c] = rid
        self.reserved_until[c] = now + self.params.hold_pickup_days * DAY
        self._log("hold_ready", rid, c, "", now)
        if self.notify is not None:
            self.notify(
                rid,
                "library:hold_ready",
                f"Your hold is ready: copy {c}; collect it within {self.params.hold_pickup_days} days.",
                now,
            )

    def _lapse(self, c: int, now: float) -> None:
        """Release a reservation nobody collected in time, to the next in the queue."""
        if self.reserved_for[c] != NOBODY and now > self.reserved_until[c]:
            self._log("hold_lapsed", int(self.reserved_for[c]), c, "", now)
            self.reserved_for[c], self.reserved_until[c] = NOBODY, np.nan
            self._next_hold(c, now)

    def loans(self, resident_id: int) -> pl.DataFrame:
        """A member's loans: copy, title, due."""
        c = np.flatnonzero(self.borrower == resident_id)
        return pl.DataFrame(
            {"copy_id": c.astype(np.int64), "title_id": self.title[c], "due": self.due[c]}
        )
