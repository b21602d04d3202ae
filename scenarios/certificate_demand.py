"""Who asks for which certificate, when, and where they go: the moving-season workload, in bulk.

Demand is the whole city's (the calibrated rate times the season, day-of-week and time-of-day
profile), whatever the population scale: requesters are drawn from the synthetic residents of
each ward. Some visits are attachments to city applications; linkage removes those it covers
(the linkage service says which). Card holders choose a kiosk or a counter by a calibrated
probability bent by the fee difference and the distance to the nearest kiosk; counter visits
go to the ward office or (not simulated) a branch office.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import polars as pl
from scipy.spatial import cKDTree

from scenarios.certificates_params import CERT_TYPES, CertificatesParams, start_day
from scenarios.nearest import nearest, nearest_distance
from scenarios.scaling import integer_split
from scenarios.streams import Streams
from scenarios.templates import template
from twin.clock import jst
from twin.population import City
from twin.services.certificate_rules import CERTIFICATE_TYPES
from twin.services.hours import is_business_day
from twin.services.linkage_applications import certificates_avoided

KIOSK, COUNTER, BRANCH, AVOIDED = 0, 1, 2, 3
CHANNEL_NAMES = ("kiosk", "counter", "branch", "avoided")
SLOT_H = 0.25  # preferred times are drawn on a quarter-hour grid, uniform within the slot


@dataclass(frozen=True)
class Visits:
    """Every visit in time order: requester, certificate, copies, channel, kiosk, times."""

    at: np.ndarray  # POSIX seconds the requester sets out
    resident: np.ndarray
    ward: np.ndarray
    cert: np.ndarray  # index into CERT_TYPES
    copies: np.ndarray
    channel: np.ndarray  # KIOSK, COUNTER, BRANCH or AVOIDED
    kiosk: np.ndarray  # nearest kiosk index (-1: none)
    kiosk2: np.ndarray  # next nearest kiosk index (-1: none), tried when the first has a line
    serial: np.ndarray  # card serial, -1 without a card
    application: np.ndarray  # attachment's application ("" if not an attachment)
    patience_s: np.ndarray


def with_ownership(city: City, share: float, rng: np.random.Generator) -> City:
    """The city with extra card holders (random non-holders) up to `share`; unchanged if at or above."""
    r = city.residents
    have = r["has_card"].to_numpy()
    want = int(round(share * r.height)) - int(have.sum())
    if share <= 0 or want <= 0:
        return city
    new = rng.choice(np.flatnonzero(~have), size=want, replace=False)
    serial = r["card_serial"].fill_null(-1).to_numpy().copy()
    serial[new] = serial.max() + 7 * np.arange(1, want + 1)
    have = have.copy()
    have[new] = True
    res = r.with_columns(has_card=pl.Series(have),
                         card_serial=pl.Series(serial).replace(-1, None))
    return dataclasses.replace(city, residents=res)


def daily_visits(p: CertificatesParams, city: City, rng: np.random.Generator) -> list[int]:
    """Visits per simulated day at the whole city's rate."""
    from calibration.params import fitted

    demand, first = fitted().demand, start_day(p.start_date)
    out = []
    for k in range(p.days):
        d = first + dt.timedelta(days=k)
        factor = float(demand.daily_factor(d.timetuple().tm_yday, d.weekday()))
        docs = (city.preset.population * p.demand_share * p.requests_per_resident_per_year
                / 365.0 * factor)
        out.append(int(rng.poisson(docs / p.copies_mean)))
    return out


def _slot_times(u: np.ndarray, day: dt.date, open_h: float, close_h: float) -> np.ndarray:
    """Times on `day` between open and close, by the calibrated time-of-day profile, from two
    uniforms per visit (u[0] picks the slot, u[1] the moment in it)."""
    from calibration.params import fitted

    slots = np.arange(open_h, close_h, SLOT_H)
    cdf = np.cumsum(fitted().demand.hourly_weights(slots + SLOT_H / 2))
    pick = np.minimum(np.searchsorted(cdf / cdf[-1], u[0], side="right"), slots.size - 1)
    return jst(day.year, day.month, day.day) + (slots[pick] + u[1] * SLOT_H) * 3600.0


