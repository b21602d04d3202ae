"""KPIs and frames of the certificate-peak scenario, computed from a finished model."""

from __future__ import annotations

from itertools import chain
from typing import Any

import numpy as np
import polars as pl

from scenarios.certificate_demand import AVOIDED, BRANCH, CHANNEL_NAMES, KIOSK
from scenarios.certificates_params import CERT_TYPES
from scenarios.queueing import occupancy_series
from scenarios.results import COUNT, KPI, MEAN, QUANTILE, SHARE

KPIS = (
    KPI("visits", "visits", "visits residents would make (before linkage)", "", COUNT,
        "visits residents would make"),
    KPI("certificates_requested", "certificates", "certificates residents would ask for", "",
        COUNT, "certificates residents would ask for"),
    KPI("avoided_by_linkage", "certificates", "attachment certificates linkage made unnecessary",
        "higher", COUNT, "certificate requests avoided by linkage", headline=True),
    KPI("kiosk_certificates", "certificates", "issued at kiosks", "", COUNT,
        "certificates issued at kiosks"),
    KPI("counter_certificates", "certificates", "issued at ward-office counters", "", COUNT,
        "certificates issued at ward counters"),
    KPI("branch_certificates", "certificates", "issued at branch offices (not simulated)", "",
        COUNT, "certificates issued at branch offices"),
    KPI("kiosk_share", "share", "kiosk share of certificates issued", "higher", SHARE,
        "kiosk share of certificates issued", headline=True, floor=0.05),
    KPI("shifted_to_kiosk", "visits", "visits that left a long counter line for a kiosk", "",
        COUNT, "visits that left a counter line for a kiosk"),
    KPI("counter_wait_p50_min", "min", "median wait at ward counters", kind=QUANTILE,
        label="ward-counter wait, median", floor=1.0),
    KPI("counter_wait_p95_min", "min", "95th percentile wait at ward counters", kind=QUANTILE,
        label="ward-counter wait, 95th percentile", headline=True, floor=1.0),
    KPI("counter_wait_max_min", "min", "longest wait at a ward counter", kind=QUANTILE,
        label="longest ward-counter wait", floor=1.0),
    KPI("counter_wait_p95_worst_ward_min", "min", "95th percentile wait in the worst ward",
        kind=QUANTILE, label="ward-counter wait, 95th percentile in the worst ward", floor=1.0),
    KPI("kiosk_wait_p95_min", "min", "95th percentile wait at kiosks", kind=QUANTILE,
        label="kiosk wait, 95th percentile", floor=1.0),
    KPI("kiosk_utilisation", "ratio", "kiosk busy time over kiosk opening time (can exceed 1: "
        "a transaction begun before closing ends after it)", "", MEAN,
        "kiosk load (busy time over opening time)"),
    KPI("counter_utilisation", "ratio", "window busy time over office hours (can exceed 1: "
        "windows keep serving the line after closing)", "", MEAN,
        "counter load (windows busy)", floor=0.05),
    KPI("reneged", "visits", "visitors who left a counter line after their patience",
        kind=COUNT, label="visitors who left a counter line unserved"),
    KPI("gave_up", "visits", "visits that never got the certificate", kind=COUNT,
        label="visits that never got the certificate"),
    KPI("pin_locks", "cards", "cards locked by three wrong PINs at kiosks", kind=COUNT,
        label="cards locked by wrong PINs at kiosks"),
    KPI("kiosk_faults", "requests", "kiosk requests lost to a network or paper fault",
        kind=COUNT, label="kiosk requests lost to faults"),
    KPI("cost_yen", "yen", "certificates at the design's unit costs plus public-kiosk upkeep",
        kind=MEAN, label="certificate issuance cost over the period", headline=True),
    KPI("cost_per_certificate_yen", "yen", "that cost per certificate issued", kind=MEAN,
        label="cost per certificate issued"),
)


def _settled(frame: pl.DataFrame, channel: str) -> pl.Series:
    """Which visits were settled (issued or refused) at `channel` (eager comparisons: a frame's filter and
    `is_in` go through the lazy engine, ~0.2 and ~0.04 ms a call; the outcomes are never null)."""
    outcome = frame["outcome"]
    return (frame["final_channel"] == channel) & ((outcome == "issued") | (outcome == "refused"))


def _waits(frame: pl.DataFrame, channel: str) -> np.ndarray:
    """Waits (minutes) of settled visits that ended at `channel`."""
    return frame["waited_min"].filter(_settled(frame, channel)).to_numpy()


def _copies(frame: pl.DataFrame, channel: str, outcome: str | None = None) -> float:
    """Certificates (copies) of the visits that ended at `channel` (with `outcome`, if given)."""
    ended = frame["final_channel"] == channel
    if outcome is not None:
        ended = ended & (frame["outcome"] == outcome)
    return float(frame["copies"].filter(ended).sum())


