"""The shelter system's state over time, for reads answered after the fact (columns in, columns out).

`ShelterNetwork.record_history()` swaps the tap register for a `RecordingRegister`: every change
to a shelter's counts or to a resident's record is followed by a register row at that shelter
(admit, leave, offline queue and sync, paper form and entry), so noting the row's shelter counts
after each row (appends to typed columns) gives each shelter's counts over time. A row that moves a
resident between shelters (MOVED, rare) also notes every shelter's counts. The residents'
records over time (`where`) are noted from the same rows: every change of one has its own row
(IN, MOVED to the row's shelter; CHECKED_OUT to none). `history()` refuses to answer if the
network ended anywhere else (a change made past the register). `ShelterHistory` answers "as of time t"
for many (shelter or resident, t) at once: the state after every row at or before t, the rows
of one time in the order they were written. Rows added in a batch (`check_in_many`) are noted
with the counts after the whole batch.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from twin.errors import Conflict
from twin.services.shelter_outcomes import CHECKED_OUT, IN, MOVED
from twin.services.shelter_register import TapRegister
from twin.sorted_search import search_sorted

if TYPE_CHECKING:
    from twin.services.shelters import ShelterNetwork

def last_at_or_before(keys: np.ndarray, times: np.ndarray, ask_keys: np.ndarray,
                      ask_times: np.ndarray) -> np.ndarray:
    """For each ask, the index of the last entry with its key and a time <= the ask's (-1: none)."""
    return AsOfIndex(keys, times).find(ask_keys, ask_times)


class AsOfIndex:
    """Entries (key, time) in the order they happened, sorted once to answer many 'as of' asks.

    Entries of one key and time count in their given order (the last one wins). Keys are
    non-negative ints; times any floats (entries already in time order, as a run's, skip a sort)."""

    __slots__ = ("_times", "_width", "_order", "_sorted")

    def __init__(self, keys: np.ndarray, times: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.int64)
        times = np.asarray(times, dtype=np.float64)
        n = times.size
        by_time = None
        if n < 2 or bool((times[1:] >= times[:-1]).all()):
            self._times, rank = times, np.arange(n, dtype=np.int64)
        else:
            by_time = np.argsort(times, kind="stable")
            self._times, rank = times[by_time], np.empty(n, dtype=np.int64)
            rank[by_time] = np.arange(n, dtype=np.int64)
        self._width = np.int64(n + 1)
        entry = keys * self._width + rank + 1  # entry j is at or before t iff rank + 1 <= #times <= t
        if n and 0 <= keys.min() and keys.max() < 2**16:  # few keys (shelters): by key, then rank
            small = (keys if by_time is None else keys[by_time]).astype(np.uint16)
            by_key = np.argsort(small, kind="stable")  # a radix sort
            self._order = by_key if by_time is None else by_time[by_key]
        else:  # entries are distinct (one rank each): any sort is this order
            self._order = np.argsort(entry)
        self._sorted = entry[self._order]

    def last_of_each_key(self) -> tuple[np.ndarray, np.ndarray]:
        """Each key's last entry (by time, then given order): the keys and the entries' indices."""
        key = self._sorted // self._width
        last = np.r_[key[1:] != key[:-1], True] if key.size else np.zeros(0, dtype=bool)
        return key[last], self._order[last]

    def find(self, ask_keys: np.ndarray, ask_times: np.ndarray) -> np.ndarray:
        """Per ask, the index of the last entry with its key at or before its time (-1: none)."""
        ask_keys = np.asarray(ask_keys, dtype=np.int64)
        if self._sorted.size == 0 or ask_keys.size == 0:
            return np.full(ask_keys.size, -1, dtype=np.int64)
        upto = search_sorted(self._times, np.asarray(ask_times, dtype=np.float64), side="right")
        pos = search_sorted(self._sorted, ask_keys * self._width + upto, side="right") - 1
        hit = pos >= 0
        hit[hit] = self._sorted[pos[hit]] // self._width == ask_keys[hit]
        return np.where(hit, self._order[np.maximum(pos, 0)], -1)


