"""The certificate peak decides the same in every key mode, and draws each source of chance from
its own stream, so designs that differ in one element keep every other draw."""

from __future__ import annotations

import json
from collections import Counter

import polars as pl
import pytest

from scenarios import certificates
from scenarios.certificates import simulate
from scenarios.runner import make_params

HARSH = {"city_seed": 1, "days": 1, "demand_share": 0.04, "counter_windows_per_ward": 1,
         "pin_mistype_probability": 0.4, "kiosk_p_network_down": 0.05, "kiosk_p_paper_out": 0.03}


def params(scale: float, **over):
    return make_params("certificates", "full", overrides=HARSH | {"scale": scale} | over)


def _decided(p, seed: int) -> tuple:
    """Everything a run decides: KPIs, frames, and the count of every event the services logged."""
    m, _, _ = simulate(p, seed)
    events = Counter(type(e).__name__ for e in m.service.events)
    events.update(type(e).__name__ for e in m.registry.events)
    r = certificates.run(p, seed)
    frames = {k: f.to_dicts() for k, f in r.frames.items()}
    return json.dumps([dict(r.kpis), frames], sort_keys=True, default=str), events  # NaN == NaN as text


@pytest.mark.parametrize("scale", [0.01, 0.02])
def test_every_key_mode_gives_the_same_kpis_frames_and_event_counts(scale):
    for seed in (1, 2, 3):
        hmac = _decided(params(scale, key_mode="hmac"), seed)
        assert hmac[1]["PinLockedEvent"] > 0 and hmac[1]["Refused"] > 0 and hmac[1]["CertificateVoided"] > 0
        assert _decided(params(scale, key_mode="ed25519"), seed) == hmac


def test_the_real_cards_rsa_keys_decide_as_hmac_cards_do():
    p = params(0.01, demand_share=0.002, pin_mistype_probability=0.5)  # a small slice with PIN errors
    hmac = _decided(p, 4)
    assert hmac[1]["Authenticated"] > 0 and hmac[1]["PinRejected"] > 0
    assert _decided(p.replace(key_mode="rsa2048"), 4) == hmac


def test_more_counter_windows_leave_every_visit_and_kiosk_draw_as_it_was():
    one, four = (certificates.run(params(0.01, counter_windows_per_ward=w), 5) for w in (1, 4))
    drawn = ["resident_id", "cert_type", "copies", "planned_channel", "set_out_h"]
    assert one.frames["visits"].select(drawn).equals(four.frames["visits"].select(drawn))
    assert one.kpis["counter_wait_p95_min"] > four.kpis["counter_wait_p95_min"]


def test_a_cheaper_kiosk_moves_visits_to_kiosks_and_leaves_the_others_unchanged():
    dear, cheap = (certificates.run(params(0.01, kiosk_fee_yen=fee), 6).frames["visits"] for fee in (300, 100))
    key = ["resident_id", "cert_type", "copies", "set_out_h"]
    kiosk = lambda f: set(f.filter(pl.col("planned_channel") == "kiosk").select(key).rows())  # noqa: E731
    assert kiosk(dear) < kiosk(cheap)
    assert set(dear.select(key[:3]).rows()) == set(cheap.select(key[:3]).rows())


def test_asking_for_the_same_seed_sequence_twice_gives_the_same_run():
    import numpy as np

    ss = np.random.SeedSequence(9)
    assert certificates.run(params(0.01), ss).kpis == certificates.run(params(0.01), ss).kpis
