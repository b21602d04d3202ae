"""Identifier rules against the formulas and examples in FACTS.md."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twin.ids import (
    MY_NUMBER_WEIGHTS,
    corporate_number_check_digit,
    format_my_number,
    is_valid_corporate_number,
    is_valid_my_number,
    local_government_corporate_number,
    my_number_check_digit,
    my_number_check_digits,
    synthetic_corporate_numbers,
    synthetic_my_numbers,
)

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


def reference_my_number_check(base: str) -> int:
    """FACTS.md, spelled out once more independently of the module."""
    total = sum(int(base[i]) * MY_NUMBER_WEIGHTS[i] for i in range(11))
    r = total % 11
    return 0 if r <= 1 else 11 - r


def test_the_facts_example_my_number_has_check_digit_8():
    assert my_number_check_digit("12345678901") == 8
    assert is_valid_my_number("123456789018")


def test_the_facts_example_weighted_sum_is_212():
    assert sum(int(d) * w for d, w in zip("12345678901", MY_NUMBER_WEIGHTS, strict=True)) == 212


def test_the_national_tax_agency_corporate_number_is_valid():
    assert is_valid_corporate_number("7000012050002")
    assert corporate_number_check_digit("000012050002") == 7


def test_a_local_government_number_is_000020_plus_its_code():
    number = local_government_corporate_number("431001")
    assert number[1:] == "000020431001" and is_valid_corporate_number(number)


def test_a_wrong_check_digit_is_invalid_but_not_an_error():
    assert not is_valid_my_number("123456789017")
    assert not is_valid_corporate_number("6000012050002")


@pytest.mark.parametrize(
    ("value", "error", "words"),
    [
        ("12345678901", ValueError, "12 digits"),
        ("1234567890123", ValueError, "12 digits"),
        ("12345678901a", ValueError, "digits only"),
        ("１２３４５６７８９０１８", ValueError, "digits only"),
        (123456789018, TypeError, "must be a str"),
        (None, TypeError, "must be a str"),
    ],
)
def test_a_malformed_my_number_raises_an_error_naming_the_problem(value, error, words):
    with pytest.raises(error, match=words):
        is_valid_my_number(value)


def test_a_malformed_corporate_number_raises_an_error_naming_the_problem():
    with pytest.raises(ValueError, match="13 digits"):
        is_valid_corporate_number("700001205000")
    with pytest.raises(ValueError, match="12 digits"):
        corporate_number_check_digit("00001205000")


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_the_check_digit_follows_the_formula_for_every_base(base):
    assert my_number_check_digit(base) == reference_my_number_check(base)
    assert is_valid_my_number(base + str(reference_my_number_check(base)))


@given(st.text(alphabet="0123456789", min_size=11, max_size=11), st.integers(0, 10), digits)
def test_a_changed_base_digit_is_caught_unless_the_formula_cannot_see_it(base, pos, new):
    number = base + str(my_number_check_digit(base))
    changed = number[:pos] + new + number[pos + 1 :]
    expected = reference_my_number_check(changed[:11]) == int(changed[11])
    assert is_valid_my_number(changed) == expected
    if new != number[pos] and expected:
        # only possible when the weighted sums land in the same r<=1 bucket or collide mod 11
        r_old = sum(int(d) * w for d, w in zip(base, MY_NUMBER_WEIGHTS, strict=True)) % 11
        r_new = sum(int(d) * w for d, w in zip(changed[:11], MY_NUMBER_WEIGHTS, strict=True)) % 11
        assert r_old != r_new and {r_old, r_new} <= {0, 1}


@given(st.text(alphabet="0123456789", min_size=12, max_size=12), st.integers(1, 12), digits)
def test_a_changed_corporate_digit_is_caught_unless_it_swaps_0_and_9(base, pos, new):
    number = f"{corporate_number_check_digit(base)}{base}"
    changed = number[:pos] + new + number[pos + 1 :]
    # weights are 1 and 2 mod 9, so only a 0<->9 substitution leaves the sum unchanged mod 9
    invisible = {number[pos], new} == {"0", "9"}
    assert is_valid_corporate_number(changed) == (changed == number or invisible)


def test_synthetic_my_numbers_are_valid_distinct_and_deterministic_per_seed():
    a = synthetic_my_numbers(50_000, seed=3)
    assert np.array_equal(a, synthetic_my_numbers(50_000, seed=3))
    assert not np.array_equal(a, synthetic_my_numbers(50_000, seed=4))
    assert np.unique(a).size == a.size
    assert all(is_valid_my_number(format_my_number(v)) for v in a[:5000])
    assert np.array_equal(a % 10, my_number_check_digits(a // 10))


def test_synthetic_corporate_numbers_are_valid_and_distinct():
    nums = synthetic_corporate_numbers(500, seed=1)
    assert len(set(nums)) == 500 and all(is_valid_corporate_number(n) for n in nums)
    assert nums == synthetic_corporate_numbers(500, seed=1)
