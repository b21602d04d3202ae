"""One disaster run on the fast engine: the same set-up, clocks and draws as `disaster.simulate`."""

from __future__ import annotations

from typing import Any

from scenarios.disaster import outage_plan
from scenarios.fast.disaster_model import FastDisasterModel, Loop
from scenarios.streams import Streams
from twin.collector import collector_paused
from twin.services.safety import shelter_reports


def start_clocks(loop: Loop, m: FastDisasterModel, streams: Streams, rows: list[dict],
                 entered: list[int]) -> int:
    """HQ reports, paper entry, the sampler and reader outages, in SimPy's order; outages made."""
    p = m.p
    step = p.hq_report_interval_min * 60.0
    phases = streams["hq_phase"].random(len(m.paper)).tolist()
    for fid, phase in zip(m.net.facility_ids.tolist(), phases, strict=True):
        loop.at(0.0 + phase * step, _hq_report, loop, m, fid, step)
    paper_step = p.paper_entry_interval_min * 60.0
    limit = int(p.paper_entry_forms_per_hour * float(m.load.sum()) * paper_step / 3600.0)
    loop.at(0.0 + paper_step, _paper_entry, loop, m, entered, paper_step, limit)
    loop.at(0.0, _sample, loop, m, rows, m.net.facility_ids.tolist(), p.series_step_min * 60.0)
    plan = outage_plan(m, streams["outages"])
    for readers, start, length in plan:
        loop.at(0.0 + start, _set_online, loop, m, readers, False)
        loop.at(0.0 + (start + length), _set_online, loop, m, readers, True)
    return len(plan)


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


def _set_online(loop: Loop, m: FastDisasterModel, readers: list[int], online: bool) -> None:
    """Take readers off or back on the network (back on syncs their queues)."""
    for r in readers:
        m.net.set_online(r, online, m.t0 + loop.now)


def run_fast(p: Any, ev: Any, safety: Any, face: Any, streams: Streams,
             t0: float, load: Any = None) -> tuple[FastDisasterModel, list[dict], dict]:
    """Run to the horizon on the fast engine; the model, the series rows and run counts."""
    from scenarios.disaster import final_sync

    loop = Loop()
    m = FastDisasterModel(loop, p, ev, safety, face, streams, t0, load)
    rows: list[dict] = []
    entered = [0]
    m.schedule_arrivals()
    outages = start_clocks(loop, m, streams, rows, entered)
    until = p.horizon_h * 3600.0 + 1e-6
    with collector_paused():
        loop.run(until)
    loop.close()
    m.close_desks(until)
    stats = {"outages": outages, "forms_entered": entered[0], "offline_at_end": final_sync(m),
             "simpy_events": loop.events}
    m.finish()
    return m, rows, stats
