"""KPIs and frames of the disaster check-in scenario, computed from a finished model."""

from __future__ import annotations

from itertools import chain
from typing import Any

import numpy as np
import polars as pl

from scenarios.evacuation import FACE, METHOD_NAMES, PAPER
from scenarios.results import COUNT, KPI, MEAN, QUANTILE, SHARE

STATUS_NAMES = ("not_registered", "registered", "no_place", "left")

KPIS = (
    KPI("evacuees", "people", "evacuees who reached a shelter within the horizon", "", COUNT,
        "evacuees who reached a shelter"),
    KPI("checkin_wait_p50_min", "min", "median wait at the check-in desk", kind=QUANTILE,
        label="check-in wait, median", floor=1.0),
    KPI("checkin_wait_p95_min", "min", "95th percentile of that wait", kind=QUANTILE,
        label="check-in wait, 95th percentile", headline=True, floor=1.0),
    KPI("checkin_wait_max_min", "min", "longest wait", kind=QUANTILE,
        label="longest check-in wait", floor=1.0),
    KPI("time_to_95pct_registered_h", "h", "hours after the quake until 95 % of the evacuees are "
        "registered at a desk (empty if never within the horizon)", kind=MEAN,
        label="time until 95 % of evacuees are registered", headline=True, floor=0.1),
    KPI("registered_share", "share", "evacuees registered at a desk by the horizon", "higher",
        SHARE, "evacuees registered by the horizon"),
    KPI("hq_error_mean", "ratio", "mean over time of the HQ's head-count error (sum over "
        "shelters of |reported - true|) as a share of the peak number of evacuees (can exceed 1)",
        kind=MEAN,
        label="HQ head-count error, mean over time", headline=True, floor=0.01),
    KPI("hq_error_max", "ratio", "largest such error once every shelter has reported",
        kind=MEAN, label="HQ head-count error, worst once all reported"),
    KPI("hq_staleness_mean_min", "min", "mean age of the HQ's head counts", kind=MEAN,
        label="age of the HQ's head counts, mean"),
    KPI("identified_share", "share", "evacuees the shelter system can name at the horizon",
        "higher", SHARE, "evacuees the shelter system can name"),
    KPI("households_found_all_share", "share", "households that arrived apart and found where "
        "every member is (look-up or same shelter)", "higher", SHARE,
        "apart households that found every member", headline=True, floor=0.05),
    KPI("households_found_within_6h_share", "share", "households that arrived apart and found "
        "every member within 6 hours of the first one's arrival", "higher", SHARE,
        "apart households that found every member within 6 h"),
    KPI("family_found_median_h", "h", "median hours from a household's first arrival until all "
        "members were found (among those found)", "lower", QUANTILE,
        "time until a household found every member, median"),
    KPI("staff_hours", "staff-h", "desk, face-check and transcription staff hours", kind=MEAN,
        label="staff hours at desks, face checks and transcription"),
    KPI("cost_yen", "yen", "staff hours at the design's rate plus the readers bought", kind=MEAN,
        label="check-in cost (staff and readers)", headline=True),
    KPI("paper_share", "share", "registrations made on paper forms", kind=SHARE,
        label="registrations on paper forms"),
    KPI("face_checks", "people", "registrations by face-photo check", "", COUNT,
        "registrations by face-photo check"),
    KPI("offline_taps", "taps", "taps queued on offline readers and synced later", "", COUNT,
        "taps queued offline and synced later"),
    KPI("lost_checkins", "people", "card check-ins acknowledged but missing at the end "
        "(must be 0)", kind=COUNT, label="card check-ins lost (must be 0)"),
    KPI("redirected", "people", "people sent on from a full shelter", "", COUNT,
        "people sent on from a full shelter"),
    KPI("no_place", "people", "people every shelter turned away", kind=COUNT,
        label="people every shelter turned away"),
    KPI("simulation_events", "events", "events the engine processed: SimPy events, or the fast "
        "engine's calls (for speed figures; the one KPI that differs between engines)", "",
        COUNT, "events the engine processed"),
)


