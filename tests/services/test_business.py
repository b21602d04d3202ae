"""Business procedures: corporate-number accounts, ownership proof, data once, notices, renewals."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from twin.clock import DAY, jst
from twin.errors import Conflict, Forbidden, NotFound, ValidationError
from twin.ids import corporate_number_check_digit, synthetic_corporate_numbers
from twin.services.business import (
    BusinessEvent,
    BusinessPortal,
    CorporateRegister,
    InvalidCorporateNumber,
    NotTheOwner,
    RegistrationCredential,
)
from twin.services.business_notices import Licenses, Notices, license_kinds

T0 = jst(2026, 4, 1, 10)
NTA = "7000012050002"  # National Tax Agency (FACTS.md)
A, B, C = synthetic_corporate_numbers(3, seed=4)
BASIC = {
    "name": "Kita Catering KK",
    "address": "1-2-3 Chuo",
    "representative": "Sato",
    "industry": "M",
    "employees": 12,
    "capital_yen": 10_000_000,
    "ward": 2,
}
QUAL = {"categories": ("M", "E"), "grade": "C", "valid_until": dt.date(2027, 3, 31)}


@pytest.fixture
def world():
    register = CorporateRegister(secret=b"r" * 32)
    creds = {cn: register.designate(cn, f"corp {cn[-4:]}") for cn in (A, B, C, NTA)}
    portal = BusinessPortal(register)
    for cn in (A, B):
        portal.open_account(creds[cn], "desk@example.invalid", T0)
    return register, portal, creds


def test_the_nta_example_and_synthetic_numbers_are_valid_and_designate():
    register = CorporateRegister(secret=b"r" * 32)
    assert register.designate(NTA, "NTA").corporate_number == NTA
    assert all(register.designate(cn, "x") for cn in (A, B, C))


@pytest.mark.parametrize(
    "bad",
    [
        "1000012050002",  # NTA's number with a wrong check digit
        "700001205000",  # 12 digits: a My Number's length
        "70000120500O2",  # a letter O
        7000012050002,  # an int, not a str
    ],
)
def test_invalid_corporate_numbers_are_refused(world, bad):
    register, portal, _ = world
    with pytest.raises(InvalidCorporateNumber):
        register.designate(bad, "x")
    with pytest.raises(InvalidCorporateNumber):
        portal.open_account(RegistrationCredential(bad, "00"), "x", T0)
    refused = portal.events.of(BusinessEvent)[-1]
    assert refused.action == "refused" and refused.corporate_number == str(bad)


def test_registering_under_anothers_number_is_refused_and_logged(world):
    _, portal, creds = world
    forged = RegistrationCredential(C, creds[A].token)  # A's token with C's number
    with pytest.raises(NotTheOwner, match=C):
        portal.open_account(forged, "x", T0)
    guessed = RegistrationCredential(C, "0" * 64)
    with pytest.raises(NotTheOwner):
        portal.open_account(guessed, "x", T0)
    assert [e.action for e in portal.events.of(BusinessEvent)][-2:] == ["refused", "refused"]
    assert not portal.has_account(C)


def test_a_valid_but_undesignated_number_cannot_open_an_account(world):
    _, portal, _ = world
    base = "123456789012"
    undesignated = f"{corporate_number_check_digit(base)}{base}"
    with pytest.raises(NotTheOwner):
        portal.open_account(RegistrationCredential(undesignated, "ab"), "x", T0)


def test_the_same_corporation_cannot_open_two_accounts(world):
    _, portal, creds = world
    with pytest.raises(Conflict):
        portal.open_account(creds[A], "again", T0)


def test_data_registered_once_is_read_by_any_division_and_each_read_is_logged(world):
    _, portal, creds = world
    portal.register_data(creds[A], "basic", BASIC, T0)
    for division in ("procurement", "economy", "health"):
        assert portal.read(division, A, "basic", T0 + 1)["name"] == "Kita Catering KK"
    log = portal.access_log(creds[A], T0 + 2)
    assert log["division"].to_list() == ["procurement", "economy", "health"]
    with pytest.raises(Forbidden):
        portal.read("rival_company", A, "basic", T0)
    with pytest.raises(NotFound):
        portal.read("economy", B, "basic", T0)


def test_only_the_owner_registers_a_businesss_data(world):
    _, portal, creds = world
    with pytest.raises(NotTheOwner):
        portal.register_data(RegistrationCredential(A, creds[B].token), "basic", BASIC, T0)
    with pytest.raises(NotFound):
        portal.register_data(creds[C], "basic", BASIC, T0)  # designated but no account


@pytest.mark.parametrize(
    ("section", "fields", "why"),
    [
        ("basic", {**BASIC, "colour": "red"}, "unknown field 'colour'"),
        ("basic", {k: v for k, v in BASIC.items() if k != "ward"}, "missing field 'ward'"),
        ("basic", {**BASIC, "industry": "Z"}, "basic.industry"),
        ("basic", {**BASIC, "employees": -3}, "basic.employees"),
        ("qualification", {**QUAL, "grade": "S"}, "qualification.grade"),
        ("qualification", {**QUAL, "categories": ("M", "ZZ")}, "JSIC"),
        ("tax_secrets", {}, "unknown section"),
    ],
)
def test_registered_data_is_validated(world, section, fields, why):
    _, portal, creds = world
    with pytest.raises(ValidationError, match=why):
        portal.register_data(creds[A], section, fields, T0)


def test_procurement_notices_reach_businesses_qualified_in_the_category_and_grade(world):
    _, portal, creds = world
    portal.register_data(creds[A], "qualification", QUAL, T0)
    portal.register_data(
        creds[B], "qualification", {**QUAL, "categories": ("D",), "grade": "A"}, T0
    )
    notices = Notices(portal)
    _, sent = notices.publish(
        "procurement",
        "procurement",
        "School lunch catering",
        T0,
        industries=["M"],
        grades=["B", "C"],
    )
    assert sent == [A]
    assert portal.inbox(creds[A], T0)["topic"].to_list() == ["procurement:1"]
    assert portal.inbox(creds[B], T0).height == 0
    _, later = notices.publish(
        "procurement", "procurement", "Catering 2027", jst(2027, 4, 2), industries=["M"]
    )
    assert later == []  # the qualification lapsed on 31 March 2027


def test_subsidy_notices_reach_small_businesses_of_the_industry_and_ward(world):
    _, portal, creds = world
    portal.register_data(creds[A], "basic", BASIC, T0)
    portal.register_data(creds[B], "basic", {**BASIC, "employees": 400}, T0)
    _, sent = Notices(portal).publish(
        "economy",
        "subsidy",
        "Digitalisation grant",
        T0,
        industries=["M"],
        max_employees=50,
        wards=[2],
    )
    assert sent == [A]


def test_notices_refuse_outsiders_and_bad_kinds(world):
    _, portal, _ = world
    with pytest.raises(Forbidden):
        Notices(portal).publish("rival_company", "subsidy", "x", T0)
    with pytest.raises(ValidationError):
        Notices(portal).publish("economy", "lottery", "x", T0)


def test_a_license_is_renewed_online_inside_its_window_once_basic_data_is_on_file(world):
    _, portal, creds = world
    lic = Licenses(portal)
    lid = lic.grant("environment", A, "waste_collection", T0)
    expires = lic.expires(lid)
    assert expires == jst(2028, 4, 1, 10)
    with pytest.raises(Conflict, match="opens 90 days before"):
        lic.renew_online(creds[A], lid, expires - 100 * DAY)
    with pytest.raises(Forbidden, match="basic data"):
        lic.renew_online(creds[A], lid, expires - 30 * DAY)
    portal.register_data(creds[A], "basic", BASIC, T0)
    assert lic.remind(expires - 30 * DAY) == 1
    assert lic.remind(expires - 29 * DAY) == 0  # one reminder per window
    assert lic.renew_online(creds[A], lid, expires - 30 * DAY) == jst(2030, 4, 1, 10)
    assert lic.attachments_avoided == {"registry_certificate": 1, "tax_payment_certificate": 1}


def test_an_expired_license_or_anothers_license_cannot_be_renewed_online(world):
    _, portal, creds = world
    portal.register_data(creds[A], "basic", BASIC, T0)
    lic = Licenses(portal)
    lid = lic.grant("health", A, "food_business", T0)
    with pytest.raises(NotFound):
        lic.renew_online(creds[B], lid, lic.expires(lid) - DAY)
    with pytest.raises(Conflict, match="expired"):
        lic.renew_online(creds[A], lid, lic.expires(lid) + DAY)


def test_licenses_are_granted_by_their_own_division_only(world):
    _, portal, _ = world
    with pytest.raises(Forbidden):
        Licenses(portal).grant("economy", A, "food_business", T0)
    with pytest.raises(NotFound):
        Licenses(portal).grant("health", A, "casino", T0)
    assert set(license_kinds()) == {"food_business", "waste_collection", "outdoor_advertising"}


def test_a_credential_never_shows_its_token():
    cred = CorporateRegister(secret=b"r" * 32).designate(A, "x")
    assert cred.token not in repr(cred)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cred.corporate_number = B  # type: ignore[misc]
