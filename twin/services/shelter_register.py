"""The shelter tap register (受付記録): every check-in attempt as columns, cheap to append."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from twin.services.shelter_outcomes import NAMES as OUTCOME_NAMES

COLUMNS = ("at", "channel", "reader_id", "shelter", "resident_id", "outcome", "reason", "redirect", "queue_id")


class TapRegister:
    """Append-only attempts; shelter columns hold internal indices until `to_frame`.

    Single attempts are appended as row tuples (one cheap append each) and folded into the
    columns before a batch is added or the register is read, so the order is kept.
    """

    __slots__ = ("facility_ids", "cols", "_rows", "append_row")

    def __init__(self, facility_ids: np.ndarray) -> None:
        self.facility_ids = np.asarray(facility_ids, dtype=np.int64)
        self.cols: dict[str, list] = {c: [] for c in COLUMNS}
        self._rows: list[tuple] = []
        self.append_row = self._rows.append  # the hot path: one row tuple in COLUMNS order

    def __len__(self) -> int:
        return len(self.cols["at"]) + len(self._rows)

    def add(self, at: float, channel: str, reader_id: int, shelter: int, resident_id: int,
            outcome: int, reason: str, redirect: int, queue_id: int) -> None:
        """Append one attempt (ints are stored as given: pass Python ints)."""
        self._rows.append((at, channel, reader_id, shelter, resident_id, outcome, reason, redirect, queue_id))

    def _fold(self) -> None:
        """Move the pending row tuples into the columns."""
        if self._rows:
            for name, values in zip(COLUMNS, zip(*self._rows, strict=True), strict=True):
                self.cols[name].extend(values)
            self._rows.clear()

    def extend(self, columns: dict[str, Sequence]) -> None:
        """Append many attempts given as equal-length columns (lists)."""
        self._fold()
        for name in COLUMNS:
            self.cols[name].extend(columns[name])

    def extend_noted(self, columns: dict[str, Sequence], occ: np.ndarray, ident: np.ndarray) -> None:
        """`extend`, given each row's shelter counts right after it (desk, identified): a register
        that keeps counts over time notes them (`RecordingRegister`). The rows wait as row tuples,
        as single attempts do (no fold)."""
        self._rows.extend(zip(*(columns[name] for name in COLUMNS), strict=True))

    def _facility(self, idx: list[int]) -> np.ndarray:
        """Facility ids for internal shelter indices (-1 stays -1)."""
        a = np.asarray(idx, dtype=np.int64)
        if self.facility_ids.size == 0:
            return a
        return np.where(a >= 0, self.facility_ids[np.maximum(a, 0)], -1)

    def columns(self, start: int = 0, names: Sequence[str] = ("outcome", "reason", "resident_id", "shelter_id",
                                                                   "redirect_to")) -> dict[str, list]:
        """Some of `to_frame`'s columns from row `start` on, as plain lists (no frame to build)."""
        self._fold()
        raw = {"shelter_id": "shelter", "redirect_to": "redirect"}
        out: dict[str, list] = {}
        for name in names:
            values = self.cols[raw.get(name, name)][start:]
            if name in raw:
                values = self._facility(values).tolist()
            elif name == "outcome":
                values = [OUTCOME_NAMES[o] for o in values]
            out[name] = values
        return out

    def to_frame(self, start: int = 0) -> pl.DataFrame:
        """Rows from `start` on: at, channel, reader_id, shelter_id, resident_id, outcome, reason,
        redirect_to, queue_id (the offline tap id or paper form id); facility ids; -1 where none."""
        self._fold()
        c = {k: v[start:] for k, v in self.cols.items()}
        return pl.DataFrame({
            "at": np.asarray(c["at"], dtype=np.float64),
            "channel": pl.Series(c["channel"], dtype=pl.Utf8),
            "reader_id": np.asarray(c["reader_id"], dtype=np.int64),
            "shelter_id": self._facility(c["shelter"]),
            "resident_id": np.asarray(c["resident_id"], dtype=np.int64),
            "outcome": pl.Series(c["outcome"], dtype=pl.Int64).replace_strict(
                list(range(len(OUTCOME_NAMES))), list(OUTCOME_NAMES), return_dtype=pl.Utf8),
            "reason": pl.Series(c["reason"], dtype=pl.Utf8),
            "redirect_to": self._facility(c["redirect"]),
            "queue_id": np.asarray(c["queue_id"], dtype=np.int64),
        })
