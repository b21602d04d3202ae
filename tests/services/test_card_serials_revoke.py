"""SerialIndex revocation as the live shelter groups use it: when, idempotent, never retroactive."""

from __future__ import annotations

import numpy as np
import pytest

from twin.services.card_serials import SerialIndex
from twin.trust_errors import CardRevoked, UnknownCard

T = 1_775_000_000.0


def index() -> SerialIndex:
    return SerialIndex(np.array([30, 10, 20]), np.array([3, 1, 2]))


def test_a_usable_card_has_no_revocation_time():
    assert index().revoked_since(20) is None


def test_a_revoked_card_reports_the_earliest_revocation_time():
    idx = index()
    idx.revoke(20, T)
    assert idx.revoked_since(20) == T
    idx.revoke(20, T + 50)  # a later report of the same card keeps the first time
    assert idx.revoked_since(20) == T
    idx.revoke(20, T - 10)  # an earlier one moves it back
    assert idx.revoked_since(20) == T - 10
    assert idx.revoked_since(10) is None and idx.revoked_since(30) is None


def test_revocation_refuses_taps_from_its_time_on_and_not_before():
    idx = index()
    idx.revoke(30, T)
    assert idx.resident_of(30, T - 0.001) == 3
    with pytest.raises(CardRevoked) as err:
        idx.resident_of(30, T)
    assert err.value.code == "card_revoked" and err.value.since == T
    rids, reasons = idx.resolve_many(np.array([30, 30, 10]), np.array([T - 1, T + 1, T + 1]))
    assert rids.tolist() == [3, -1, 1] and reasons.tolist() == ["", "card_revoked", ""]


def test_asking_about_an_unknown_serial_is_an_error():
    with pytest.raises(UnknownCard):
        index().revoked_since(99)


def test_only_known_cards_not_yet_revoked_by_then_are_to_revoke():
    idx = index()
    idx.revoke(10, T)
    assert idx.to_revoke([10, 20, 99], T) == [20]  # 10 already refused from T; 99 unknown (refused anyway)
    assert idx.to_revoke([10, 20], T - 5) == [10, 20]  # an earlier revocation of 10 would change it
