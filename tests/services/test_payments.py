"""The ledger: fees, top-ups, refunds, idempotency, group commit, reconciliation."""

from __future__ import annotations

import numpy as np
import pytest

from tests.services.pay_helpers import T0, snapshot
from twin.errors import ValidationError
from twin.services.ledger_rules import LedgerParams
from twin.services.payments import (
    FeePayment,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    Ledger,
    PaymentNotFound,
    PaymentRefused,
    PaymentReplayed,
    PaymentsCommitted,
    Receipt,
    Refund,
    RefundRefused,
    TopUp,
)


@pytest.fixture
def ledger(tmp_path):
    led = Ledger.open(tmp_path / "ledger.db")
    led.top_up("fund-5", 5, 1_000, T0)
    yield led
    led.store.close()


def test_a_fee_from_the_wallet_moves_yen_to_that_fee_types_revenue(ledger):
    r = ledger.pay_fee("f1", 5, "residence_record", 300, T0, channel="kiosk")
    assert (r.op, r.resident_id, r.amount, r.detail, r.channel, r.replayed) == ("fee", 5, 300, "residence_record", "kiosk", False)
    assert ledger.wallet_balance(5) == 700
    assert ledger.balance("revenue:residence_record") == 300
    assert ledger.balance("clearing:portal") == 1_000  # the top-up came in by card on the portal
    assert ledger.reconcile().ok


def test_cash_at_a_counter_goes_to_that_wards_drawer_and_kiosk_cash_to_store_clearing(ledger):
    ledger.pay_fee("c1", 9, "tax_certificate", 300, T0, channel="counter", method="cash", site=3)
    ledger.pay_fee("k1", 9, "tax_certificate", 200, T0, channel="kiosk", method="cash", site=12)
    assert ledger.balance("cash:counter:3") == 300
    assert ledger.balance("clearing:kiosk") == 200
    assert ledger.balance("revenue:tax_certificate") == 500
    assert ledger.wallet_balance(9) == 0


def test_the_same_key_again_returns_the_first_receipt_and_posts_nothing(ledger):
    first = ledger.pay_fee("f1", 5, "residence_record", 300, T0)
    before = snapshot(ledger.store)
    again = ledger.pay_fee("f1", 5, "residence_record", 300, T0 + 60)
    assert again.replayed and again._replace(replayed=False) == first
    assert snapshot(ledger.store) == before
    assert ledger.events.of(PaymentReplayed)[-1].posting_id == first.posting_id


@pytest.mark.parametrize("change, field", [
    (dict(amount=3_000), "amount was 300, now 3000"),
    (dict(resident_id=6), "resident_id was 5, now 6"),
    (dict(fee_type="seal_registration"), "detail was 'residence_record', now 'seal_registration'"),
])
def test_the_same_key_with_a_different_amount_or_payer_is_refused_and_changes_nothing(ledger, change, field):
    ledger.pay_fee("f1", 5, "residence_record", 300, T0)
    before = snapshot(ledger.store)
    args = dict(key="f1", resident_id=5, fee_type="residence_record", amount=300) | change
    with pytest.raises(IdempotencyConflict, match=field):
        ledger.pay_fee(now=T0, **args)
    assert snapshot(ledger.store) == before
    refused = ledger.events.of(PaymentRefused)[-1]
    assert (refused.key, refused.reason) == ("f1", "idempotency_conflict")


def test_a_key_reused_for_another_kind_of_request_is_refused(ledger):
    with pytest.raises(IdempotencyConflict, match="op was 'top_up', now 'fee'"):
        ledger.pay_fee("fund-5", 5, "residence_record", 1_000, T0)


