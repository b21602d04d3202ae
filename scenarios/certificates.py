"""Peak certificate demand: the March-April moving season at kiosks and ward counters.

Requests follow the published day-of-week and time-of-day peaks at the whole city's rate; each
goes to a kiosk or a counter by card holding, hours, distance, fee and certificate type; linkage
(when the design enables it) removes the attachment certificates it covers. Kiosk requests are
authenticated by the real JPKI reader and issued by the real `Kiosk`; counter requests by the
real `CounterOffice`; fees and the audit record go through the real ledger.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import polars as pl
import simpy

from scenarios.certificate_demand import COUNTER, KIOSK, kiosk_sites, make_visits, with_ownership
from scenarios.certificates_kpis import (
    KPIS,
    counter_waits_by_ward,
    kpis_of,
    records_of,
    series_frame,
    visits_frame,
    wards_frame,
)
from scenarios.certificates_params import CertificatesParams as Params
from scenarios.certificates_params import start_day
from scenarios.certificates_sim import CertificateModel
from scenarios.cities import city_for
from scenarios.fast.certificates_deferred import SpeculationMiss
from scenarios.fast.certificates_engine import FastCertificateModel, FastEnv
from scenarios.plotspec import Plot
from scenarios.results import ScenarioResult, as_seed_sequence, seed_label
from scenarios.scaling import scale_line
from scenarios.streams import Streams
from scenarios.templates import template
from twin.card.rules import day_of
from twin.clock import jst
from twin.collector import collector_paused
from twin.errors import ValidationError

__all__ = ["KPIS", "PLOTS", "Params", "TITLE", "run"]
TITLE = "peak certificate demand"
# the sources of chance, each its own stream by name (common random numbers): ownership, demand,
# choice, arrivals, patience, service, pins, kiosk_faults, returns, challenges
PLOTS = (
    Plot("series", "series", "counter_queue", "People waiting at ward counters (all wards)",
         "people in line", x="hours", xlabel="hours from the first day's midnight (the days "
         "simulated)", question="How long are the lines at the ward counters in the peak week?",
         headline=("counter_wait_p95_min", "kiosk_share")),
    Plot("series", "series", "kiosks_busy", "Kiosks in use, whole city",
         "kiosks serving (store kiosks of the whole city + public)", x="hours",
         xlabel="hours from the first day's midnight"),
    Plot("exceed", "visits", "waited_min", "Wait at the ward counter",
         "share of counter visitors who waited longer than x", xlabel="minutes",
         filter_col="final_channel", filter_value="counter"),
)


@lru_cache(maxsize=2)
def authority(city: str, city_seed: int, key_mode: str) -> Any:
    """The card authority of a city's cards, kept per process: its keys and certificates are
    derived lazily and deterministically, so later replications reuse them (nothing here is
    revoked, so no state carries over that could change an outcome)."""
    from twin.pki import CertificateAuthority

    return CertificateAuthority.for_key_mode(city_seed * 1009 + sum(map(ord, city)), key_mode)


def build_services(p: Params, city: Any, t_start: float) -> tuple[Any, Any, Any]:
    """The certificate service (in-memory ledger), the card registry and a kiosk reader."""
    from twin.card import CardRegistry
    from twin.events import EventLog
    from twin.reader import Reader
    from twin.services.certificates import CertificateParams, CertificateService, IssuanceServer

    cp = CertificateParams(
        kiosk_certificate_types=p.kiosk_certificate_types, kiosk_fee_yen=p.kiosk_fee_yen,
        counter_fee_yen=p.counter_fee_yen, kiosk_open_hour=p.kiosk_open_hour,
        kiosk_close_hour=p.kiosk_close_hour,
        family_register_weekdays_only=p.family_register_weekdays_only,
        counter_open_hour=p.counter_open_hour, counter_close_hour=p.counter_close_hour,
        counter_windows_per_ward=p.counter_windows_per_ward,
        kiosk_p_network_down=p.kiosk_p_network_down, kiosk_p_paper_out=p.kiosk_p_paper_out)
    # who may have which certificate, read from the residents once per frame and process; each run its own copy
    server = template("issuance_server", city.residents, (), lambda: IssuanceServer(city.residents)).copy()
    service = CertificateService(city.residents, params=cp, server=server)
    ca = authority(p.city, p.city_seed, p.key_mode)
    if ca.revoked_count:  # a run revoked certificates: this one starts from an authority that has not
        authority.cache_clear()
        ca = authority(p.city, p.city_seed, p.key_mode)
    # the city's cards are drawn once per residents frame per process; each run gets its own copy
    # (PIN counters, statuses, reissues) with its own trust log
    pristine = template("card_registry", city.residents, (city.name, city.seed, day_of(t_start), ca),
                        lambda: CardRegistry.from_city(city, ca, t_start, events=EventLog()))
    registry = pristine.fresh_copy(events=EventLog())
    return service, registry, Reader(ca, registry, reader_id="kiosk-network")


def holder_probability(p: Params, city: Any) -> float:
    """The kiosk probability of a card holder: set, or calibrated at the city's ownership."""
    if p.kiosk_holder_probability > 0:
        return p.kiosk_holder_probability
    from calibration.params import fitted

    return float(fitted().kiosk.holder_probability(float(city.residents["has_card"].mean())))


