"""Messages between agencies cannot carry a My Number: by construction, and under attack."""

from __future__ import annotations

import dataclasses
import typing

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twin.errors import ValidationError
from twin.ids import format_my_number, synthetic_my_numbers
from twin.services.linkage import IntermediateServer
from twin.services.linkage_messages import (
    AgencyCode,
    CarriesMyNumber,
    LinkageRequest,
    LinkageResponse,
    my_number_shaped,
)

MY_NUMBER = "123456789018"  # valid check digit (FACTS.md example)
CODE = AgencyCode("abcdefghijklmnopabcdefghijklmnop")
T = 1_775_000_000.0


def request(**over) -> LinkageRequest:
    fields = dict(
        requester="city.child_care",
        provider="city.tax",
        task="child_allowance",
        subject=CODE,
        items=("resident_tax_income",),
        at=T,
    )
    return LinkageRequest(**{**fields, **over})


def response(values, **over) -> LinkageResponse:
    fields = dict(
        request_id=1,
        requester="city.child_care",
        provider="city.tax",
        task="child_allowance",
        subject=CODE,
        values=values,
        missing=(),
        at=T,
    )
    return LinkageResponse(**{**fields, **over})


def test_no_message_field_is_named_or_typed_for_a_my_number():
    for cls in (LinkageRequest, LinkageResponse):
        hints = typing.get_type_hints(cls)
        names = [f.name for f in dataclasses.fields(cls)]
        assert not any("number" in n or "my" in n.split("_") for n in names)
        assert hints["subject"] is AgencyCode  # the resident appears only as an agency code


def test_a_message_cannot_grow_an_extra_field_after_construction():
    req = request()
    with pytest.raises((AttributeError, TypeError)):
        req.my_number = MY_NUMBER  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        req.task = MY_NUMBER  # type: ignore[misc]
    with pytest.raises(TypeError):
        LinkageRequest(**{**dataclasses.asdict(request()), "subject": CODE, "my_number": MY_NUMBER})


def test_an_agency_code_is_letters_only_so_it_cannot_spell_a_number():
    with pytest.raises(ValidationError):
        AgencyCode(MY_NUMBER)
    with pytest.raises(ValidationError):
        AgencyCode(MY_NUMBER + "abcdefghijklmnopabcd")  # 32 characters but with digits
    assert AgencyCode.from_digest(bytes(range(16))).value.isalpha()


def test_the_subject_must_be_an_agency_code_not_a_raw_number():
    with pytest.raises(ValidationError, match="AgencyCode"):
        request(subject=MY_NUMBER)
    with pytest.raises(ValidationError, match="AgencyCode"):
        request(subject=int(MY_NUMBER))


@pytest.mark.parametrize("field", ["requester", "provider", "task"])
def test_names_with_digits_are_refused_in_every_name_field(field):
    with pytest.raises(ValidationError, match="no digits"):
        request(**{field: "city.tax" + MY_NUMBER})


def test_item_names_with_digits_are_refused():
    with pytest.raises(ValidationError):
        request(items=("income_" + MY_NUMBER,))
    with pytest.raises(ValidationError):
        response(((f"x{MY_NUMBER}", 1),))
    with pytest.raises(ValidationError, match="unknown linkage item"):
        request(items=("my_number",))


def test_the_time_field_cannot_carry_a_number():
    with pytest.raises(ValidationError, match="POSIX seconds"):
        request(at=float(MY_NUMBER))


@pytest.mark.parametrize(
    "value",
    [
        int(MY_NUMBER),
        97778301591,  # the int of a My Number with a leading zero (097778301591)
        MY_NUMBER,
        "1234 5678 9018",
        "1234-5678-9018",
        "１２３４５６７８９０１８",  # full-width digits normalise to ASCII
        "note: " + MY_NUMBER + " (applicant)",
        float(MY_NUMBER),
        0.123456789018,
        0.97778301591,
        1.23456789018e20,
        -int(MY_NUMBER),
        int(MY_NUMBER) * 10 + 7,  # a 13-digit value hiding one
        float("nan"),
    ],
)
def test_a_response_value_shaped_like_a_my_number_is_refused(value):
    with pytest.raises(CarriesMyNumber):
        response((("resident_tax_income", value),))


@pytest.mark.parametrize("value", [b"123456789018", [1, 2], {"n": 1}, (MY_NUMBER,), object()])
def test_non_scalar_values_are_refused(value):
    with pytest.raises(ValidationError):
        response((("resident_tax_income", value),))


@pytest.mark.parametrize(
    ("item", "value"),
    [
        ("resident_tax_income", 3_000_000),
        ("resident_tax_income", 9_999_999_999),
        ("resident_tax_income", None),
        ("household_composition", 4),
        ("family_register_relation", "two_parents"),
    ],
)
def test_ordinary_data_values_pass(item, value):
    assert response(((item, value),)).as_dict() == {item: value}


@pytest.mark.parametrize(
    ("item", "value", "why"),
    [
        ("resident_tax_income", "3000000", "is int"),
        ("resident_tax_income", -1, "must be in"),
        ("resident_tax_income", True, "is int"),
        ("household_composition", 21, "must be in"),
        ("family_register_relation", "03-1234-5678", "must be one of"),
        ("favourite_colour", 1, "unknown linkage item"),
    ],
)
def test_values_outside_the_item_catalogue_are_refused(item, value, why):
    with pytest.raises(ValidationError, match=why):
        response(((item, value),))


@pytest.mark.parametrize("text", ["03-1234-5678", "2026-04-01", "tel 0312345678", "36.6 C"])
def test_text_without_twelve_digits_in_a_row_is_not_shaped(text):
    assert not my_number_shaped(text)


def test_a_request_id_of_twelve_digits_is_refused():
    with pytest.raises(CarriesMyNumber):
        response((), request_id=int(MY_NUMBER))


def test_the_intermediate_server_refuses_to_hold_a_my_number_as_a_copy():
    server = IntermediateServer("city")
    with pytest.raises(CarriesMyNumber):
        server.store("city.tax", [CODE], "resident_tax_income", [MY_NUMBER], T)
    assert server.copies("city.tax", "resident_tax_income") == 0


@given(st.integers(min_value=0, max_value=10**6))
def test_every_synthetic_my_number_written_as_text_is_shaped(seed):
    mn = format_my_number(int(synthetic_my_numbers(1, seed)[0]))
    for text in (mn, f"{mn[:4]} {mn[4:8]} {mn[8:]}", f"{mn[:4]}-{mn[4:8]}-{mn[8:]}", f"No.{mn}"):
        assert my_number_shaped(text)


@given(st.integers(min_value=0, max_value=10**6))
def test_a_my_number_as_an_int_is_shaped_unless_it_starts_with_two_zeros(seed):
    mn = int(synthetic_my_numbers(1, seed)[0])
    assert my_number_shaped(mn) == (mn >= 10**10)


@given(st.integers(min_value=-(10**10 - 1), max_value=10**10 - 1))
def test_ints_of_at_most_ten_digits_are_not_shaped(n):
    assert not my_number_shaped(n)