class RecordingRegister(TapRegister):
    """A tap register that notes the counts of each row's shelter right after the row.

    It holds the network's count lists and record array, not the network, and its hot-path
    function holds neither it nor the network: no reference cycle keeps a run's notes waiting
    for the cycle collector."""

    __slots__ = ("start", "occ0", "ident0", "where0", "_counts", "_records", "_state")

    def __init__(self, net: ShelterNetwork) -> None:
        old = net.taps
        super().__init__(old.facility_ids)
        old._fold()
        self.cols = old.cols  # the rows so far stay; the history starts after them
        self.start = len(old)
        occ, reg, anon = net.occ, net.reg, net.anon
        self._state = (occ, reg, anon, net.where)
        self.occ0 = np.array(occ, dtype=np.int64)
        self.ident0 = np.array(reg, dtype=np.int64) - np.array(anon, dtype=np.int64)
        self.where0 = net.where.copy()
        # typed columns (one C append per value, read by numpy without a pass over objects):
        # (at, shelter, desk count, identified) after each row; (at, resident, shelter or -1) per
        # change of a record
        self._counts = (array("d"), array("q"), array("q"), array("q"))
        self._records = (array("d"), array("q"), array("q"))
        rows = self._rows.append
        c_at, c_s, c_occ, c_ident = (c.append for c in self._counts)
        r_at, r_who, r_s = (c.append for c in self._records)
        counts = self._counts

        def append_row(row: tuple) -> None:
            rows(row)
            at, s, out = row[0], row[3], row[5]
            c_at(at)
            c_s(s)
            c_occ(occ[s])
            c_ident(reg[s] - anon[s])
            if out == IN or out == MOVED:
                r_at(at)
                r_who(row[4])
                r_s(s)
                if out == MOVED:  # a resident left another shelter: note every shelter
                    _note_every_shelter(counts, at, occ, reg, anon)
            elif out == CHECKED_OUT:
                r_at(at)
                r_who(row[4])
                r_s(-1)

        self.append_row = append_row

    def ran(self, a: int, b: int) -> None:
        """Rows a to b - 1 of `run` were just written: their notes are taken from it when read (the
        mark also holds how many counts and records were noted before them)."""
        marks, k, kc = self._marks, len(self._rows), len(self._counts[0])
        if marks and marks[-1][0] == k and marks[-1][3] == kc and marks[-1][2] == a:
            marks[-1][2] = b
        else:
            marks.append([k, a, b, kc, len(self._records[0])])

    def _fold(self) -> None:
        """`TapRegister._fold`, the runs' notes taken first."""
        self._settle()
        super()._fold()

    def _settle(self) -> None:
        """Put the notes of the rows in `run` in their places among the notes appended one by one
        (before `run` is emptied)."""
        counts, records = self._merged()
        for col, merged in (*zip(self._counts, counts, strict=True), *zip(self._records, records, strict=True)):
            if merged.size != len(col):
                col[:] = array(col.typecode, merged.tobytes())
        for mark in self._marks:
            mark[3] = -1  # (settled)

    def _merged(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The notes as arrays (copies), those of the rows in `run` in their places: each row's at,
        shelter and counts after it; the records of those it checked in."""
        run = self.run
        marks = [mark for mark in self._marks if mark[3] >= 0]  # (the marked rows: `run`'s, in order)
        if not marks:
            return [np.array(c) for c in self._counts], [np.array(c) for c in self._records]
        m = np.array(marks, dtype=np.int64).reshape(-1, 5)
        size = m[:, 2] - m[:, 1]
        lo, hi = marks[0][1], marks[-1][2]
        at, ints = run.at[lo:hi], run.ints[:, lo:hi]
        out = ints[4]
        got = (out == IN) | (out == MOVED)
        got_per = np.bincount(np.repeat(np.arange(len(m)), size)[got], minlength=len(m))
        return (_interleave(self._counts, m[:, 3], size, (at, ints[2], ints[6], ints[7])),
                _interleave(self._records, m[:, 4], got_per, (at[got], ints[3][got], ints[2][got])))

    def add(self, at: float, channel: str, reader_id: int, shelter: int, resident_id: int,
            outcome: int, reason: str, redirect: int, queue_id: int) -> None:
        """Append one attempt and note its shelter's counts."""
        self.append_row((at, channel, reader_id, shelter, resident_id, outcome, reason, redirect, queue_id))

    def extend_noted(self, columns: dict[str, Sequence], occ: np.ndarray, ident: np.ndarray) -> None:
        """Append a batch without moves between shelters, each row noted with the given counts of
        its shelter right after it (desk, identified), as one `append_row` per row would note them."""
        out = np.asarray(columns["outcome"], dtype=np.int64)
        if (out == MOVED).any():
            raise ValueError("extend_noted takes no MOVED rows (they note every shelter): append them one by one")
        super().extend_noted(columns, occ, ident)
        at = np.asarray(columns["at"], dtype=np.float64)
        s = np.asarray(columns["shelter"], dtype=np.int64)
        for col, values in zip(self._counts, (at, s, occ, ident), strict=True):
            col.frombytes(np.ascontiguousarray(values, dtype=col.typecode).tobytes())
        changed = (out == IN) | (out == CHECKED_OUT)
        placed = np.where(out == IN, s, -1)[changed]
        who = np.asarray(columns["resident_id"], dtype=np.int64)[changed]
        for col, values in zip(self._records, (at[changed], who, placed), strict=True):
            col.frombytes(np.ascontiguousarray(values, dtype=col.typecode).tobytes())

    def extend(self, columns: dict[str, Sequence]) -> None:
        """Append a batch; each row is noted with its shelter's counts after the batch."""
        super().extend(columns)
        occ, reg, anon, _where = self._state
        for at, s, rid, out in zip(columns["at"], columns["shelter"], columns["resident_id"],
                                   columns["outcome"], strict=True):
            for col, v in zip(self._counts, (at, s, occ[s], reg[s] - anon[s]), strict=True):
                col.append(v)
            if out == IN or out == MOVED or out == CHECKED_OUT:
                for col, v in zip(self._records, (at, rid, s if out != CHECKED_OUT else -1), strict=True):
                    col.append(v)
                if out == MOVED:
                    _note_every_shelter(self._counts, at, occ, reg, anon)

    def history(self) -> ShelterHistory:
        """The counts and records over time, from the rows so far."""
        (c_at, c_s, c_occ, c_ident), (r_at, r_who, r_s) = self._merged()  # copies: appends go on
        keep = c_s >= 0  # rows of no shelter (an unknown reader) change no counts
        history = ShelterHistory(self.occ0, self.ident0, self.where0, c_at[keep], c_s[keep], c_occ[keep],
                                 c_ident[keep], r_at, r_who, r_s)
        self._check(history, r_who, r_s)
        return history

    def _check(self, history: ShelterHistory, who: np.ndarray, shelter: np.ndarray) -> None:
        """The history must end where the network is: a change made without a register row would
        leave reads answered from it wrong, so it is refused here rather than read."""
        net_occ, net_reg, net_anon, net_where = self._state
        n_s = self.occ0.size
        occ, ident = history.counts_at(np.arange(n_s), np.full(n_s, np.inf))
        # the records as the history ends: each changed resident's last change, the rest as at the start
        w, j = history.last_changes() if who.size else (np.zeros(0, np.int64), np.zeros(0, np.int64))
        moved = np.asarray(net_where) != self.where0
        moved[w] = False
        if not (np.array_equal(occ, net_occ) and np.array_equal(ident, np.subtract(net_reg, net_anon))
                and np.array_equal(np.asarray(net_where)[w], shelter[j]) and not moved.any()):
            raise Conflict("the shelter network changed without a register row since record_history(); "
                           "its history cannot answer reads (change it through the network's calls)")


def _interleave(cols: tuple[array, ...], before: np.ndarray, size: np.ndarray,
                pieces: tuple[np.ndarray, ...]) -> list[np.ndarray]:
    """The typed columns with the pieces' values inserted (new arrays): `size[j]` values after the
    first `before[j]` values of each column, in order."""
    n_old = len(cols[0])
    total = n_old + int(size.sum())
    start = np.cumsum(size) - size
    at_piece = np.repeat(before + start, size) + np.arange(total - n_old) - np.repeat(start, size)
    is_old = np.ones(total, dtype=bool)
    is_old[at_piece] = False
    out = []
    for col, piece in zip(cols, pieces, strict=True):
        merged = np.empty(total, dtype=np.float64 if col.typecode == "d" else np.int64)
        merged[is_old] = np.frombuffer(col, dtype=merged.dtype) if n_old else merged[:0]
        merged[at_piece] = piece
        out.append(merged)
    return out


def _note_every_shelter(counts: tuple[array, ...], at: float, occ: Sequence[int], reg: Sequence[int],
                        anon: Sequence[int]) -> None:
    """Note every shelter's counts at `at`."""
    n = len(occ)
    c_at, c_s, c_occ, c_ident = counts
    c_at.extend([at] * n)
    c_s.extend(range(n))
    c_occ.extend(occ)
    c_ident.extend([r - a for r, a in zip(reg, anon, strict=True)])


class ShelterHistory:
    """Each shelter's counts and each resident's record as of any time (see the module)."""

    __slots__ = ("occ0", "ident0", "where0", "_c_occ", "_c_ident", "_w_shelter", "_counts", "_where")

    def __init__(self, occ0: np.ndarray, ident0: np.ndarray, where0: np.ndarray,
                 c_at: np.ndarray, c_shelter: np.ndarray, c_occ: np.ndarray, c_ident: np.ndarray,
                 w_at: np.ndarray, w_resident: np.ndarray, w_shelter: np.ndarray) -> None:
        self.occ0, self.ident0, self.where0 = occ0, ident0, where0
        self._c_occ, self._c_ident, self._w_shelter = c_occ, c_ident, w_shelter
        self._counts = AsOfIndex(c_shelter, c_at)  # sorted once: a run asks many times
        self._where = AsOfIndex(w_resident, w_at)

    def counts_at(self, shelters: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Desk count and identified count (registered - anonymous) of each shelter index at each time."""
        s = np.asarray(shelters, dtype=np.int64)
        i = self._counts.find(s, at)
        hit = i >= 0
        j = np.maximum(i, 0)
        if self._c_occ.size == 0:
            return self.occ0[s].copy(), self.ident0[s].copy()
        return (np.where(hit, self._c_occ[j], self.occ0[s]),
                np.where(hit, self._c_ident[j], self.ident0[s]))

    def last_changes(self) -> tuple[np.ndarray, np.ndarray]:
        """Each resident whose record changed and the index of its last change (in the records given)."""
        return self._where.last_of_each_key()

    def where_at(self, residents: np.ndarray, at: np.ndarray) -> np.ndarray:
        """The shelter index recording each resident at each time (-1: none)."""
        r = np.asarray(residents, dtype=np.int64)
        i = self._where.find(r, at)
        if self._w_shelter.size == 0:
            return self.where0[r].astype(np.int64)
        return np.where(i >= 0, self._w_shelter[np.maximum(i, 0)], self.where0[r]).astype(np.int64)

