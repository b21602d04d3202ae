"""The shelter tap register (受付記録): every check-in attempt as columns, cheap to append."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from twin.services.shelter_outcomes import NAMES as OUTCOME_NAMES

COLUMNS = ("at", "channel", "reader_id", "shelter", "resident_id", "outcome", "reason", "redirect", "queue_id")


class RunColumns:
    """Rows written by compiled code (`shelter_run_kernel`): typed columns with room to grow.

    `at[k]` and `ints[:, k]` = (card?, reader id or -1, shelter, resident or -1, outcome, queue id,
    the shelter's desk count and identified count after the row); `n` rows so far. `form_at` and
    `form_ints` are room for one call's paper forms (at; shelter, written resident, true resident)."""

    __slots__ = ("at", "ints", "n", "form_at", "form_ints", "state")

    def __init__(self) -> None:
        self.at, self.ints = np.empty(0), np.empty((8, 0), dtype=np.int64)
        self.form_at, self.form_ints = np.empty(0), np.empty((3, 0), dtype=np.int64)
        self.n = 0
        self.state: tuple | None = None  # what the compiled code reads and writes (`shelter_run._state`)

    def __getstate__(self) -> dict:
        """The rows, without `state` (views of the network's arrays: a copy would not be theirs)."""
        return {name: getattr(self, name) for name in self.__slots__ if name != "state"}

    def __setstate__(self, values: dict) -> None:
        """Restored from `__getstate__`."""
        for name, value in values.items():
            setattr(self, name, value)
        self.state = None

    def room(self, rows: int) -> None:
        """Make room for `rows` more rows (and forms); the rows grow 4-fold (fresh memory costs a page
        fault per 4 kB touched: few, large allocations)."""
        size = self.at.size
        if self.n + rows > size:
            size = max(4 * size, self.n + rows, 16384)
            at, ints = np.empty(size), np.empty((8, size), dtype=np.int64)
            at[:self.n], ints[:, :self.n] = self.at[:self.n], self.ints[:, :self.n]
            self.at, self.ints = at, ints
        if rows > self.form_at.size:
            self.form_at, self.form_ints = np.empty(2 * rows), np.empty((3, 2 * rows), dtype=np.int64)

    def columns(self, a: int, b: int) -> dict[str, list]:
        """Rows a to b - 1 in `COLUMNS` order, as lists."""
        i = self.ints[:, a:b].tolist()
        n = b - a
        return {"at": self.at[a:b].tolist(), "channel": ["card" if c else "paper" for c in i[0]],
                "reader_id": i[1], "shelter": i[2], "resident_id": i[3], "outcome": i[4], "reason": [""] * n,
                "redirect": [-1] * n, "queue_id": i[5]}


class TapRegister:
    """Append-only attempts; shelter columns hold internal indices until `to_frame`.

    Single attempts are appended as row tuples (one cheap append each), runs of rows written by
    compiled code stay in `run` (`ran` marks their place among the row tuples); both are folded
    into the columns before a batch is added or the register is read, so the order is kept.
    """

    __slots__ = ("facility_ids", "cols", "_rows", "append_row", "run", "_marks")

    def __init__(self, facility_ids: np.ndarray) -> None:
        self.facility_ids = np.asarray(facility_ids, dtype=np.int64)
        self.cols: dict[str, list] = {c: [] for c in COLUMNS}
        self._rows: list[tuple] = []
        self.append_row = self._rows.append  # the hot path: one row tuple in COLUMNS order
        self.run = RunColumns()
        self._marks: list[list[int]] = []  # [row tuples before, first run row, end run row, ...]

    def __len__(self) -> int:
        return len(self.cols["at"]) + len(self._rows) + self.run.n

    def ran(self, a: int, b: int) -> None:
        """Rows a to b - 1 of `run` were just written (after the row tuples appended so far)."""
        marks, k = self._marks, len(self._rows)
        if marks and marks[-1][0] == k and marks[-1][2] == a:
            marks[-1][2] = b
        else:
            marks.append([k, a, b])

    def add(self, at: float, channel: str, reader_id: int, shelter: int, resident_id: int,
            outcome: int, reason: str, redirect: int, queue_id: int) -> None:
        """Append one attempt (ints are stored as given: pass Python ints)."""
        self._rows.append((at, channel, reader_id, shelter, resident_id, outcome, reason, redirect, queue_id))

    def _fold(self) -> None:
        """Move the pending row tuples and runs into the columns, in their order."""
        rows, cols = self._rows, self.cols
        done = 0
        for k, a, b, *_ in self._marks:
            _fold_rows(cols, rows[done:k])
            for name, values in self.run.columns(a, b).items():
                cols[name].extend(values)
            done = k
        _fold_rows(cols, rows[done:])
        rows.clear()
        self._marks.clear()
        self.run.n = 0

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


def _fold_rows(cols: dict[str, list], rows: list[tuple]) -> None:
    """Append row tuples to the columns."""
    if rows:
        for name, values in zip(COLUMNS, zip(*rows, strict=True), strict=True):
            cols[name].extend(values)
