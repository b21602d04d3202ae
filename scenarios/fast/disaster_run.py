"""One disaster run on the fast engine: the same set-up, clocks and draws as `disaster.simulate`."""

from __future__ import annotations

from typing import Any

import numpy as np

from scenarios.fast.disaster_model import FastDisasterModel, Loop
from twin.services.safety import shelter_reports


def start_clocks(loop: Loop, m: FastDisasterModel, rng: np.random.Generator,
                 rows: list[dict], entered: list[int]) -> int:
    """HQ reports, paper entry, the sampler and reader outages, in SimPy's order; outages made."""
    p = m.p
    step = p.hq_report_interval_min * 60.0
    for fid, phase in zip(m.net.facility_ids.tolist(), rng.random(len(m.paper)).tolist(),
                          strict=True):
        loop.at(0.0 + phase * step, _hq_report, loop, m, fid, step)
    paper_step = p.paper_entry_interval_min * 60.0
    limit = int(p.paper_entry_forms_per_hour * m.ev.shelters.height * paper_step / 3600.0)
    loop.at(0.0 + paper_step, _paper_entry, loop, m, entered, paper_step, limit)
    loop.at(0.0, _sample, loop, m, rows, m.net.facility_ids.tolist(), p.series_step_min * 60.0)
    return _outages(loop, m, rng)


def _hq_report(loop: Loop, m: FastDisasterModel, shelter_id: int, step: float) -> None:
    """One shelter reports its head count; again after `step`."""
    now = m.t0 + loop.now
    m.safety.hq.receive(shelter_reports(m.net, now, [shelter_id]), now)
    loop.at(loop.now + step, _hq_report, loop, m, shelter_id, step)


def _paper_entry(loop: Loop, m: FastDisasterModel, entered: list[int], step: float,
                 limit: int) -> None:
    """Staff transcribe waiting paper forms; again after `step`."""
    rep = m.net.reconcile_paper(m.t0 + loop.now, limit)
    entered[0] += rep.entered + rep.unreadable + rep.duplicates + rep.conflicts
    loop.at(loop.now + step, _paper_entry, loop, m, entered, step, limit)


def _sample(loop: Loop, m: FastDisasterModel, rows: list[dict], ids: list[int],
            step: float) -> None:
    """The truth against the HQ's view and the shelter system (as `disaster.sampler`)."""
    now = m.t0 + loop.now
    acc = m.safety.hq.accuracy(dict(zip(ids, m.present, strict=True)), now)
    arrived = m.n_arrived
    known = int(sum(m.net.reg) - sum(m.net.anon))
    rows.append({"hours": loop.now / 3600.0, "arrived": arrived, "true_present": acc.true_total,
                 "hq_total": acc.reported_total, "hq_abs_error": acc.abs_error,
                 "hq_relative_error": acc.relative_error,
                 "hq_mean_age_min": acc.mean_age_s / 60.0, "unreported": acc.unreported,
                 "identified": known, "desk_count": int(sum(m.net.occ)),
                 "waiting": loop.at_desks(),
                 "registered_share": m.n_registered / arrived if arrived else 0.0})
    loop.at(loop.now + step, _sample, loop, m, rows, ids, step)


def _outages(loop: Loop, m: FastDisasterModel, rng: np.random.Generator) -> int:
    """Network outages of shelters' readers, drawn as `disaster.reader_outages` draws them."""
    p, n = m.p, 0
    horizon = p.horizon_h * 3600.0
    for readers in m.reader_ids:
        if not readers or rng.random() >= p.reader_offline_probability:
            continue
        start = rng.uniform(0.0, horizon)
        length = rng.exponential(p.reader_outage_mean_min * 60.0)
        n += 1
        loop.at(0.0 + start, _set_online, loop, m, readers, False)
        loop.at(0.0 + (start + length), _set_online, loop, m, readers, True)
    return n


def _set_online(loop: Loop, m: FastDisasterModel, readers: list[int], online: bool) -> None:
    """Take readers off or back on the network (back on syncs their queues)."""
    for r in readers:
        m.net.set_online(r, online, m.t0 + loop.now)


def run_fast(p: Any, ev: Any, safety: Any, face: Any, rng: np.random.Generator,
             t0: float) -> tuple[FastDisasterModel, list[dict], dict]:
    """Run to the horizon on the fast engine; the model, the series rows and run counts."""
    from scenarios.disaster import final_sync

    loop = Loop()
    m = FastDisasterModel(loop, p, ev, safety, face, rng, t0)
    rows: list[dict] = []
    entered = [0]
    m.schedule_arrivals()
    outages = start_clocks(loop, m, rng, rows, entered)
    until = p.horizon_h * 3600.0 + 1e-6
    loop.run(until)
    m.close_desks(until)
    stats = {"outages": outages, "forms_entered": entered[0], "offline_at_end": final_sync(m),
             "simpy_events": loop.events}
    m.finish()
    return m, rows, stats