@pytest.mark.parametrize("amount, message", [
    (0, "must be positive, got 0"),
    (-300, "must be positive, got -300"),
    (300_001, "over the cap of 300,000 yen"),
    (10**15, "over the cap"),
    (300.0, "whole number of yen \\(an int\\), got float"),
    ("300", "got str"),
    (True, "got bool"),
    (None, "got NoneType"),
    (np.float64(300), "got float64"),
])
def test_negative_zero_absurd_and_non_integer_amounts_are_refused_and_logged(ledger, amount, message):
    before = snapshot(ledger.store)
    with pytest.raises(InvalidAmount, match=message):
        ledger.pay_fee("bad", 5, "residence_record", amount, T0)
    with pytest.raises(InvalidAmount):
        ledger.top_up("bad-top", 5, amount, T0)
    assert snapshot(ledger.store) == before
    assert [e.reason for e in ledger.events.of(PaymentRefused)[-2:]] == ["invalid_amount"] * 2


def test_a_numpy_integer_amount_is_accepted_as_whole_yen(ledger):
    assert ledger.pay_fee("np", 5, "residence_record", np.int64(300), T0).amount == 300


def test_the_cap_is_a_parameter(tmp_path):
    led = Ledger.in_memory(LedgerParams(max_amount_yen=500))
    with pytest.raises(InvalidAmount, match="cap of 500 yen"):
        led.top_up("t", 1, 501, T0)
    assert led.top_up("t", 1, 500, T0).amount == 500


def test_a_fee_larger_than_the_wallet_is_refused_and_the_wallet_stays_as_it_was(ledger):
    before = snapshot(ledger.store)
    with pytest.raises(InsufficientFunds, match="wallet:5 holds 1,000 yen; this fee needs 1,200"):
        ledger.pay_fee("big", 5, "residence_record", 1_200, T0)
    assert snapshot(ledger.store) == before
    assert ledger.wallet_balance(5) == 1_000


@pytest.mark.parametrize("bad, message", [
    (dict(fee_type="parking_fine"), "unknown fee type 'parking_fine'"),
    (dict(channel="atm"), "channel must be one of kiosk, counter, portal"),
    (dict(channel="portal", method="cash"), "method at a portal must be 'wallet' or 'card'"),
    (dict(resident_id=-1), "resident_id must be a non-negative int"),
    (dict(key=""), "idempotency key must be 1..128"),
    (dict(key="x" * 129), "idempotency key must be 1..128"),
])
def test_malformed_requests_are_refused_with_the_field_named(ledger, bad, message):
    args = dict(key="m", resident_id=5, fee_type="residence_record", amount=300) | bad
    with pytest.raises(ValidationError, match=message):
        ledger.pay_fee(now=T0, **args)


def test_a_refund_returns_the_fee_the_way_it_was_paid(ledger):
    ledger.pay_fee("c1", 9, "seal_registration", 300, T0, channel="counter", method="cash", site=2)
    r = ledger.refund("r1", "c1", T0)
    assert (r.op, r.amount, r.resident_id, r.ref, r.channel, r.site) == ("refund", 300, 9, "c1", "counter", 2)
    assert ledger.balance("cash:counter:2") == 0
    assert ledger.balance("revenue:seal_registration") == 0


def test_partial_refunds_may_not_add_up_to_more_than_was_paid(ledger):
    ledger.pay_fee("f1", 5, "residence_record", 300, T0)
    ledger.refund("r1", "f1", T0, amount=200)
    before = snapshot(ledger.store)
    with pytest.raises(RefundRefused, match="¥200 is already refunded; a refund of ¥200 would exceed it"):
        ledger.refund("r2", "f1", T0, amount=200)
    assert snapshot(ledger.store) == before
    ledger.refund("r3", "f1", T0, amount=100)
    assert ledger.wallet_balance(5) == 1_000
    assert ledger.reconcile().ok


def test_a_replayed_refund_refunds_once(ledger):
    ledger.pay_fee("f1", 5, "residence_record", 300, T0)
    a = ledger.refund("r1", "f1", T0)
    b = ledger.refund("r1", "f1", T0)
    assert b.replayed and b.posting_id == a.posting_id
    assert ledger.wallet_balance(5) == 1_000
    with pytest.raises(IdempotencyConflict, match="amount was 300, now 100"):
        ledger.refund("r1", "f1", T0, amount=100)