def _wait_stats(m: Any) -> tuple[float, float, float]:
    """p50, p95, max of desk waits of registered people, in minutes."""
    w = m.waited[~np.isnan(m.registered)] / 60.0
    if not w.size:
        return (np.nan, np.nan, np.nan)
    p50, p95 = np.percentile(w, [50, 95])
    return float(p50), float(p95), float(w.max())


def _time_to_share(m: Any, share: float = 0.95) -> float:
    """Hours until `share` of the evacuees who arrived are registered (NaN if never)."""
    arrived = int(np.count_nonzero(~np.isnan(m.arrived)))
    reg = np.sort(m.registered[~np.isnan(m.registered)])
    k = int(np.ceil(share * arrived))
    return float(reg[k - 1] / 3600.0) if arrived and k <= reg.size else float("nan")


def _families(m: Any) -> tuple[float, float, float]:
    """Share of apart households who found each other (at all, within 6 h), median time."""
    if not m.members_of:
        return float("nan"), float("nan"), float("nan")
    t = _family_hours(m)
    ok = np.isfinite(t)
    return (float(ok.mean()), float((t <= 6.0).mean()),
            float(np.median(t[ok])) if ok.any() else float("nan"))


def _family_hours(m: Any) -> np.ndarray:
    """Per apart household: hours from its first member's arrival until it was together (found by a
    look-up, or all on one shelter floor: then by the last arrival); inf if never."""
    members = list(m.members_of.values())  # every household has at least one member
    lens = np.fromiter(map(len, members), np.int64, len(members))
    starts = np.concatenate(([0], np.cumsum(lens)[:-1]))
    idx = np.fromiter(chain.from_iterable(members), np.int64, int(lens.sum()))
    arrived, here = m.arrived[idx], m.here[idx]
    first = np.fmin.reduceat(arrived, starts)  # the earliest arrival, NaN if nobody arrived
    last = np.fmax.reduceat(arrived, starts)
    together = (np.logical_and.reduceat(here >= 0, starts)
                & np.logical_and.reduceat(here == np.repeat(here[starts], lens), starts))
    found = np.fromiter((m.found_at.get(h, np.inf) for h in m.members_of), np.float64, len(members))
    found = np.where(together, np.minimum(found, last), found)
    return np.where(np.isfinite(found) & np.isfinite(first), found - first, np.inf) / 3600.0


def _staff_hours(m: Any, forms_entered: int) -> tuple[float, int]:
    """Desk staff hours per shelter (first arrival to last service), face-check and entry hours;
    staff and readers as scaled by each shelter's load factor (scenarios.scaling)."""
    p, hours = m.p, 0.0
    for s, paper in enumerate(m.paper):
        spans = [x for x in (paper.span(), m.readers[s].span() if m.readers else None) if x is not None]
        if spans:  # first arrival to last finish at the shelter's desks
            span = (max(f for _, f in spans) - min(a for a, _ in spans)) / 3600.0
            hours += span * m.load[s] * (p.paper_staff_per_shelter
                                         + p.readers_per_shelter * p.staff_per_reader)
    for desk in m.face.values():
        if (x := desk.span()) is not None:
            hours += (x[1] - x[0]) / 3600.0 * p.face_checkers_per_ward * min(p.scale, 1.0)
    if p.paper_entry_forms_per_hour > 0:
        hours += forms_entered / p.paper_entry_forms_per_hour
    return hours, round(p.readers_per_shelter * float(m.load.sum()))


def _hq(series: pl.DataFrame) -> tuple[float, float, float]:
    """Mean head-count error (share of the peak) and staleness once reports arrive; the max
    once every shelter has reported."""
    s = series.filter(pl.col("hq_mean_age_min").is_finite() & (pl.col("true_present") > 0))
    if s.height == 0:
        return float("nan"), float("nan"), float("nan")
    peak = float(series["true_present"].max())
    e = s["hq_abs_error"] / peak
    full = s.filter(pl.col("unreported") == 0)["hq_abs_error"] / peak
    return (float(e.mean()), float(full.max()) if full.len() else float("nan"),
            float(s["hq_mean_age_min"].mean()))