def _eligible_pools(res: pl.DataFrame) -> dict[str, Any]:
    """Adult residents, and those by (ward, certificate type) who can have that certificate
    (read-only arrays: a per-process template shared by every replication)."""
    adult = res["age"].to_numpy() >= 18
    ward = res["ward"].to_numpy()
    pools = {}
    for t, name in enumerate(CERT_TYPES):
        col = CERTIFICATE_TYPES[name].requires
        ok = adult & (res[col].to_numpy() if col else True)
        for w in np.unique(ward):
            pools[(int(w), t)] = np.flatnonzero(ok & (ward == w))
    adults = np.flatnonzero(adult)
    for a in (adults, *pools.values()):
        a.flags.writeable = False
    return {"adults": adults, "by_ward_type": pools}


def _attachments(p: CertificatesParams, n: int, rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For n attachment visits: application, certificate type index, and whether linkage covers it."""
    apps, certs, avoided, avoided_held = _attachment_table(tuple(p.linkage_internal_tasks),
                                                          tuple(p.linkage_external_tasks))
    pick = rng.integers(0, apps.size, n)
    held = rng.random(n) < p.held_elsewhere_share
    covered = np.where(held, avoided_held[pick], avoided[pick]) > 0
    return apps[pick], certs[pick], covered


@lru_cache(maxsize=16)
def _attachment_table(internal: tuple[str, ...], external: tuple[str, ...]
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The city-issued certificates of every application: application, certificate type index, copies
    linkage avoids (certificates held in the city; held elsewhere). A pure function of the linkage
    settings, worked out once per process (read-only arrays)."""
    rows = [certificates_avoided(internal, external, flag).filter(pl.col("issued_by") == "city")
            for flag in (False, True)]
    table = (rows[0]["application"].to_numpy(), np.array([CERT_TYPES.index(c) for c in rows[0]["certificate"]]),
             rows[0]["copies_avoided"].to_numpy(), rows[1]["copies_avoided"].to_numpy())
    for a in table:
        a.flags.writeable = False
    return table


def kiosk_sites(p: CertificatesParams, city: City) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kiosk positions, kiosks per site, site kind (True: public).

    Demand is the whole city's, so the sampled stores of each ward share out that ward's
    full-city store count (`represents` in the facilities): every store kiosk of the whole
    city is there, and requests per kiosk are as in the full city.
    """
    fac = city.facilities
    xy, per, public = [], [], []
    if p.kiosks_enabled and p.store_kiosks:
        stores = fac.filter(pl.col("kind") == "store")
        xy.append(stores.select("x_km", "y_km").to_numpy())
        per += store_kiosks_per_site(stores).tolist()
        public += [False] * stores.height
    if p.kiosks_enabled and p.public_kiosks_per_ward:
        for _w, g in fac.filter(pl.col("kind") == "public_kiosk_site").group_by("ward",
                                                                              maintain_order=True):
            sites = g.select("x_km", "y_km").to_numpy()
            for k in range(p.public_kiosks_per_ward):
                xy.append(sites[k % len(sites)][None, :])
                per.append(1)
                public.append(True)
    if not xy:
        return np.zeros((0, 2)), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    return np.vstack(xy), np.array(per, dtype=np.int64), np.array(public, dtype=bool)


def store_kiosks_per_site(stores: pl.DataFrame) -> np.ndarray:
    """Kiosks each sampled store site stands for: its ward's full-city store count, shared out."""
    out = np.ones(stores.height, dtype=np.int64)
    if "represents" not in stores.columns:
        return out
    ward = stores["ward"].to_numpy()
    rep = stores["represents"].to_numpy()
    for w in np.unique(ward):
        sel = np.flatnonzero(ward == w)
        total = int(round(float(rep[sel].sum())))
        out[sel] = np.maximum(integer_split(total, np.ones(sel.size)), 1)
    return out


def _requesters(rng: np.random.Generator, res: pl.DataFrame, ward: np.ndarray,
                cert: np.ndarray) -> np.ndarray:
    """For each visit, an adult of its ward who is eligible for its certificate."""
    out = np.empty(ward.size, dtype=np.int64)
    pools = template("eligible_pools", res, (), lambda: _eligible_pools(res))  # once per frame
    adults = pools["adults"]
    for (w, t), pool in pools["by_ward_type"].items():
        sel = np.flatnonzero((ward == w) & (cert == t))
        src = pool if pool.size else adults
        out[sel] = src[rng.integers(0, src.size, sel.size)]
    return out


def _kiosk_odds(p: CertificatesParams, holder_p: float, d_store: np.ndarray,
                d_kiosk: np.ndarray) -> np.ndarray:
    """Probability a card holder picks a kiosk: calibrated base, fee and distance adjustments."""
    base = min(max(holder_p, 1e-9), 1 - 1e-9)
    odds = base / (1 - base) * p.fee_odds_per_100_yen ** ((p.counter_fee_yen - p.kiosk_fee_yen)
                                                          / 100.0)
    odds = odds * np.exp(np.clip((d_store - d_kiosk) / p.distance_scale_km, -50, 50))
    return odds / (1 + odds)


def _times(u: np.ndarray, p: CertificatesParams, day: np.ndarray, channel: np.ndarray,
           cert: np.ndarray) -> np.ndarray:
    """When each visit sets out: kiosk hours for kiosk users, office hours on business days else;
    each visit's time comes from its own two uniforms, so its channel changes nobody else's.

    Family-register certificates at kiosks keep their own hours (business days 9-17 when the
    design limits them): their users set out within those hours, as people who know them do,
    rather than all waiting at a kiosk for 9:00.
    """
    from twin.services.certificate_rules import CertificateParams

    first, at = start_day(p.start_date), np.zeros(day.size)
    fr = np.isin(cert, [CERT_TYPES.index(t) for t in CERT_TYPES if t.startswith("family_register")])
    fr &= (channel == KIOSK) & p.family_register_weekdays_only
    defaults = CertificateParams()
    fr_open = max(defaults.family_register_open_hour, p.kiosk_open_hour)
    fr_close = min(defaults.family_register_close_hour, p.kiosk_close_hour)
    for k in np.unique(day):
        d = first + dt.timedelta(days=int(k))
        kiosk = np.flatnonzero((day == k) & (channel == KIOSK) & ~fr)
        at[kiosk] = _slot_times(u[:, kiosk], d, p.kiosk_open_hour, p.kiosk_close_hour)
        business = d
        while not is_business_day(business):  # counters are closed: go on the next business day
            business += dt.timedelta(days=1)
        office = np.flatnonzero((day == k) & (channel != KIOSK))
        at[office] = _slot_times(u[:, office], business, p.counter_open_hour,
                                 p.counter_close_hour)
        family = np.flatnonzero((day == k) & fr)
        if family.size and fr_open < fr_close:
            at[family] = _slot_times(u[:, family], business, fr_open, fr_close)
        elif family.size:
            at[family] = _slot_times(u[:, family], d, p.kiosk_open_hour, p.kiosk_close_hour)
    return at


def _store_xy(city: City) -> np.ndarray:
    """The city's store positions (read-only); kept per city (`template`)."""
    stores = city.facilities.filter(pl.col("kind") == "store").select("x_km", "y_km").to_numpy()
    stores = np.ascontiguousarray(stores, dtype=np.float64)
    stores.flags.writeable = False
    return stores


def _resident_columns(res: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The wards and their resident counts, and every resident's card serial (-1: none), read-only:
    kept per residents frame (`template`), not read from the whole frame every run."""
    wards, counts = np.unique(res["ward"].to_numpy(), return_counts=True)
    out = (wards, counts, res["card_serial"].fill_null(-1).to_numpy().copy())
    for a in out:
        a.flags.writeable = False
    return out


def make_visits(streams: Streams, p: CertificatesParams, city: City,
                kiosk_xy: np.ndarray, holder_p: float) -> Visits:
    """Draw every visit of the period (see the module docstring): who and what from the `demand`
    stream, the channel from `choice`, the time from `arrivals`, the patience from `patience`."""
    rng = streams["demand"]
    res = city.residents
    day = np.repeat(np.arange(p.days), daily_visits(p, city, rng))
    n = day.size
    wards, counts, serials = template("resident_columns", res, (), lambda: _resident_columns(res))
    ward = rng.choice(wards, size=n, p=counts / counts.sum())
    mix = np.array(p.type_mix) / sum(p.type_mix)
    cert = rng.choice(len(CERT_TYPES), size=n, p=mix)
    application = np.full(n, "", dtype=object)
    covered = np.zeros(n, dtype=bool)
    attach = np.flatnonzero(rng.random(n) < p.attachment_share)
    application[attach], cert[attach], covered[attach] = _attachments(p, attach.size, rng)
    resident = _requesters(rng, res, ward, cert)
    copies = np.where(application == "", 1 + rng.poisson(p.copies_mean - 1.0, n), 1)
    serial = serials[resident]
    hh, hid = city.households, res["household_id"].to_numpy()[resident]
    home = np.stack([hh["x_km"].to_numpy()[hid], hh["y_km"].to_numpy()[hid]], 1)  # the visits' homes only
    offered = np.isin(cert, [CERT_TYPES.index(t) for t in p.kiosk_certificate_types])
    # distances and kiosks only for the visits that could go to a kiosk (a card, a type kiosks issue): nothing
    # else reads them (each query answers each point alone, so theirs are the same)
    need = np.flatnonzero((serial >= 0) & offered)
    home = home[need]
    stores = template("store_xy", city.facilities, (), lambda: _store_xy(city))
    d_store = nearest_distance(home, stores) if len(stores) else np.full(need.size, np.inf)
    kiosk, kiosk2, d_kiosk = np.full(n, -1), np.full(n, -1), np.full(need.size, np.inf)
    if len(kiosk_xy) > 1:  # (on the grid when numba is loaded: `scenarios.nearest`)
        d2, k2 = nearest(home, kiosk_xy, 2)
        d_kiosk, kiosk[need], kiosk2[need] = d2[:, 0], k2[:, 0], k2[:, 1]
    elif len(kiosk_xy):
        d_kiosk, kiosk[need] = cKDTree(kiosk_xy).query(home)
    p_k = np.zeros(n)
    p_k[need] = _kiosk_odds(p, holder_p, d_store, d_kiosk)
    u_kiosk, u_office = streams["choice"].random((2, n))
    to_kiosk = (serial >= 0) & offered & (kiosk >= 0) & (u_kiosk < p_k)
    channel = np.where(to_kiosk, KIOSK, np.where(u_office < p.ward_office_share, COUNTER,
                                                 BRANCH)).astype(np.int8)
    channel[covered] = AVOIDED
    at = _times(streams["arrivals"].random((2, n)), p, day, channel, cert)
    patience = streams["patience"].lognormal(np.log(p.counter_patience_min * 60.0), 0.5, n)
    o = np.argsort(at, kind="stable")
    return Visits(at[o], resident[o], ward[o], cert[o], copies[o], channel[o],
                  np.asarray(kiosk)[o].astype(np.int64), np.asarray(kiosk2)[o].astype(np.int64),
                  serial[o], application[o], patience[o])
