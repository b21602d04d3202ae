"""Disaster check-in: after an earthquake, evacuees register at shelters by card, paper or face check.

The evacuee count follows the published scale (Kumamoto 2016: about 10 % of the population at
the peak), arriving over the first hours; households arrive together or apart; card holders
tap readers (about 9-30 s in the trials), others fill paper forms (about 1-5 min), and people
who lost every ID get a face-photo check where the design has one. Families look each other
up, shelters report head counts to the HQ, readers lose the network and sync later. Every
check-in, look-up and report goes through the twin's real `twin.services.safety` code.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import numpy as np
import polars as pl
import simpy

from scenarios.cities import city_for
from scenarios.disaster_kpis import KPIS, evacuees_frame, kpis_of, shelters_frame
from scenarios.disaster_params import DisasterParams as Params
from scenarios.disaster_sim import DisasterModel
from scenarios.evacuation import draw_evacuation
from scenarios.params import parse_jst
from scenarios.plotspec import Plot
from scenarios.results import ScenarioResult, as_seed_sequence, seed_label
from scenarios.scaling import scale_line, with_shelter_places
from scenarios.streams import Streams, as_streams
from scenarios.templates import template
from twin.collector import collector_paused
from twin.errors import ValidationError
from twin.services.faceid import FaceCheckDesk, FaceCheckParams, FaceFacts
from twin.services.family import HouseholdIndex
from twin.services.safety import Safety, SerialIndex, ShelterParams, shelter_reports

__all__ = ["KPIS", "PLOTS", "Params", "TITLE", "run"]
TITLE = "disaster check-in"
PLOTS = (
    Plot("exceed", "evacuees", "waited_min", "Check-in wait: share of evacuees who waited longer",
         "share of evacuees who waited longer than x", xlabel="minutes in line at the desk",
         question="How long do evacuees wait to check in at the shelter?",
         headline=("checkin_wait_p50_min", "checkin_wait_p95_min", "registered_share")),
    Plot("series", "series", "hq_abs_error", "Head-count error at the disaster HQ",
         "people (sum over shelters of |HQ - true|)", x="hours", xlabel="hours after the quake"),
    Plot("series", "series", "registered_share", "Evacuees registered in the shelter system",
         "share of evacuees who arrived", x="hours", xlabel="hours after the quake"),
    Plot("series", "series", "waiting", "People waiting at shelter desks", "people", x="hours",
         xlabel="hours after the quake"),
)


def arrival_hours(p: Params) -> Callable[[np.random.Generator, int], np.ndarray]:
    """A sampler of arrival times (hours after the quake) on the calibrated Weibull rise."""
    from calibration.params import EvacuationCurve

    curve = EvacuationCurve(p.evacuation_share, p.time_to_peak_h, p.stay_decline_per_day,
                            p.rise_shape)
    return curve.sample_arrival_hours


def scaled_city(p: Params, city: Any) -> tuple[Any, np.ndarray]:
    """The city with each shelter's places times its load factor, and the factors (see
    `scenarios.scaling.with_shelter_places`)."""
    return with_shelter_places(city, p.scale, p.shelter_capacity)


def serial_index(residents: Any) -> SerialIndex:
    """A fresh serial index of these residents' cards, sorted once per residents frame per process."""
    return template("serial_index", residents, (), lambda: SerialIndex.from_residents(residents)).copy()


def build_services(p: Params, city: Any, t0: float) -> tuple[Any, Any]:
    """The safety service (shelters, family, HQ) and the face-check desk for this design."""
    shelter = ShelterParams(readers_per_shelter=p.readers_per_shelter,
                            paper_form_staff_per_shelter=p.paper_staff_per_shelter,
                            capacity_per_shelter=0,
                            paper_wrong_resident_rate=p.paper_wrong_resident_rate,
                            paper_unreadable_rate=p.paper_unreadable_rate)
    households = template("households", city.residents, (),  # sorted once per frame per process
                          lambda: HouseholdIndex.of(city.residents["household_id"].to_numpy()))
    safety = Safety.from_city(city, t0, resolver=serial_index(city.residents), shelter_params=shelter,
                              households=households)
    face = None
    if p.face_check_enabled and p.face_checkers_per_ward > 0:
        facts = template("face_facts", city.residents, (), lambda: FaceFacts.of(city.residents))
        face = FaceCheckDesk.from_city(city, FaceCheckParams(
            false_accept_rate=p.false_accept_rate, false_reject_rate=p.false_reject_rate),
            safety.events, facts)
    return safety, face


def hq_reports(env: simpy.Environment, m: DisasterModel, shelter_id: int, phase: float) -> Any:
    """One shelter reports its head count to the HQ every interval, from its own phase."""
    step = m.p.hq_report_interval_min * 60.0
    yield env.timeout(phase * step)
    while True:
        now = m.t0 + env.now
        m.safety.hq.receive(shelter_reports(m.net, now, [shelter_id]), now)
        yield env.timeout(step)


def paper_entry(env: simpy.Environment, m: DisasterModel, entered: list[int]) -> Any:
    """Staff transcribe waiting paper forms into the shelter system, at a limited rate."""
    step = m.p.paper_entry_interval_min * 60.0
    limit = int(m.p.paper_entry_forms_per_hour * float(m.load.sum()) * step / 3600.0)
    while True:
        yield env.timeout(step)
        rep = m.net.reconcile_paper(m.t0 + env.now, limit)
        entered[0] += rep.entered + rep.unreadable + rep.duplicates + rep.conflicts


