"""Refusals cross process boundaries (Ray actors pickle them) with their code, message and attributes."""

from __future__ import annotations

import pickle

from twin.errors import NotFound, TwinError
from twin.trust_errors import CardRevoked, CardSuspended, WrongPin


def roundtrip(err: TwinError) -> TwinError:
    return pickle.loads(pickle.dumps(err))


def test_a_refusal_with_its_own_constructor_unpickles_with_its_code_message_and_fields():
    err = CardSuspended(1000017739, 1_775_000_000.0)
    back = roundtrip(err)
    assert type(back) is CardSuspended and back.code == "card_suspended" and back.status == 403
    assert str(back) == str(err) and (back.serial, back.since) == (1000017739, 1_775_000_000.0)
    revoked = roundtrip(CardRevoked(7, 1_775_000_000.0, "loss"))
    assert (revoked.reason, revoked.to_dict()) == ("loss", CardRevoked(7, 1_775_000_000.0, "loss").to_dict())
    assert roundtrip(WrongPin(7, "user", 2)).tries_left == 2


def test_a_plain_refusal_unpickles_as_itself():
    back = roundtrip(NotFound("resident 9 is not registered"))
    assert type(back) is NotFound and back.args == ("resident 9 is not registered",) and back.code == "not_found"