def simulate(p: Params, seed: int | np.random.SeedSequence) -> tuple[CertificateModel, Any, np.ndarray]:
    """Draw the visits, build the services and run every visit to its end (on the fast engine, again
    with the visits whose queued service calls were not settled decided one by one, until none is)."""
    immediate: set[int] = set()
    while True:
        try:
            return _simulate(p, seed, frozenset(immediate))
        except SpeculationMiss as miss:
            immediate |= miss.visits


def _simulate(p: Params, seed: int | np.random.SeedSequence, immediate: frozenset[int]
              ) -> tuple[CertificateModel, Any, np.ndarray]:
    streams = Streams(as_seed_sequence(seed))
    d = start_day(p.start_date)
    t_start = jst(d.year, d.month, d.day)
    city = with_ownership(city_for(p.city, p.city_seed, p.scale), p.card_ownership, streams["ownership"])
    xy, per_site, public, kiosk_ward = template(  # the sites depend on the city and 3 settings only
        "kiosk_sites", city.facilities, (p.kiosks_enabled, p.store_kiosks, p.public_kiosks_per_ward),
        lambda: _sites(p, city))
    visits = make_visits(streams, p, city, xy, holder_probability(p, city))
    services = build_services(p, city, t_start)
    if p.engine == "fast":
        env, model = FastEnv(), FastCertificateModel
    else:
        env, model = simpy.Environment(), CertificateModel
    # the collector paused while the visits' many small objects come and go (no cycles among them);
    # fees and audit rows written in batches: the same book, fewer commits
    with collector_paused(), services[0].batched():
        m = model(env, p, visits, services, per_site, kiosk_ward, streams, t_start)
        if immediate:
            m.immediate = immediate
        simulated = np.flatnonzero((visits.channel == KIOSK) | (visits.channel == COUNTER)).tolist()
        m.start(simulated)
        env.run()
        m.finish()
    return m, city, public


def _sites(p: Params, city: Any) -> tuple[np.ndarray, ...]:
    """Kiosk positions, kiosks per site, site kind (True: public) and ward, read-only (shared by
    the runs of one city and settings)."""
    xy, per_site, public = kiosk_sites(p, city)
    out = (xy, per_site, public, _kiosk_wards(city, xy))
    for a in out:
        a.flags.writeable = False
    return out


def _kiosk_wards(city: Any, xy: np.ndarray) -> np.ndarray:
    """The ward of each kiosk site (the ward whose counter is nearest)."""
    if not len(xy):
        return np.zeros(0, dtype=np.int64)
    c = city.facilities.filter(pl.col("kind") == "counter")
    cxy = c.select("x_km", "y_km").to_numpy()
    near = np.argmin(((xy[:, None, :] - cxy[None, :, :]) ** 2).sum(-1), axis=1)
    return c["ward"].to_numpy()[near].astype(np.int64)


def run(params: Params, seed: int | np.random.SeedSequence) -> ScenarioResult:
    """Run the certificate peak once."""
    if not isinstance(params, Params):
        raise ValidationError(f"certificates needs certificates.Params, got {type(params).__name__}")
    # one pause for the whole run: the model is dropped (freed by reference counting: it holds no cycles)
    # before the collector runs again, so no collection walks it or ages it into an older generation
    with collector_paused():
        m, city, public = simulate(params, as_seed_sequence(seed))
        visits, records = visits_frame(m), records_of(m)  # the seats read once for the series and the KPIs
        by_ward = counter_waits_by_ward(visits)  # and the counter waits per ward for the wards and the KPIs
        frames = {"visits": visits, "series": series_frame(m, records), "wards": wards_frame(m, visits, by_ward),
                  "documents": m.service.documents()}
        m.service.ledger.store.close()  # the run's own book, never read again: its held-back rows are dropped
        kpis = kpis_of(m, visits, int(public.sum()), records, by_ward)
        store = [pt.servers for pt, pub in zip(m.kiosk_points, public.tolist(), strict=True) if not pub]
        del m
    notes = ("demand: the whole city's calibrated rate (season, day of week, hour of day), "
             "whatever the population scale; requesters sampled from the synthetic residents",
             "assumptions: 1.5 certificates per visit, 35 % of counter visits at the ward office "
             "(the rest at branch offices, counted as served), 10 % attachments, patience 2 h "
             "(parameters)")
    if params.scale < 1:
        notes = (scale_line(params.scale) + ": the demand, ward counters and public kiosks are the "
                 "whole city's; residents are a sample",) + notes
        if params.store_kiosks and params.kiosks_enabled:  # the run's kiosk sites, not drawn again
            notes += (f"each of the {len(store)} sampled stores stands for about "
                      f"{sum(store) / max(len(store), 1):.0f} store kiosks: all {sum(store)} store "
                      "kiosks of the whole city are simulated (pooled per sampled store)",)
    return ScenarioResult("certificates", params.to_dict(), seed_label(seed), kpis, frames, notes)