def outage_plan(m: DisasterModel, rng: np.random.Generator) -> list[tuple[list[int], float, float]]:
    """Which shelters' readers lose the network, from when, for how long (drawn per shelter)."""
    p = m.p
    n = len(m.reader_ids)
    hit = rng.random(n) < p.reader_offline_probability
    start = rng.uniform(0.0, p.horizon_h * 3600.0, n)
    length = rng.exponential(p.reader_outage_mean_min * 60.0, n)
    return [(readers, float(start[s]), float(length[s]))
            for s, readers in enumerate(m.reader_ids) if readers and hit[s]]


def reader_outages(env: simpy.Environment, m: DisasterModel, rng: np.random.Generator) -> int:
    """Schedule network outages of shelters' readers (queued taps sync when back); how many."""
    plan = outage_plan(m, rng)
    for readers, start, length in plan:
        env.timeout(start).callbacks.append(lambda _e, r=readers: _set(m, r, False))
        env.timeout(start + length).callbacks.append(lambda _e, r=readers: _set(m, r, True))
    return len(plan)


def _set(m: DisasterModel, readers: list[int], online: bool) -> None:
    """Take readers off or back on the network (back on syncs their queues)."""
    for r in readers:
        m.net.set_online(r, online, m.t0 + m.env.now)


def sampler(env: simpy.Environment, m: DisasterModel, rows: list[dict]) -> Any:
    """Every step: the truth against the HQ's view and the shelter system."""
    ids = m.net.facility_ids.tolist()
    while True:
        now = m.t0 + env.now
        acc = m.safety.hq.accuracy(dict(zip(ids, m.present, strict=True)), now)
        arrived = m.n_arrived
        known = int(sum(m.net.reg) - sum(m.net.anon))
        waiting = sum(d.queue_length + d.busy for d in (*m.paper, *m.readers, *m.face.values()))
        rows.append({"hours": env.now / 3600.0, "arrived": arrived, "true_present": acc.true_total,
                     "hq_total": acc.reported_total, "hq_abs_error": acc.abs_error,
                     "hq_relative_error": acc.relative_error,
                     "hq_mean_age_min": acc.mean_age_s / 60.0, "unreported": acc.unreported,
                     "identified": known,
                     "desk_count": int(sum(m.net.occ)), "waiting": waiting,
                     "registered_share": m.n_registered / arrived if arrived else 0.0})
        yield env.timeout(m.p.series_step_min * 60.0)


def final_sync(m: DisasterModel) -> int:
    """Bring every reader back online at the end (syncing its queue); how many were offline."""
    off = [r for r, on in m.net.online.items() if not on]
    for r in off:
        m.net.set_online(r, True, m.t0 + m.env.now)
    return len(off)


def simulate(p: Params, streams: Streams | np.random.Generator
             ) -> tuple[DisasterModel, list[dict], dict]:
    """Build the city, the services and the evacuation, and run to the horizon.

    `streams`: one stream per source (as `run` gives), or one generator for every source.
    """
    streams = as_streams(streams)
    t0 = parse_jst(p.quake_jst)
    city, load = scaled_city(p, city_for(p.city, p.city_seed, p.scale))
    ev = draw_evacuation(streams, city, p, arrival_hours(p))
    if ev.people == 0:
        raise ValidationError("nobody evacuates at this scale and evacuation_share; raise either")
    safety, face = build_services(p, city, t0)
    if p.engine == "fast":
        from scenarios.fast.disaster_run import run_fast

        return run_fast(p, ev, safety, face, streams, t0, load)
    env = simpy.Environment()
    m = DisasterModel(env, p, ev, safety, face, streams, t0, load)
    rows: list[dict] = []
    entered = [0]
    env.process(m.source())
    phases = streams["hq_phase"].random(len(m.paper)).tolist()
    for fid, phase in zip(m.net.facility_ids.tolist(), phases, strict=True):
        env.process(hq_reports(env, m, fid, phase))
    env.process(paper_entry(env, m, entered))
    env.process(sampler(env, m, rows))
    outages = reader_outages(env, m, streams["outages"])
    env.run(until=p.horizon_h * 3600.0 + 1e-6)
    stats = {"outages": outages, "forms_entered": entered[0], "offline_at_end": final_sync(m),
             "simpy_events": next(env._eid)}  # events scheduled so far
    m.finish()
    return m, rows, stats


def run(params: Params, seed: int | np.random.SeedSequence) -> ScenarioResult:
    """Run the disaster check-in once."""
    if not isinstance(params, Params):
        raise ValidationError(f"disaster needs disaster.Params, got {type(params).__name__}")
    # the fast engine's run allocates millions of small objects without cycles: the collector
    # would walk them again and again (SimPy's processes do make cycles: it stays on there)
    with collector_paused(freeze=True) if params.engine == "fast" else nullcontext():
        m, rows, stats = simulate(params, Streams(as_seed_sequence(seed)))
        series = pl.DataFrame(rows)
        frames = {"series": series, "evacuees": evacuees_frame(m), "shelters": shelters_frame(m)}
        kpis = kpis_of(m, series, stats)
    return ScenarioResult("disaster", params.to_dict(), seed_label(seed), kpis, frames,
                          _notes(params))


def _notes(p: Params) -> tuple[str, ...]:
    """What the numbers rest on, and what the scale changes."""
    notes = ("check-in times: lognormal fitted to the published trials (calibration/); "
             "arrival curve fitted to Kumamoto 2016 and Noto 2024",
             "assumptions: households together 60 %, card carried 80 %, no ID 3 %, staff per "
             "reader desk 0.5, phone head counts every 3 h without the system (parameters)")
    if p.scale < 1:
        notes = (scale_line(p.scale) + ": each shelter's places, paper staff, readers and "
                 "transcription, and each ward's face-check staff, are scaled with the residents "
                 "it serves (fractional staff as stretched service times), so evacuees per place, "
                 "per reader and per staff member are as in the whole city",) + notes
    return notes
