"""The kiosk side of a synthetic drill (no Ray): a plain KioskHost issuing with known visit times, a plain
TrustHost checking signed kiosk authentications (some tampered), and a shelter filled past its capacity."""

from __future__ import annotations

import base64
import uuid

import numpy as np
import polars as pl

from actors import world
from actors.hosts_kiosks import KioskHost
from actors.hosts_safety import ShelterHost
from actors.hosts_trust import TrustHost
from actors.spec import ServiceSpec
from devices import contract
from tests.actors.live_helpers import T_LIVE
from twin.services.kiosks import KIOSK_METHOD

# per kiosk (by its position among the city's kiosks): ln(visit time, s) ~ N(mu, sigma)
KNOWN_KIOSK = {0: (4.9, 0.45), 1: (5.2, 0.35)}
VISITS_PER_KIOSK = 140
KIOSK_IDLE_BREAKS = 3  # per kiosk: 20-40 min without anyone (gaps the estimator must drop)
SECOND_DOC_SHARE = 0.3  # visits that take two documents (one visit, not two)
GOOD_AUTHS, TAMPERED_AUTHS = 12, 3
REDIRECTED = 7  # card check-ins beyond the filled shelter's capacity


def _spec(folder, store: str) -> ServiceSpec:
    return ServiceSpec(data_dir=str(folder), scale=0.01, shelter_groups=1, resident_shards=1, built_at=T_LIVE,
                       store=store).open()


def make_kiosk_drill(folder, seed: int = 11, store: str = "sqlite") -> dict:
    """Kiosk documents whose visit ends are spaced by draws of each kiosk's lognormal (with idle breaks)."""
    spec = _spec(folder, store)
    host = KioskHost(spec)
    kiosks = host.sites()["kiosks"]
    holders = world.city(spec).residents.filter(pl.col("has_card"))["resident_id"].to_list()
    cert = host.params.kiosk_certificate_types[0]
    rng = np.random.default_rng(seed)
    docs, k = 0, 0
    for pos, (mu, sigma) in KNOWN_KIOSK.items():
        gaps = rng.lognormal(mu, sigma, VISITS_PER_KIOSK)
        gaps[rng.choice(np.arange(1, VISITS_PER_KIOSK), KIOSK_IDLE_BREAKS, replace=False)] += \
            rng.uniform(1200, 2400, KIOSK_IDLE_BREAKS)
        for end in T_LIVE + np.cumsum(gaps):
            rid = holders[k % len(holders)]
            k += 1
            times = [end - rng.uniform(5, 30), end] if rng.random() < SECOND_DOC_SHARE else [end]
            for j, t in enumerate(times):
                ident = {"resident_id": rid, "method": KIOSK_METHOD, "assurance": "HIGH", "at": t - 20.0}
                host.kiosk_request(kiosks[pos], ident, cert, float(t), request_key=f"v{k}-{j}")
                docs += 1
    host.store.close()
    return {"kiosks": {kiosks[pos]: v for pos, v in KNOWN_KIOSK.items()}, "documents": docs,
            "visits": VISITS_PER_KIOSK * len(KNOWN_KIOSK)}


def make_kiosk_auths(folder, store: str = "sqlite") -> dict:
    """Signed kiosk authentications checked by the trust host: GOOD_AUTHS right ones, TAMPERED_AUTHS with a
    signature of another challenge."""
    spec = _spec(folder, store)
    host = TrustHost(spec)
    reg = host.registry
    serials = world.city(spec).residents.filter(pl.col("has_card"))["card_serial"].to_list()
    taps = []
    for i in range(GOOD_AUTHS + TAMPERED_AUTHS):
        serial, tid, when, nonce = int(serials[i]), uuid.uuid4().hex, T_LIVE + 60.0 * i, uuid.uuid4().hex
        card = reg.card(serial)
        card.verify_pin("user", reg.pins(serial).user, when)
        signed_tid = tid if i < GOOD_AUTHS else uuid.uuid4().hex
        sig = card.sign(contract.challenge(signed_tid, "kiosk-1", "site-1", when, nonce), when)
        taps.append({"tap_id": tid, "device_id": "kiosk-1", "site_id": "site-1", "kind": "kiosk_auth", "at": when,
                     "card": {"card_serial": serial},
                     "auth": {"certificate": base64.b64encode(card.certificate()).decode(), "nonce": nonce,
                              "signature": base64.b64encode(sig).decode()}})
    answers = host.kiosk_taps(taps, [f"fp{i}" for i in range(len(taps))])
    host.store.close()
    return {"recorded": sum(a["status"] == "recorded" for a, _ in answers),
            "refused": sorted(a.get("error") for a, _ in answers if a["status"] == "rejected")}


def fill_a_shelter(folder, after: int, store: str = "sqlite") -> int:
    """Card check-ins at shelter group 0's first shelter up to its capacity and REDIRECTED beyond it, by card
    holders after the first `after`; the shelter's facility id."""
    spec = _spec(folder, store)
    host = ShelterHost(spec, 0)
    occ = host.occupancy().row(0, named=True)
    reader = max(r for r, s in host.readers() if s == occ["shelter_id"])  # not one of make_drill's readers
    serials = world.city(spec).residents.filter(pl.col("has_card"))["card_serial"].to_list()
    n = int(occ["free"]) + REDIRECTED
    chosen = serials[after:after + n]
    assert len(chosen) == n, "the synthetic city has too few card holders to fill a shelter"
    at = T_LIVE + 40_000.0 + 15.0 * np.arange(n, dtype=float)  # a crowd arriving late in the day
    host.taps("checkin", {"tap_id": [f"fill{i}" for i in range(n)], "fingerprint": [f"ff{i}" for i in range(n)],
                          "reader_id": [reader] * n, "serial": [int(s) for s in chosen], "at": at.tolist()})
    host.store.close()
    return int(occ["shelter_id"])
