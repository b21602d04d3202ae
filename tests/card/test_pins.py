"""PIN counters: 3 / 5 / 3 tries, only a correct entry resets, only a counter unlocks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.identity import Assurance, Identity
from twin.trust_errors import CounterOnly, PinFormatError, PinLocked, WrongHolder, WrongPin
from twin.trust_events import PinLockedEvent, PinRejected, PinUnlocked, Refused


def wrong(pin: str) -> str:
    """A different PIN of the same shape."""
    return pin[:-1] + ("1" if pin[-1] != "1" else "2")


def counter_check(resident_id: int, now: float) -> Identity:
    return Identity(resident_id, "counter_photo_id", Assurance.HIGH, now)


def test_a_wrong_pin_says_how_many_tries_remain(registry, adult_serial, now):
    card = registry.card(adult_serial)
    with pytest.raises(WrongPin, match="2 tries left") as err:
        card.verify_pin("user", wrong(registry.pins(adult_serial).user), now)
    assert err.value.tries_left == 2
    assert card.tries_left("user") == 2
    assert registry.events.of(PinRejected)[-1].tries_left == 2


def test_a_correct_pin_resets_the_counter(registry, adult_serial, now):
    card, pin = registry.card(adult_serial), registry.pins(adult_serial).user
    for _ in range(2):
        with pytest.raises(WrongPin):
            card.verify_pin("user", wrong(pin), now)
    card.verify_pin("user", pin, now)
    assert card.tries_left("user") == 3


def test_a_fourth_entry_is_refused_when_locked_even_if_correct(registry, adult_serial, now):
    card, pin = registry.card(adult_serial), registry.pins(adult_serial).user
    for left in (2, 1, 0):
        with pytest.raises(WrongPin) as err:
            card.verify_pin("user", wrong(pin), now)
        assert err.value.tries_left == left
    with pytest.raises(PinLocked, match="only a city counter"):
        card.verify_pin("user", pin, now)
    assert card.is_locked("user")


def test_the_signing_password_locks_after_five_wrong_entries(registry, adult_serial, now):
    card, pw = registry.card(adult_serial), registry.pins(adult_serial).signing
    bad = "ZZ" + pw[2:] if not pw.startswith("ZZ") else "YY" + pw[2:]
    for left in (4, 3, 2, 1, 0):
        with pytest.raises(WrongPin) as err:
            card.verify_pin("signing", bad, now)
        assert err.value.tries_left == left
    with pytest.raises(PinLocked):
        card.verify_pin("signing", pw, now)


def test_the_signing_password_is_accepted_in_lower_case(registry, adult_serial, now):
    card = registry.card(adult_serial)
    card.verify_pin("signing", registry.pins(adult_serial).signing.lower(), now)
    assert card.tries_left("signing") == 5


def test_a_malformed_pin_uses_no_try(registry, adult_serial, now):
    card = registry.card(adult_serial)
    with pytest.raises(PinFormatError):
        card.verify_pin("user", "12345", now)
    assert card.tries_left("user") == 3


def test_the_three_apps_count_separately(registry, adult_serial, now):
    card, pins = registry.card(adult_serial), registry.pins(adult_serial)
    for _ in range(3):
        with pytest.raises(WrongPin):
            card.verify_pin("user", wrong(pins.user), now)
    assert (card.tries_left("user"), card.tries_left("signing"), card.tries_left("support")) == (0, 5, 3)
    card.verify_pin("support", pins.support, now)


def test_every_view_of_a_card_shares_the_registry_counters(registry, adult_serial, now):
    first, second = registry.card(adult_serial), registry.card(adult_serial)
    with pytest.raises(WrongPin):
        first.verify_pin("user", wrong(registry.pins(adult_serial).user), now)
    assert second.tries_left("user") == 2
    assert registry.tries[registry.row_of(adult_serial), 0] == 2


def test_a_pin_brute_force_stops_after_three_guesses(registry, adult_serial, now):
    card = registry.card(adult_serial)
    outcomes = []
    for guess in range(10_000):
        try:
            card.verify_pin("user", f"{guess:04d}", now + guess)
            outcomes.append("accepted")
        except WrongPin:
            outcomes.append("wrong")
        except PinLocked:
            outcomes.append("locked")
    right = int(registry.pins(adult_serial).user)
    if right < 3:  # the attacker hit it among the first three guesses
        assert outcomes[right] == "accepted"
    else:
        assert outcomes[:3] == ["wrong"] * 3
        assert set(outcomes[3:]) == {"locked"}
        assert outcomes[right] == "locked"
    assert len(registry.events.of(PinRejected)) == 3
    assert len(registry.events.of(PinLockedEvent)) == 1
    refusals = [e.reason for e in registry.events.of(Refused)]
    assert refusals.count("wrong_pin") == 3 and refusals.count("pin_locked") == 9997


def test_only_a_counter_check_of_the_holder_unlocks(registry, adult_serial, now):
    card, pin = registry.card(adult_serial), registry.pins(adult_serial).user
    for _ in range(3):
        with pytest.raises(WrongPin):
            card.verify_pin("user", wrong(pin), now)
    holder = registry.holder_of(adult_serial)
    kiosk = Identity(holder, "jpki_user_cert", Assurance.HIGH, now, adult_serial)
    with pytest.raises(CounterOnly):
        registry.unlock_at_counter(adult_serial, "user", kiosk, now)
    with pytest.raises(WrongHolder):
        registry.unlock_at_counter(adult_serial, "user", counter_check(holder + 1, now), now)
    assert card.is_locked("user")
    registry.unlock_at_counter(adult_serial, "user", counter_check(holder, now), now, new_pin="4321")
    assert registry.pins(adult_serial).user == "4321"
    card.verify_pin("user", "4321", now)
    assert registry.events.of(PinUnlocked)[-1].new_pin_set is True


@settings(max_examples=60, deadline=None)
@given(entries=st.lists(st.booleans(), max_size=12))
def test_the_counter_follows_the_published_rule_for_any_sequence(small_city, entries):
    from twin.card import CardRegistry
    from twin.clock import jst
    from twin.pki import CertificateAuthority

    now = jst(2026, 4, 1, 10)
    reg = CardRegistry.from_city(small_city, CertificateAuthority(1, "ed25519"), now)
    serial = int(reg.serial[0])
    card, pin = reg.card(serial), reg.pins(serial).user
    tries = 3
    for correct in entries:
        try:
            card.verify_pin("user", pin if correct else wrong(pin), now)
            outcome = "ok"
        except WrongPin:
            outcome = "wrong"
        except PinLocked:
            outcome = "locked"
        expected = "locked" if tries == 0 else ("ok" if correct else "wrong")
        tries = tries if tries == 0 else (3 if correct else tries - 1)
        assert outcome == expected
        assert card.tries_left("user") == tries
