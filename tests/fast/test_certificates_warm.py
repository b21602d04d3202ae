"""A replication that finds every per-process cache warm (card secrets, credential checks, PINs,
the authority) decides exactly what the first, cold one decided, on both engines."""

from __future__ import annotations

import pytest

from scenarios import certificates
from tests.fast.test_certificates_engines import assert_same, decided
from twin import card_mac
from twin.card import rules
from twin.verifier import mac_certificate


@pytest.mark.parametrize("engine", ["fast", "simpy"])
def test_a_warm_replication_decides_as_the_cold_first_one(engine):
    for cache in (card_mac.checked_credential, mac_certificate, rules.derive_pin, certificates.authority):
        cache.cache_clear()
    cold = decided(engine, 4, scale=0.01, pin_mistype_probability=0.5)
    assert cold["counts"]["pin_locks"] > 0 and card_mac.checked_credential.cache_info().currsize > 0
    hits = mac_certificate.cache_info().hits
    assert_same(cold, decided(engine, 4, scale=0.01, pin_mistype_probability=0.5))
    assert mac_certificate.cache_info().hits > hits
