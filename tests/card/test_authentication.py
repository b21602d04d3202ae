"""JPKI user authentication and the PIN-less serial read, the happy paths."""

from __future__ import annotations

from twin.identity import Assurance


def test_a_card_with_the_right_pin_authenticates_with_high_assurance(registry, reader, adult_serial, now):
    pin = registry.pins(adult_serial).user
    ident = reader.authenticate(registry.card(adult_serial), pin, now)
    assert ident.resident_id == registry.holder_of(adult_serial)
    assert ident.assurance is Assurance.HIGH
    assert ident.method == "jpki_user_cert"
    assert ident.card_serial == adult_serial


def test_a_pinless_read_gives_medium_assurance_and_the_serial(registry, reader, adult_serial, now):
    ident = reader.read_serial(registry.card(adult_serial), now)
    assert (ident.resident_id, ident.assurance, ident.method) == (
        registry.holder_of(adult_serial), Assurance.MEDIUM, "card_serial")


def test_resident_of_answers_the_holder_of_a_usable_card(registry, adult_serial, now):
    assert registry.resident_of(adult_serial, now) == registry.holder_of(adult_serial)
