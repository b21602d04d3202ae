"""Chip apps: input support behind its PIN, the free area under ordinances, a locked card everywhere."""

from __future__ import annotations

import pytest

from twin.card import FREE_AREA_SLOTS
from twin.ids import is_valid_my_number
from twin.trust_errors import (
    AppNotInstalled,
    CardRevoked,
    CardSuspended,
    FreeAreaFull,
    OrdinanceMissing,
    PinLocked,
    PinRequired,
    WrongPin,
)
from twin.trust_events import AppChanged, Refused


def lock(card, app: str, right: str, now: float) -> None:
    bad = right[:-1] + ("1" if right[-1] != "1" else "2")
    while not card.is_locked(app):
        with pytest.raises(WrongPin):
            card.verify_pin(app, bad, now)


def test_the_input_support_app_gives_the_my_number_behind_its_pin(registry, adult_serial, now):
    card = registry.card(adult_serial)
    data = card.read_input_support(registry.pins(adult_serial).support, now)
    assert is_valid_my_number(data.my_number)
    assert int(data.my_number) == int(registry.my_number[registry.holder_of(adult_serial)])
    assert data.face == card.face
    assert registry.ca.public_key.verify(data.signature, data.payload()) is None


def test_a_free_area_app_without_an_ordinance_cannot_be_installed(registry, adult_serial, now):
    card = registry.card(adult_serial)
    with pytest.raises(OrdinanceMissing, match="Art. 18"):
        card.install_app("hospital", now)
    assert card.apps == ()
    refusal = registry.events.of(Refused)[-1]
    assert (refusal.reason, refusal.serial) == ("ordinance_missing", adult_serial)
    registry.enact_ordinance("hospital")
    card.install_app("hospital", now)
    assert card.apps == ("hospital",)


def test_apps_install_use_and_remove(registry, adult_serial, now):
    card = registry.card(adult_serial)
    card.install_app("library", now)
    assert registry.card(adult_serial).apps == ("library",)
    assert card.use_app("library", now) == registry.holder_of(adult_serial)
    card.remove_app("library", now)
    with pytest.raises(AppNotInstalled):
        card.use_app("library", now)
    assert [(e.app, e.installed) for e in registry.events.of(AppChanged)] == [("library", True), ("library", False)]


def test_the_free_area_holds_a_limited_number_of_apps(registry, adult_serial, now):
    for app in ("library", "seal", "facility", "hospital", "points", "child_watch"):
        registry.enact_ordinance(app)
    card = registry.card(adult_serial)
    for app in ("library", "seal", "facility", "hospital")[:FREE_AREA_SLOTS]:
        card.install_app(app, now)
    with pytest.raises(FreeAreaFull, match="remove one first"):
        card.install_app("points", now)


def test_a_pin_app_in_the_free_area_needs_the_user_pin(registry, adult_serial, now):
    card = registry.card(adult_serial)
    card.install_app("points", now)
    with pytest.raises(PinRequired):
        card.use_app("points", now)
    assert card.use_app("points", now, pin=registry.pins(adult_serial).user) == registry.holder_of(adult_serial)


def test_a_locked_user_pin_is_refused_at_every_app_that_uses_it(registry, reader, adult_serial, now):
    card, pins = registry.card(adult_serial), registry.pins(adult_serial)
    card.install_app("points", now)
    card.install_app("library", now)
    lock(card, "user", pins.user, now)
    with pytest.raises(PinLocked):
        reader.authenticate(card, pins.user, now)  # kiosk / payment log-in
    with pytest.raises(PinLocked):
        card.use_app("points", now, pin=pins.user)  # free-area app behind the user PIN
    assert card.use_app("library", now) == registry.holder_of(adult_serial)  # a tap-only app has no PIN
    refusals = [e for e in registry.events.of(Refused) if e.reason == "pin_locked"]
    assert [e.where for e in refusals] == ["kiosk-1", "app"]


def test_a_locked_signing_password_and_support_pin_are_refused(registry, adult_serial, now):
    card, pins = registry.card(adult_serial), registry.pins(adult_serial)
    lock(card, "signing", pins.signing, now)
    with pytest.raises(PinLocked):
        card.sign_document(pins.signing, b"application form", now)
    lock(card, "support", pins.support, now)
    with pytest.raises(PinLocked):
        card.read_input_support(pins.support, now)
    assert [e.reason for e in registry.events.of(Refused)].count("pin_locked") == 2


def test_a_suspended_card_is_refused_at_every_app(ca, registry, adult_serial, now):
    from twin.reader import Reader

    card, pins = registry.card(adult_serial), registry.pins(adult_serial)
    card.install_app("library", now)
    registry.report_loss(adult_serial, now)
    later = now + 60
    online = Reader(ca, registry, reader_id="kiosk-2", revocation="online")
    with pytest.raises(CardRevoked):
        online.authenticate(card, pins.user, later)
    with pytest.raises(CardSuspended):
        online.read_serial(card, later)
    with pytest.raises(CardSuspended):
        card.use_app("library", later)
    with pytest.raises(CardSuspended):
        card.install_app("points", later)
    with pytest.raises(CardSuspended):
        registry.resident_of(adult_serial, later)
    reasons = [e.reason for e in registry.events.of(Refused)]
    assert reasons[-5:] == ["card_revoked", "card_suspended", "card_suspended", "card_suspended",
                            "card_suspended"]
