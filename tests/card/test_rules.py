"""The published card rules (FACTS.md): PIN shapes, validity by birthday, age limits."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from twin.card.rules import (
    APP_SIGNING,
    APP_SUPPORT,
    APP_USER,
    MAX_TRIES,
    age_on,
    card_expiry_day,
    cert_expiry_day,
    date_of_day,
    derive_pins,
    mistype,
    normalise_pin,
)
from twin.trust_errors import PinFormatError

EPOCH = dt.date(1970, 1, 1)


def day(y: int, m: int, d: int) -> int:
    return (dt.date(y, m, d) - EPOCH).days


def expiry(issue: tuple[int, int, int], birth: tuple[int, int, int], fn=card_expiry_day) -> dt.date:
    return date_of_day(int(fn(np.array([day(*issue)]), np.array([day(*birth)]))[0]))


def test_the_pins_have_three_three_and_five_tries():
    assert MAX_TRIES == (3, 5, 3)


def test_an_adult_card_is_valid_until_the_tenth_birthday_after_issue():
    assert expiry((2026, 4, 1), (1990, 5, 10)) == dt.date(2035, 5, 10)  # 1st: 10 May 2026
    assert expiry((2026, 4, 1), (1990, 3, 10)) == dt.date(2036, 3, 10)  # 1st: 10 Mar 2027


def test_a_card_issued_on_the_birthday_counts_from_the_next_one():
    assert expiry((2026, 4, 1), (1990, 4, 1)) == dt.date(2036, 4, 1)


def test_a_card_issued_under_eighteen_is_valid_until_the_fifth_birthday():
    assert expiry((2026, 4, 1), (2010, 6, 1)) == dt.date(2030, 6, 1)  # 15 at issue
    assert expiry((2026, 4, 1), (2008, 4, 2)) == dt.date(2030, 4, 2)  # 17, the day before turning 18


def test_a_card_issued_at_eighteen_gets_the_adult_validity():
    assert expiry((2026, 4, 1), (2008, 4, 1)) == dt.date(2036, 4, 1)


def test_a_certificate_is_valid_until_the_fifth_birthday_after_issue_even_for_adults():
    assert expiry((2026, 4, 1), (1990, 5, 10), cert_expiry_day) == dt.date(2030, 5, 10)


def test_a_29_february_birthday_falls_on_28_february_in_common_years():
    assert expiry((2026, 4, 1), (2000, 2, 29)) == dt.date(2036, 2, 29)
    assert expiry((2026, 4, 1), (2000, 2, 29), cert_expiry_day) == dt.date(2031, 2, 28)


def test_age_counts_completed_years():
    births = np.array([day(2011, 4, 1), day(2011, 4, 2)])
    assert age_on(births, np.full(2, day(2026, 4, 1))).tolist() == [15, 14]


@pytest.mark.parametrize("pin", ["123", "12345", "12a4", "１２３４", ""])
def test_a_user_pin_must_be_four_ascii_digits(pin):
    with pytest.raises(PinFormatError):
        normalise_pin(APP_USER, pin)


def test_a_pin_that_is_not_a_string_is_a_format_error():
    with pytest.raises(PinFormatError, match="must be a str"):
        normalise_pin(APP_SUPPORT, 1234)


def test_the_signing_password_is_upper_cased():
    assert normalise_pin(APP_SIGNING, "abc123") == "ABC123"


@pytest.mark.parametrize("pw,why", [("ABC12", "6–16"), ("A" * 16 + "1", "6–16"), ("ABCDEF", "mix"),
                                    ("123456", "mix"), ("ABC-123", "6–16")])
def test_a_signing_password_must_be_6_to_16_mixed_letters_and_digits(pw, why):
    with pytest.raises(PinFormatError, match=why):
        normalise_pin(APP_SIGNING, pw)


def test_derived_pins_are_deterministic_and_well_formed():
    a, b = derive_pins(b"secret", 42), derive_pins(b"secret", 42)
    assert a == b
    assert a != derive_pins(b"secret", 43)
    assert normalise_pin(APP_USER, a.user) == a.user
    assert normalise_pin(APP_SUPPORT, a.support) == a.support
    assert normalise_pin(APP_SIGNING, a.signing) == a.signing


def test_a_mistyped_pin_differs_in_exactly_one_character():
    rng = np.random.default_rng(3)
    for pin in ["0000", "9999", "1234", "AB12CD34"]:
        for _ in range(50):
            wrong = mistype(pin, rng)
            assert len(wrong) == len(pin)
            assert sum(x != y for x, y in zip(wrong, pin, strict=True)) == 1
