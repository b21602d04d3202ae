"""One disaster run on the fast engine: the same set-up, clocks and draws as `disaster.simulate`."""

from __future__ import annotations

from typing import Any

from scenarios.disaster import outage_plan
from scenarios.fast import disaster_reads
from scenarios.fast.disaster_model import FastDisasterModel
from scenarios.fast.loop import Loop
from scenarios.streams import Streams
from twin.collector import collector_paused


def start_clocks(loop: Loop, m: FastDisasterModel, streams: Streams, samples: list[tuple],
                 entered: list[int]) -> tuple[int, list[float]]:
    """Paper entry, the sampler and reader outages, in SimPy's order; the outages made and the HQ
    reports' phases (the reports themselves are answered after the loop: `disaster_reads`)."""
    p = m.p
    phases = streams["hq_phase"].random(len(m.paper)).tolist()
    paper_step = p.paper_entry_interval_min * 60.0
    limit = int(p.paper_entry_forms_per_hour * float(m.load.sum()) * paper_step / 3600.0)
    loop.at(0.0 + paper_step, _paper_entry, loop, m, entered, paper_step, limit)
    loop.at(0.0, _sample, loop, m, samples, p.series_step_min * 60.0)
    plan = outage_plan(m, streams["outages"])
    for readers, start, length in plan:
        loop.at(0.0 + start, _set_online, loop, m, readers, False)
        loop.at(0.0 + (start + length), _set_online, loop, m, readers, True)
    return len(plan), phases


def _paper_entry(loop: Loop, m: FastDisasterModel, entered: list[int], step: float,
                 limit: int) -> None:
    """Staff transcribe waiting paper forms; again after `step`."""
    rep = m.net.reconcile_paper(m.t0 + loop.now, limit)
    entered[0] += rep.entered + rep.unreadable + rep.duplicates + rep.conflicts
    loop.at(loop.now + step, _paper_entry, loop, m, entered, step, limit)


def _sample(loop: Loop, m: FastDisasterModel, samples: list[tuple], step: float) -> None:
    """The sampler's live values (as `disaster.sampler` reads them); the HQ's view is added after
    the loop (`disaster_reads.series_rows`)."""
    net = m.net
    samples.append((loop.now, m.n_arrived, list(m.present), int(sum(net.reg) - sum(net.anon)),
                    int(sum(net.occ)), 0, m.n_registered))  # arrivals and desks: `complete_samples`
    loop.at(loop.now + step, _sample, loop, m, samples, step)


def _set_online(loop: Loop, m: FastDisasterModel, readers: list[int], online: bool) -> None:
    """Take readers off or back on the network (back on syncs their queues)."""
    for r in readers:
        m.net.set_online(r, online, m.t0 + loop.now)


def run_fast(p: Any, ev: Any, safety: Any, face: Any, streams: Streams,
             t0: float, load: Any = None) -> tuple[FastDisasterModel, list[dict], dict]:
    """Run to the horizon on the fast engine; the model, the series rows and run counts."""
    from scenarios.disaster import final_sync

    # the reads are answered from the network's history after the loop; kept from before the
    # model is made (a model may hold on to the register's methods)
    safety.shelters.record_history()
    loop = Loop()
    m = FastDisasterModel(loop, p, ev, safety, face, streams, t0, load)
    samples: list[tuple] = []
    entered = [0]
    m.schedule_arrivals()
    outages, phases = start_clocks(loop, m, streams, samples, entered)
    until = p.horizon_h * 3600.0 + 1e-6
    with collector_paused():
        loop.run(until)
        m.settle_runs()
        history = m.net.history()
        reports = disaster_reads.hq_reports(m, history, phases, until)
        visits = m.desk_visits()
        rows = disaster_reads.series_rows(m, m.complete_samples(samples, visits), reports)
        looked = disaster_reads.family_lookups(m, history, until)
    loop.close()
    m.close_desks(until, visits)
    stats = {"outages": outages, "forms_entered": entered[0], "offline_at_end": final_sync(m),
             "simpy_events": loop.events - m.stale + m.groups_arrived + int(reports["shelter"].size) + looked}
    m.finish()
    return m, rows, stats