def counter_waits_by_ward(frame: pl.DataFrame) -> dict[int, np.ndarray]:
    """`_waits(frame, "counter")` of each ward that has any, from one pass over the visits."""
    settled = _settled(frame, "counter").to_numpy()
    ward, waited = frame["ward"].to_numpy()[settled], frame["waited_min"].to_numpy()[settled]
    if not ward.size:
        return {}
    order = np.argsort(ward, kind="stable")  # each ward's waits in visit order, as a filter keeps them
    wards, starts = np.unique(ward[order], return_index=True)
    return dict(zip(wards.tolist(), np.split(waited[order], starts[1:]), strict=True))


def _pct(w: np.ndarray, q: float) -> float:
    """A percentile, NaN for no data."""
    return float(np.percentile(w, q)) if w.size else float("nan")


def _pcts(w: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    """`_pct` of each of `qs`, in one call (each the same value as alone)."""
    return np.percentile(w, qs).tolist() if w.size else [float("nan")] * len(qs)


def _busy_share(servers: int, records: np.ndarray, per_day_h: float, days: int) -> float:
    """Busy server time over available server time (`records`: the points' rows, as `records_of` gives them)."""
    served = records[records[:, 2] >= 0]
    # added in record order from the left, as `sum` adds them (a cumulative sum: no pairwise reordering)
    busy = float(np.cumsum(served[:, 3] - served[:, 2])[-1]) if len(served) else 0.0
    avail = servers * per_day_h * 3600.0 * days
    return busy / avail if avail else float("nan")


def records_of(m: Any) -> tuple[np.ndarray, np.ndarray]:
    """Every record (who, arrived, started, finished) of the kiosks, then of the counters, each one array
    in point order and record order."""
    return _records(m.kiosk_points), _records(list(m.counter_points.values()))


def _records(points: list) -> np.ndarray:
    """Every record of these points, in order, as one float array of four columns."""
    n = sum(len(pt.records) for pt in points)
    flat = chain.from_iterable(chain.from_iterable(pt.records for pt in points))  # no per-row sequence checks
    return np.fromiter(flat, dtype=np.float64, count=4 * n).reshape(n, 4)


def kpis_of(m: Any, visits: pl.DataFrame, public_kiosks: int,
            records: tuple[np.ndarray, np.ndarray] | None = None,
            by_ward: dict[int, np.ndarray] | None = None) -> dict[str, float]:
    """Every KPI of one run (`records`: `records_of(m)`, `by_ward`: `counter_waits_by_ward(visits)`, when the
    caller has them)."""
    p = m.p
    kiosk_rec, counter_rec = records if records is not None else records_of(m)
    kiosk = _copies(visits, "kiosk", "issued")
    counter = _copies(visits, "counter", "issued")
    branch = _copies(visits, "branch")
    issued = kiosk + counter + branch
    cw = _waits(visits, "counter")
    # wards without counter waits (NaN) do not count: max() with NaN would depend on ward order
    by_ward = by_ward if by_ward is not None else counter_waits_by_ward(visits)
    per_ward = [_pct(w, 95) for w in by_ward.values()]
    worst = max((w for w in per_ward if w == w), default=float("nan"))
    p50, p95 = _pcts(cw, (50, 95))
    cost = (kiosk * p.kiosk_cost_per_certificate_yen
            + (counter + branch) * p.counter_cost_per_certificate_yen
            + public_kiosks * p.public_kiosk_upkeep_yen_per_year * p.days / 365.0)
    return {
        "visits": float(visits.height), "certificates_requested": float(visits["copies"].sum()),
        "avoided_by_linkage": _copies(visits, "avoided"), "kiosk_certificates": kiosk,
        "counter_certificates": counter, "branch_certificates": branch,
        "kiosk_share": kiosk / issued if issued else float("nan"),
        "shifted_to_kiosk": float(m.counts["balked_to_kiosk"]),
        "counter_wait_p50_min": p50, "counter_wait_p95_min": p95,
        "counter_wait_max_min": float(cw.max()) if cw.size else float("nan"),
        "counter_wait_p95_worst_ward_min": worst,
        "kiosk_wait_p95_min": _pct(_waits(visits, "kiosk"), 95),
        "kiosk_utilisation": _busy_share(sum(pt.servers for pt in m.kiosk_points), kiosk_rec,
                                         p.kiosk_close_hour - p.kiosk_open_hour, p.days),
        "counter_utilisation": _busy_share(sum(pt.servers for pt in m.counter_points.values()), counter_rec,
                                           p.counter_close_hour - p.counter_open_hour, p.days),
        "reneged": float(m.counts["reneged"]),
        "gave_up": float((visits["outcome"] == "gave_up").sum()),
        "pin_locks": float(m.counts["pin_locks"]), "kiosk_faults": float(m.counts["kiosk_faults"]),
        "cost_yen": cost, "cost_per_certificate_yen": cost / issued if issued else float("nan"),
    }


VISIT_TYPES = {"resident_id": pl.Int64, "ward": pl.Int16, "cert_type": pl.Utf8, "copies": pl.Int64,
               "application": pl.Utf8, "planned_channel": pl.Utf8, "final_channel": pl.Utf8,
               "outcome": pl.Utf8, "set_out_h": pl.Float64, "waited_min": pl.Float64, "tries": pl.Int64,
               "fee_yen": pl.Int64}


def visits_frame(m: Any) -> pl.DataFrame:
    """One row per visit: who, ward, certificate, copies, planned and final channel, outcome, wait."""
    v = m.v
    planned = v.channel
    # names gathered by code (a visit without a final channel: branch, avoided, or none)
    fallback = np.where(planned == BRANCH, BRANCH, np.where(planned == AVOIDED, AVOIDED, _NONE))
    final = np.asarray(m.final, dtype=np.int64)
    final = np.where(final >= 0, final, fallback)
    outcome = pl.Series("outcome", m.outcome, dtype=pl.Utf8)
    unsettled = _OUTCOME_OF.gather(np.where((planned == BRANCH) | (planned == AVOIDED), planned, _NONE))
    return pl.DataFrame({
        "resident_id": v.resident, "ward": v.ward,
        "cert_type": _CERT_NAMES.gather(v.cert), "copies": v.copies,
        "application": pl.Series(v.application, dtype=pl.Utf8),  # from the objects (a fixed-width copy is slow)
        "planned_channel": _FINAL_NAMES.gather(planned), "final_channel": _FINAL_NAMES.gather(final),
        "outcome": outcome.zip_with(outcome != "", unsettled), "set_out_h": (v.at - m.t_start) / 3600.0,
        "waited_min": np.array(m.waited, dtype=np.float64) / 60.0, "tries": m.tries, "fee_yen": m.fee,
    }, schema_overrides=VISIT_TYPES)  # typed even when no visit was drawn


_NONE = len(CHANNEL_NAMES)  # the code of no channel
_FINAL_NAMES = pl.Series((*CHANNEL_NAMES, "none"), dtype=pl.Utf8)
_OUTCOME_OF = pl.Series(["", "", "branch", "avoided", "gave_up"], dtype=pl.Utf8)  # an unsettled visit's, by code
_CERT_NAMES = pl.Series(CERT_TYPES, dtype=pl.Utf8)


def series_frame(m: Any, records: tuple[np.ndarray, np.ndarray] | None = None) -> pl.DataFrame:
    """Every step of the simulated days: people waiting at ward counters, and kiosks in use
    (`records`: `records_of(m)`, when the caller has them).

    The series stops at the end of the last simulated day: visitors who come back after it
    (their certificate is in the KPIs) would show a day with no new demand.
    """
    krecs, recs = records if records is not None else records_of(m)
    grid = np.arange(0.0, m.p.days * 86400.0 + 1.0, m.p.series_step_min * 60.0)

    def occ(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not len(a):
            return np.zeros(grid.size), np.zeros(grid.size)
        return occupancy_series(a[:, 1], a[:, 2], a[:, 3], grid)

    queue, _ = occ(recs)
    _, busy = occ(krecs)
    return pl.DataFrame({"hours": grid / 3600.0, "counter_queue": queue, "kiosks_busy": busy})


def wards_frame(m: Any, visits: pl.DataFrame, by_ward: dict[int, np.ndarray] | None = None) -> pl.DataFrame:
    """Per ward: counter visits served and their wait p50, p95 and max (`by_ward`: `counter_waits_by_ward(visits)`,
    when the caller has it)."""
    rows, none = [], np.zeros(0)
    by_ward = by_ward if by_ward is not None else counter_waits_by_ward(visits)
    for w in sorted(m.counter_points):
        cw = by_ward.get(w, none)
        p50, p95 = _pcts(cw, (50, 95))
        rows.append({"ward": w, "counter_visits": int(cw.size), "wait_p50_min": p50, "wait_p95_min": p95,
                     "wait_max_min": float(cw.max()) if cw.size else float("nan")})
    return pl.DataFrame(rows)


__all__ = ["KIOSK", "KPIS", "counter_waits_by_ward", "kpis_of", "records_of", "series_frame", "visits_frame", "wards_frame"]
