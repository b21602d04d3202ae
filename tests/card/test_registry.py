"""The columnar registry built from a city: counts, validity, lookups, determinism, size."""

from __future__ import annotations

import numpy as np
import pytest

from twin.card import CardRegistry
from twin.card.rules import (
    NO_DAY,
    SIGNING_MIN_AGE,
    age_on,
    card_expiry_day,
    cert_expiry_day,
    day_of,
)
from twin.errors import ValidationError
from twin.pki import CertificateAuthority


def test_every_card_holder_of_the_city_has_a_valid_card(small_city, registry, now):
    holders = small_city.residents.filter("has_card")
    assert len(registry) == holders.height
    assert registry.summary(now) == {"applied": 0, "active": holders.height, "suspended": 0, "retired": 0,
                                     "expired": 0}
    got = registry.residents_of(holders["card_serial"].to_numpy(), now)
    assert np.array_equal(got, holders["resident_id"].to_numpy())


def test_the_snapshot_follows_the_validity_rules(registry, now):
    n = len(registry)
    birth = registry.birth[registry.resident[:n]].astype(np.int64)
    assert np.array_equal(registry.expiry[:n], card_expiry_day(registry.issued[:n], birth))
    capped = np.minimum(cert_expiry_day(registry.user_from[:n], birth), registry.expiry[:n])
    assert np.array_equal(registry.user_until[:n], capped)
    assert (registry.user_until[:n] < cert_expiry_day(registry.user_from[:n], birth)).any()  # the cap bites
    assert (registry.issued[:n] <= day_of(now)).all() and (registry.expiry[:n] >= day_of(now)).all()
    assert (registry.user_until[:n] >= day_of(now)).all()
    signs = registry.sign_from[:n] != NO_DAY
    old_enough = age_on(birth, registry.user_from[:n]) >= SIGNING_MIN_AGE
    assert np.array_equal(signs, old_enough)
    assert (registry.tries[:n] == [3, 5, 3]).all()


def test_unknown_serials_map_to_minus_one_in_batch(registry, now):
    s = int(registry.serial[0])
    assert registry.residents_of(np.array([s, 17, s]), now).tolist() == [registry.holder_of(s), -1,
                                                                        registry.holder_of(s)]


def test_the_same_city_and_seed_build_the_same_registry(small_city, now):
    a = CardRegistry.from_city(small_city, CertificateAuthority(1, "ed25519"), now)
    b = CardRegistry.from_city(small_city, CertificateAuthority(1, "ed25519"), now)
    c = CardRegistry.from_city(small_city, CertificateAuthority(1, "ed25519"), now, seed=99)
    assert np.array_equal(a.issued[: len(a)], b.issued[: len(b)])
    assert not np.array_equal(a.issued[: len(a)], c.issued[: len(c)])
    s = int(a.serial[0])
    assert a.pins(s) == b.pins(s) != c.pins(s)


def test_card_state_costs_a_few_dozen_bytes_per_card(registry):
    per_card = sum(getattr(registry, name).nbytes for name in
                   ("serial", "resident", "status", "issued", "expiry", "user_gen", "user_from", "user_until",
                    "sign_gen", "sign_from", "sign_until", "apps", "tries")) / registry.serial.size
    assert per_card < 64


def test_no_key_is_derived_until_a_card_is_used(ca, registry, adult_serial, now):
    assert len(ca.card_keys) == 0
    registry.card(adult_serial).certificate()
    assert len(ca.card_keys) == 1


def test_an_unknown_free_area_app_is_an_error_naming_the_catalogue(registry):
    with pytest.raises(ValidationError, match="library, seal"):
        registry.enact_ordinance("karaoke")


def test_rows_of_ints_reads_remembered_rows_and_looks_up_the_rest_as_row_of_does(registry):
    serials = [int(s) for s in registry.serial[: len(registry)][:40]]
    registry.remember_rows(np.array(serials[:20], dtype=np.int64))  # half remembered, half not
    asked = [*serials[::-1], 10**15 + 1, serials[3]]  # an unknown card; one asked twice
    rows = registry.rows_of_ints(asked)
    assert rows[:40] == [registry.row_of(s) for s in serials[::-1]]
    assert rows[40] == -1 and rows[41] == registry.row_of(serials[3])
    assert rows == registry.rows_of(np.array(asked, dtype=np.int64)).tolist()


def test_pins_of_many_rows_are_each_rows_pin_also_after_a_reset(registry):
    rows = list(range(0, 30, 3))
    assert registry.pins_of(rows, 0) == [registry.pin_of(r, 0) for r in rows]
    registry.pin_override[(rows[2], 0)] = "4321"  # as a counter reset with a new PIN leaves it
    assert registry.pins_of(rows, 0)[2] == "4321" == registry.pin_of(rows[2], 0)
    assert registry.pins_of(rows, 1) == [registry.pin_of(r, 1) for r in rows]