def test_refunds_of_unknown_payments_and_of_non_fees_are_refused(ledger):
    with pytest.raises(PaymentNotFound, match="no payment with key 'nope'"):
        ledger.refund("r1", "nope", T0)
    with pytest.raises(RefundRefused, match="is a top_up, not a fee payment"):
        ledger.refund("r2", "fund-5", T0)


def test_post_many_commits_a_batch_and_answers_each_request_in_order(ledger):
    reqs = [
        TopUp("t9", 9, 500, "counter", 1),
        FeePayment("a", 9, "residence_record", 300, "kiosk"),
        FeePayment("b", 9, "residence_record", 300, "kiosk"),  # only 200 left: refused
        FeePayment("c", 9, "residence_record", 200, "kiosk"),
        FeePayment("a", 9, "residence_record", 300, "kiosk"),  # replay within the batch
        FeePayment("d", 9, "residence_record", -1, "kiosk"),
        "not a request",
    ]
    out = ledger.post_many(reqs, T0)
    assert [type(o).__name__ for o in out] == ["Receipt", "Receipt", "InsufficientFunds", "Receipt", "Receipt",
                                               "InvalidAmount", "ValidationError"]
    assert out[4].replayed and out[4].posting_id == out[1].posting_id
    assert ledger.wallet_balance(9) == 0
    assert ledger.balance("cash:counter:1") == 500
    committed = ledger.events.of(PaymentsCommitted)[-1]
    assert (committed.postings, committed.last_posting_id - committed.first_posting_id) == (3, 2)
    assert ledger.reconcile().ok


def test_every_receipt_is_on_disk_when_it_is_returned(ledger, tmp_path):
    r = ledger.pay_fee("f1", 5, "residence_record", 300, T0)
    reopened = Ledger.open(tmp_path / "ledger.db")
    assert reopened.receipt("f1") == r._replace(replayed=True)
    assert reopened.wallet_balance(5) == 700
    reopened.store.close()


def test_reconciliation_reports_a_tampered_balance_and_an_unbalanced_posting(ledger):
    ledger.pay_fee("f1", 5, "residence_record", 300, T0)
    with ledger.store.transaction() as tx:
        tx.execute("UPDATE ledger_accounts SET balance = balance - 1 WHERE account_id = 'wallet:5'")
        tx.execute("UPDATE ledger_entries SET amount = amount + 5 WHERE account_id = 'revenue:residence_record'")
    rec = ledger.reconcile()
    assert not rec.ok
    assert rec.total == -1
    text = "\n".join(rec.problems)
    assert "wallet:5: stored balance -701 but its entries sum to -700" in text
    assert "legs sum to 5 over 2 entries" in text
    assert "revenue:residence_record: stored balance -300 but its entries sum to -295" in text


def test_the_reconciliation_report_totals_each_kind_and_the_signed_sum_is_zero(ledger):
    ledger.pay_fee("f1", 5, "residence_record", 300, T0)
    ledger.grant_points("g", 5, 40, "volunteering", T0)
    rec = ledger.reconcile()
    assert rec.ok and rec.total == 0
    assert (rec.postings, rec.entries) == (3, 6)
    assert {k: v for k, v in rec.by_kind.items() if v} == {
        "wallet": 700, "points": 40, "revenue": 300, "clearing": 1_000, "expense": 40}
    assert "ledger reconciled: 3 postings" in rec.to_text()
    assert rec.to_dict()["ok"] is True


def test_the_in_memory_ledger_applies_exactly_the_same_rules():
    led = Ledger.in_memory()
    led.top_up("t", 1, 100, T0)
    with pytest.raises(InsufficientFunds):
        led.pay_fee("f", 1, "residence_record", 300, T0)
    assert not led.store.durable
    assert isinstance(led.pay_fee("g", 1, "residence_record", 100, T0), Receipt)
    assert led.reconcile().ok