def _lost(m: Any) -> int:
    """Card check-ins the desk acknowledged that the system does not hold at the end."""
    idx = np.fromiter(m.card_admitted, np.int64, len(m.card_admitted))
    if not idx.size:
        return 0
    still = idx[m.status[idx] == 1]
    return int(np.count_nonzero(m.net.where[m.ev.member_resident[still]] < 0))


def kpis_of(m: Any, series: pl.DataFrame, stats: dict) -> dict[str, float]:
    """Every KPI of one run."""
    p50, p95, mx = _wait_stats(m)
    found, found_6h, found_t = _families(m)
    hours, readers = _staff_hours(m, stats["forms_entered"])
    err_mean, err_max, stale = _hq(series)
    arrived = np.count_nonzero(~np.isnan(m.arrived))
    reg = (m.status == 1) | (m.status == 3)  # registered, possibly left since
    method = m.final_method[m.final_method >= 0]
    identified = np.count_nonzero(m.net.where[m.ev.member_resident[m.here >= 0]] >= 0)
    return {
        "evacuees": float(arrived), "checkin_wait_p50_min": p50, "checkin_wait_p95_min": p95,
        "checkin_wait_max_min": mx, "time_to_95pct_registered_h": _time_to_share(m),
        "registered_share": float(np.count_nonzero(reg) / arrived) if arrived else np.nan,
        "hq_error_mean": err_mean, "hq_error_max": err_max, "hq_staleness_mean_min": stale,
        "identified_share": float(identified / max(np.count_nonzero(m.here >= 0), 1)),
        "households_found_all_share": found, "households_found_within_6h_share": found_6h,
        "family_found_median_h": found_t,
        "staff_hours": hours, "cost_yen": hours * m.p.staff_hour_yen + readers * m.p.card_reader_yen,
        "paper_share": float(np.mean(method == PAPER)) if method.size else np.nan,
        "face_checks": float(np.count_nonzero(method == FACE)),
        "offline_taps": float(sum(1 for _ in m.net.applied)),
        "lost_checkins": float(_lost(m)), "redirected": float(np.count_nonzero(m.redirects)),
        "no_place": float(np.count_nonzero(m.status == 2)),
        "simulation_events": float(stats["simpy_events"]),
    }


def evacuees_frame(m: Any) -> pl.DataFrame:
    """One row per evacuee: who, household, shelter, method, arrival, wait, registration, status."""
    ev = m.ev
    fid = m.net.facility_ids
    return pl.DataFrame({
        "resident_id": ev.member_resident, "household_id": ev.member_household,
        "method": _names(m.final_method, {-1: "", **dict(enumerate(METHOD_NAMES))}),
        "planned_method": _names(ev.member_method, dict(enumerate(METHOD_NAMES))),
        "shelter_id": np.where(m.here >= 0, fid[np.maximum(m.here, 0)], -1),
        "arrived_h": m.arrived / 3600.0, "waited_min": m.waited / 60.0,
        "registered_h": m.registered / 3600.0,
        "status": _names(m.status, dict(enumerate(STATUS_NAMES))), "redirects": m.redirects,
    }, nan_to_null=True)


def _names(codes: np.ndarray, names: dict[int, str]) -> pl.Series:
    """The name of each code (a code without one is an error), as strings."""
    return pl.Series(np.asarray(codes, dtype=np.int64)).replace_strict(list(names), list(names.values()),
                                                                       return_dtype=pl.String)


def shelters_frame(m: Any) -> pl.DataFrame:
    """Per shelter: ward, capacity, arrivals, people present at the end, desk and system counts."""
    occ = m.net.occupancy()
    arrivals = np.bincount(m.ev.group_shelter, weights=np.diff(m.ev.group_start),
                           minlength=len(m.paper))
    return occ.with_columns(ward=pl.Series(m.wards), planned_arrivals=pl.Series(arrivals),
                            present_at_end=pl.Series(m.present))


