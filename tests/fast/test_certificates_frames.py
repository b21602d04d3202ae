"""The certificate frames and KPIs built from columns (names gathered by code, the seats read once as
one array) are what the plain per-visit rules give, on a run with every outcome and channel."""

from __future__ import annotations

import numpy as np
import polars as pl

from scenarios.certificate_demand import AVOIDED, BRANCH, CHANNEL_NAMES
from scenarios.certificates import simulate
from scenarios.certificates_kpis import VISIT_TYPES, kpis_of, records_of, series_frame, visits_frame
from scenarios.certificates_params import CERT_TYPES
from scenarios.queueing import occupancy_series
from scenarios.runner import make_params

HARSH = {"city_seed": 1, "days": 2, "demand_share": 0.05, "counter_windows_per_ward": 1, "scale": 0.01,
         "pin_mistype_probability": 0.3, "kiosk_p_network_down": 0.05, "kiosk_p_paper_out": 0.03,
         "counter_patience_min": 10.0}


def _plain_visits(m) -> pl.DataFrame:
    """The visits frame row by row, as the rules read."""
    v = m.v
    planned = v.channel.tolist()
    other = {BRANCH: "branch", AVOIDED: "avoided"}
    return pl.DataFrame({
        "resident_id": v.resident, "ward": v.ward, "cert_type": [CERT_TYPES[c] for c in v.cert.tolist()],
        "copies": v.copies, "application": v.application.astype(str),
        "planned_channel": [CHANNEL_NAMES[c] for c in planned],
        "final_channel": [CHANNEL_NAMES[f] if f >= 0 else other.get(c, "none")
                          for f, c in zip(m.final, planned, strict=True)],
        "outcome": [o or other.get(c, "gave_up") for o, c in zip(m.outcome, planned, strict=True)],
        "set_out_h": (v.at - m.t_start) / 3600.0, "waited_min": np.array(m.waited, dtype=np.float64) / 60.0,
        "tries": m.tries, "fee_yen": m.fee}, schema_overrides=VISIT_TYPES)


def _plain_busy(points, per_day_h: float, days: int) -> float:
    busy = sum(f - s for pt in points for _, _, s, f in pt.records if s >= 0)
    avail = sum(pt.servers for pt in points) * per_day_h * 3600.0 * days
    return busy / avail if avail else float("nan")


def test_frames_and_utilisation_from_columns_are_the_per_visit_rules_on_both_engines():
    for engine in ("fast", "simpy"):
        m, _, public = simulate(make_params("certificates", "full", overrides=HARSH | {"engine": engine}), 3)
        visits = visits_frame(m)
        assert visits.equals(_plain_visits(m)) and visits.schema == _plain_visits(m).schema
        outcomes, finals = set(visits["outcome"]), set(visits["final_channel"])
        assert {"issued", "branch", "avoided"} <= outcomes and {"kiosk", "counter", "branch", "avoided"} <= finals
        kiosk_rec, counter_rec = records_of(m)
        assert kiosk_rec.tolist() == [list(r) for pt in m.kiosk_points for r in pt.records]
        assert counter_rec.tolist() == [list(r) for pt in m.counter_points.values() for r in pt.records]
        assert (counter_rec[:, 2] < 0).any()  # someone gave up in a counter line
        p = m.p
        kpis = kpis_of(m, visits, int(public.sum()))
        assert kpis["kiosk_utilisation"] == _plain_busy(m.kiosk_points, p.kiosk_close_hour - p.kiosk_open_hour, p.days)
        assert kpis["counter_utilisation"] == _plain_busy(list(m.counter_points.values()),
                                                          p.counter_close_hour - p.counter_open_hour, p.days)
        grid = np.arange(0.0, p.days * 86400.0 + 1.0, p.series_step_min * 60.0)
        rec = np.array([r for pt in m.counter_points.values() for r in pt.records], dtype=np.float64)
        assert series_frame(m)["counter_queue"].to_list() == occupancy_series(rec[:, 1], rec[:, 2], rec[:, 3],
                                                                              grid)[0].tolist()