def test_a_refund_in_the_same_batch_as_its_payment_is_posted_after_it(ledger):
    out = ledger.post_many([FeePayment("p", 5, "bulky_waste", 400), Refund("r", "p", 100)], T0)
    assert [o.op for o in out] == ["fee", "refund"]
    assert ledger.balance("revenue:bulky_waste") == 300
    assert ledger.reconcile().ok


@pytest.mark.parametrize("field", ["channel", "method", "fee_type", "key"])
def test_unhashable_junk_in_any_field_is_a_validation_error_not_a_crash(ledger, field):
    args = dict(key="j", resident_id=5, fee_type="residence_record", amount=300, channel="kiosk", method="cash")
    args[field] = ["junk"]
    (out,) = ledger.post_many([FeePayment(**args)], T0)
    assert isinstance(out, ValidationError)


def test_two_ledgers_on_one_file_see_each_others_postings_before_checking_a_balance(tmp_path):
    a, b = Ledger.open(tmp_path / "shared.db"), Ledger.open(tmp_path / "shared.db")
    a.top_up("t1", 1, 500, T0)
    a.pay_fee("f1", 1, "residence_record", 200, T0)  # a now remembers the wallet at 300
    b.pay_fee("f2", 1, "residence_record", 300, T0)  # another writer empties it
    with pytest.raises(InsufficientFunds, match="wallet:1 holds 0 yen"):
        a.pay_fee("f3", 1, "residence_record", 100, T0)
    b.top_up("t2", 1, 50, T0)
    assert a.pay_fee("f4", 1, "residence_record", 50, T0).amount == 50
    assert a.reconcile().ok and a.wallet_balance(1) == 0
    a.store.close()
    b.store.close()


def test_a_refused_request_creates_no_account_and_later_postings_to_it_still_land(ledger):
    with pytest.raises(InsufficientFunds):
        ledger.pay_fee("f1", 77, "bulky_waste", 300, T0)  # a new wallet and a new revenue account
    assert not {"wallet:77", "revenue:bulky_waste"} & set(ledger.balances()["account_id"].to_list())
    ledger.top_up("t1", 77, 300, T0)
    ledger.pay_fee("f2", 77, "bulky_waste", 300, T0)
    assert (ledger.wallet_balance(77), ledger.balance("revenue:bulky_waste")) == (0, 300)
    assert ledger.reconcile().ok


def test_ledger_params_come_from_a_design_and_refuse_unknown_keys():
    from twin.design import load_design

    phased = load_design("designs/phased.toml")
    p = LedgerParams.from_design(phased.payments)
    assert p.point_validity_days == phased.payments.point_expiry_days
    assert "residence_record_items" in p.fee_types  # cash fees are recorded whatever the e-payment list says
    with pytest.raises(ValidationError, match="unknown key 'max_amount' \\(did you mean 'max_amount_yen'\\?\\)"):
        LedgerParams.from_dict({"max_amount": 5})


def test_threads_posting_to_one_ledger_lose_and_double_nothing(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    led = Ledger.open(tmp_path / "threads.db")
    led.post_many([TopUp(f"t{r}", r, 3_000) for r in range(10)], T0)

    def work(worker: int) -> int:
        reqs = [FeePayment(f"w{worker}-{i}", (worker + i) % 10, "residence_record", 100) for i in range(60)]
        done = 0
        for i in range(0, 60, 7):
            done += sum(isinstance(r, Receipt) for r in led.post_many(reqs[i : i + 7] + reqs[:2], T0))
        return done

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))
    assert led.balance("revenue:residence_record") == 4 * 60 * 100
    assert sum(led.wallet_balance(r) for r in range(10)) == 30_000 - 24_000
    assert led.reconcile().ok
    led.store.close()
