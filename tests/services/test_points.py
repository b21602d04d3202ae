"""Administrative points: grants with expiry, FIFO redemption, the expiry sweep, hostile redemptions."""

from __future__ import annotations

import pytest

from tests.services.pay_helpers import T0, snapshot
from twin.clock import DAY
from twin.errors import ValidationError
from twin.services.ledger_rules import LedgerParams
from twin.services.payments import (
    IdempotencyConflict,
    InsufficientPoints,
    InvalidAmount,
    Ledger,
    PaymentRefused,
    PointGrant,
    PointRedemption,
)


@pytest.fixture
def ledger(tmp_path):
    led = Ledger.open(tmp_path / "points.db")
    led.grant_points("late", 7, 100, "volunteering", T0, expires_at=T0 + 30 * DAY)
    led.grant_points("soon", 7, 50, "health_checkup", T0, expires_at=T0 + 10 * DAY)
    yield led
    led.store.close()


def test_granted_points_sit_in_the_residents_points_account_and_the_liability(ledger):
    assert ledger.points_held(7, T0) == 150
    assert ledger.balance("points:7") == 150
    assert ledger.balance("expense:points") == 150
    assert ledger.reconcile().by_kind["points"] == 150


def test_the_default_expiry_is_the_configured_validity():
    led = Ledger.in_memory(LedgerParams(point_validity_days=90))
    r = led.grant_points("g", 1, 10, "volunteering", T0)
    assert r.expires_at == T0 + 90 * DAY


def test_redemption_uses_the_soonest_expiring_points_first_and_pays_the_wallet(ledger):
    ledger.redeem_points("r1", 7, 60, T0 + DAY)
    lots = ledger.point_lots(7)
    assert lots.select("activity", "remaining").rows() == [("health_checkup", 0), ("volunteering", 90)]
    assert ledger.wallet_balance(7) == 60
    assert ledger.points_held(7, T0 + DAY) == 90
    assert ledger.reconcile().ok


def test_redeeming_more_points_than_held_is_refused_and_changes_nothing(ledger):
    before = snapshot(ledger.store)
    with pytest.raises(InsufficientPoints, match="resident 7 holds 150 unexpired points and asked to redeem 151"):
        ledger.redeem_points("r1", 7, 151, T0)
    assert snapshot(ledger.store) == before
    assert ledger.events.of(PaymentRefused)[-1].reason == "insufficient_points"


def test_expired_points_cannot_be_redeemed_even_before_the_sweep(ledger):
    later = T0 + 11 * DAY  # the 50 health-checkup points have expired
    before = snapshot(ledger.store)
    with pytest.raises(InsufficientPoints, match="holds 100 unexpired points \\(50 more have expired\\) and asked to redeem 120"):
        ledger.redeem_points("r1", 7, 120, later)
    assert snapshot(ledger.store) == before
    assert ledger.redeem_points("r2", 7, 100, later).amount == 100


def test_points_of_a_resident_who_never_had_any_cannot_be_redeemed(ledger):
    with pytest.raises(InsufficientPoints, match="resident 8 holds 0 unexpired points"):
        ledger.redeem_points("r1", 8, 1, T0)


def test_the_expiry_sweep_lapses_each_expired_lot_once(ledger):
    ledger.redeem_points("r1", 7, 20, T0)  # from the soon lot: 30 of it left
    lapsed = ledger.expire_points(T0 + 11 * DAY)
    assert [(r.op, r.amount, r.resident_id) for r in lapsed] == [("expire", 30, 7)]
    assert ledger.expire_points(T0 + 12 * DAY) == []
    assert ledger.balance("income:points_expired") == 30
    assert ledger.points_held(7, T0 + 11 * DAY) == 100
    assert ledger.balance("points:7") == 100
    assert ledger.reconcile().ok


def test_a_replayed_redemption_redeems_once_and_an_altered_one_is_refused(ledger):
    a = ledger.redeem_points("r1", 7, 30, T0)
    b = ledger.redeem_points("r1", 7, 30, T0)
    assert b.replayed and b.posting_id == a.posting_id
    assert ledger.wallet_balance(7) == 30
    with pytest.raises(IdempotencyConflict, match="amount was 30, now 40"):
        ledger.redeem_points("r1", 7, 40, T0)


@pytest.mark.parametrize("points", [0, -10, 100_001, 2.5, "5"])
def test_bad_point_amounts_are_refused(ledger, points):
    before = snapshot(ledger.store)
    with pytest.raises(InvalidAmount):
        ledger.grant_points("g", 7, points, "volunteering", T0)
    with pytest.raises(InvalidAmount):
        ledger.redeem_points("r", 7, points, T0)
    assert snapshot(ledger.store) == before


def test_a_grant_needs_an_activity_name_and_an_expiry_time(ledger):
    with pytest.raises(ValidationError, match="activity must be an identifier"):
        ledger.grant_points("g", 7, 10, "two words", T0)
    with pytest.raises(ValidationError, match="must expire later"):
        ledger.grant_points("g", 7, 10, "volunteering", T0, expires_at=T0)
    (out,) = ledger.post_many([PointGrant("g", 7, 10, "volunteering", "tomorrow")], T0)
    assert isinstance(out, ValidationError) and "expires_at must be POSIX seconds" in str(out)


def test_a_grant_and_its_redemption_in_one_batch_see_each_other(ledger):
    out = ledger.post_many([PointGrant("g", 9, 80, "volunteering", T0 + DAY), PointRedemption("r", 9, 80)], T0)
    assert [o.op for o in out] == ["grant", "redeem"]
    assert ledger.wallet_balance(9) == 80
    assert ledger.reconcile().ok


def test_a_point_worth_more_than_a_yen_credits_its_value_and_still_balances():
    led = Ledger.in_memory(LedgerParams(point_value_yen=2))
    led.grant_points("g", 1, 100, "volunteering", T0)
    led.redeem_points("r", 1, 40, T0)
    assert led.wallet_balance(1) == 80
    assert led.balance("points:1") == 60
    assert led.balance("expense:points") == 140  # 100 granted + 40 more paid out at redemption
    assert led.reconcile().ok
