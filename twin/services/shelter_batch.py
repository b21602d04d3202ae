"""Batched shelter check-in: many card taps as columns, the same outcomes as one tap at a time.

Serials are resolved in one vectorised call; the order-dependent part (duplicates, moves,
capacity, redirects) runs as one tight loop over plain lists, and the register gets the
batch as columns. Refusals are logged, never raised, so one bad card does not stop a batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from twin.errors import TwinError, ValidationError
from twin.services.card_serials import resolve_batch
from twin.services.safety_events import CheckInRefused
from twin.services.shelter_outcomes import FULL, IN, MOVED, NO_ROOM, REFUSED, step_in

if TYPE_CHECKING:
    from twin.services.shelters import ShelterNetwork

UNKNOWN_READER = "unknown_reader"


def _columns(reader_ids, serials, at) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Readers, serials and times as equal-length arrays (scalars broadcast)."""
    serials = np.atleast_1d(np.asarray(serials, dtype=np.int64))
    n = serials.size
    readers = np.broadcast_to(np.asarray(reader_ids, dtype=np.int64), (n,))
    times = np.broadcast_to(np.asarray(at, dtype=np.float64), (n,))
    if not np.isfinite(times).all():
        raise ValidationError("check_in_many: every tap time must be finite POSIX seconds")
    return readers, serials, times


def check_in_many(net: ShelterNetwork, reader_ids, serials, at, frame: bool = True) -> pl.DataFrame | None:
    """Check in many taps in order; returns their register rows (see `TapRegister.to_frame`) if `frame`."""
    readers, serials, times = _columns(reader_ids, serials, at)
    start = len(net.taps)
    if any(not net.online.get(r, True) for r in set(readers.tolist())):
        _one_by_one(net, readers, serials, times)  # offline readers queue: keep exact order
    else:
        _batch(net, readers, serials, times)
    return net.taps.to_frame(start) if frame else None


def _one_by_one(net: ShelterNetwork, readers: np.ndarray, serials: np.ndarray, times: np.ndarray) -> None:
    """The single-tap path for each row (used when a reader in the batch is offline)."""
    for r, s, t in zip(readers.tolist(), serials.tolist(), times.tolist(), strict=True):
        try:
            net.tap(r, s, t)
        except TwinError:
            pass  # already logged by tap()


def _batch(net: ShelterNetwork, readers: np.ndarray, serials: np.ndarray, times: np.ndarray) -> None:
    """The columnar path: every reader online."""
    n = serials.size
    rids, reasons = resolve_batch(net.resolver, serials, times)
    shelter_of = net.readers
    sl = [shelter_of.get(r, -1) for r in readers.tolist()]
    rl, tl, why = rids.tolist(), times.tolist(), list(reasons)
    cur0 = net.where[np.maximum(rids, 0)].tolist()
    occ, reg, cap = net.occ, net.reg, net.cap
    moved_to: dict[int, int] = {}
    moved_at: dict[int, float] = {}
    outs, redirects, shelters_col = [0] * n, [-1] * n, list(sl)
    for i in range(n):
        s = sl[i]
        rid = rl[i]
        if s < 0 or rid < 0:
            outs[i], rl[i] = REFUSED, -1
            if s < 0:
                why[i] = UNKNOWN_READER
            continue
        why[i] = ""
        cur = moved_to.get(rid, cur0[i])
        out = step_in(cur, s, occ, reg, cap)
        if out == IN or out == MOVED:
            moved_to[rid] = s
            moved_at[rid] = tl[i]
        elif out == FULL:
            redirects[i] = net.nearest_with_room(s)
            if redirects[i] < 0:
                out = NO_ROOM
        outs[i] = out
    _write_back(net, moved_to, moved_at)
    _log_refusals(net, outs, tl, readers, serials, why)
    net.taps.extend({"at": tl, "channel": ["card"] * n, "reader_id": readers.tolist(), "shelter": shelters_col,
                     "resident_id": rl, "outcome": outs, "reason": why, "redirect": redirects,
                     "queue_id": [-1] * n})


def _write_back(net: ShelterNetwork, moved_to: dict[int, int], moved_at: dict[int, float]) -> None:
    """Store the batch's new records in the resident columns."""
    if not moved_to:
        return
    keys = np.fromiter(moved_to.keys(), np.int64, len(moved_to))
    net.where[keys] = np.fromiter(moved_to.values(), np.int32, len(moved_to))
    net.since[keys] = np.fromiter((moved_at[k] for k in moved_to), np.float64, len(moved_to))


def _log_refusals(net: ShelterNetwork, outs: list[int], tl: list[float], readers: np.ndarray,
                  serials: np.ndarray, why: list[str]) -> None:
    """One typed event per refused row, as the single-tap path logs them."""
    for i in np.flatnonzero(np.asarray(outs) == REFUSED).tolist():
        net.events.append(CheckInRefused(tl[i], int(readers[i]), int(serials[i]), why[i]))
