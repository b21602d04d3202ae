"""The columnar fast path for fee-only batches answers and stores exactly what the general path does.

Every test posts the same batches to two ledgers: one as shipped (fast path where it applies) and
one with the fast path switched off, then compares every answer, every stored row and every event.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.services.pay_helpers import T0, snapshot
from twin.errors import TwinError
from twin.services import ledger_book, ledger_fast
from twin.services.payments import FeePayment, Ledger, TopUp

RR = "residence_record"


class Pair:
    """A ledger with the fast path and one without, fed the same batches."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, funds: dict[int, int]) -> None:
        self.mp = monkeypatch
        self.fast, self.slow = Ledger.in_memory(), Ledger.in_memory()
        self.fast_answers: list[bool] = []  # per fee-only batch: did the fast path post it?
        plan, write = ledger_fast.post_fees, ledger_book.Batch.write_if_keys_new

        def spy_plan(batch, cols, times=None):
            out = plan(batch, cols, times)
            if out is None:
                self.fast_answers.append(False)
            return out

        def spy_write(batch):
            self.fast_answers.append(write(batch))
            return self.fast_answers[-1]

        monkeypatch.setattr(ledger_book, "post_fees", spy_plan)
        monkeypatch.setattr(ledger_book.Batch, "write_if_keys_new", spy_write)
        for ledger in (self.fast, self.slow):
            ledger.post_many([TopUp(f"fund-{r}", r, yen) for r, yen in funds.items()], T0)

    def post(self, requests: list, reconciled: bool = True) -> list:
        """Post to both; the answers as comparable values (receipts, or refusal class and message)."""
        got = _plain(self.fast.post_many(requests, T0))
        with self.mp.context() as m:
            m.setattr(ledger_book, "fee_columns", lambda *a: None)
            want = _plain(self.slow.post_many(requests, T0))
        assert got == want
        assert snapshot(self.fast.store) == snapshot(self.slow.store)
        assert list(self.fast.events) == list(self.slow.events)
        assert self.fast.reconcile().ok is reconciled
        return got


def _plain(results: list) -> list:
    return [(type(r).__name__, str(r)) if isinstance(r, TwinError) else tuple(r) for r in results]


def _fees(n: int, residents: int, start: int = 0, **kw) -> list[FeePayment]:
    return [FeePayment(f"pay-{i}", i % residents, RR, 300, **kw) for i in range(start, start + n)]


def test_a_batch_of_wallet_fees_takes_the_fast_path_with_the_same_rows(monkeypatch):
    pair = Pair(monkeypatch, {r: 10_000 for r in range(20)})
    out = pair.post(_fees(100, 20))
    assert pair.fast_answers == [True]
    assert [r[0] for r in out] == list(range(21, 121))  # postings 1..20 were the top-ups
    assert pair.fast.wallet_balance(3) == 10_000 - 5 * 300
    assert pair.fast.balance("revenue:residence_record") == 100 * 300


def test_mixed_channels_methods_and_fee_types_take_the_fast_path_with_the_same_rows(monkeypatch):
    pair = Pair(monkeypatch, {0: 5_000, 1: 5_000})
    batch = [FeePayment("a", 0, RR, 300, "kiosk", "wallet", 7), FeePayment("b", 1, "tax_certificate", 450, "kiosk", "cash", 7),
             FeePayment("c", 2, "seal_registration", 300, "counter", "cash", 3), FeePayment("d", 3, RR, 200, "portal", "card"),
             FeePayment("e", 1, "family_register", 450, "counter", "wallet", 3), FeePayment("f", 0, RR, 300, "counter", "cash", 4)]
    pair.post(batch)
    assert pair.fast_answers == [True]
    assert pair.fast.balance("cash:counter:3") == 300
    assert pair.fast.balance("clearing:kiosk") == 450
    assert pair.fast.balance("revenue:tax_certificate") == 450


def test_a_key_repeated_within_a_batch_falls_back_and_replays_or_conflicts_the_same(monkeypatch):
    pair = Pair(monkeypatch, {0: 5_000, 1: 5_000})
    batch = [FeePayment("a", 0, RR, 300), FeePayment("b", 1, RR, 300), FeePayment("a", 0, RR, 300),
             FeePayment("b", 1, RR, 450)]
    out = pair.post(batch)
    assert pair.fast_answers == []  # the columns were refused before any SQL
    assert out[2] == out[0][:-1] + (True,) and out[3][0] == "IdempotencyConflict"


def test_a_key_posted_in_an_earlier_batch_falls_back_to_a_replay_or_a_conflict(monkeypatch):
    pair = Pair(monkeypatch, {0: 5_000, 1: 5_000})
    pair.post(_fees(4, 2))
    out = pair.post([FeePayment("pay-9", 0, RR, 300), FeePayment("pay-1", 1, RR, 300),
                     FeePayment("pay-2", 1, RR, 300)])
    assert pair.fast_answers == [True, False]
    assert out[1][-1] is True and out[2][0] == "IdempotencyConflict"  # pay-2 was resident 0's


def test_an_overdraft_in_the_middle_of_a_batch_falls_back_and_refuses_only_that_payment(monkeypatch):
    pair = Pair(monkeypatch, {0: 700, 1: 5_000})
    out = pair.post([FeePayment(f"k{i}", i % 2, RR, 300) for i in range(6)])
    assert pair.fast_answers == [False]
    assert [r[0] == "InsufficientFunds" for r in out] == [False, False, False, False, True, False]
    assert pair.fast.wallet_balance(0) == 100


def test_a_wallet_never_funded_falls_back_and_is_not_created(monkeypatch):
    pair = Pair(monkeypatch, {0: 5_000})
    out = pair.post([FeePayment("x", 0, RR, 300), FeePayment("y", 99, RR, 300)])
    assert out[1][0] == "InsufficientFunds" and pair.fast_answers == [False]
    assert "wallet:99" not in pair.fast.balances()["account_id"].to_list()


def test_an_account_already_below_zero_falls_back_to_the_general_rule(monkeypatch):
    pair = Pair(monkeypatch, {0: 5_000})
    pair.post([FeePayment("first", 0, RR, 300)])
    for ledger in (pair.fast, pair.slow):  # another writer leaves revenue at -¥500 natural
        with ledger.transaction() as tx:
            tx.execute("UPDATE ledger_accounts SET balance = 500 WHERE account_id = 'revenue:residence_record'")
            tx.execute("UPDATE ledger_meta SET value = value + 1 WHERE name = 'version'")
    out = pair.post([FeePayment("second", 0, RR, 300), FeePayment("third", 0, RR, 300)], reconciled=False)
    assert pair.fast_answers == [True, False]
    assert [r[0] for r in out] == ["InsufficientFunds", "InsufficientFunds"]


@pytest.mark.parametrize("bad", [
    FeePayment("k", 1, RR, True), FeePayment("k", 1, RR, np.int64(300)), FeePayment("k", -1, RR, 300),
    FeePayment("k", 1, "parking_fine", 300), FeePayment("k", 1, [RR], 300), FeePayment("", 1, RR, 300),
    FeePayment("k\n", 1, RR, 300), FeePayment("k" * 129, 1, RR, 300), FeePayment("k", 1, RR, 0),
    FeePayment("k", 1, RR, 300_001), FeePayment("k", 1, RR, 300, "kiosk", "card"),
    FeePayment("k", 1, RR, 300, "bank", "wallet"), FeePayment("k", 1, RR, 300, site=-2),
    FeePayment("k", 1, RR, 300, site=1.0), FeePayment(7, 1, RR, 300), TopUp("k", 1, 300),
], ids=repr)
def test_one_unusual_request_sends_the_whole_batch_to_the_general_path(monkeypatch, bad):
    pair = Pair(monkeypatch, {0: 5_000, 1: 5_000})
    pair.post([FeePayment("ok-0", 0, RR, 300), bad, FeePayment("ok-1", 1, RR, 300)])
    assert pair.fast_answers == []


def test_an_empty_batch_posts_nothing_on_either_path(monkeypatch):
    pair = Pair(monkeypatch, {0: 100})
    assert pair.post([]) == []


fee = st.builds(
    FeePayment,
    key=st.sampled_from([f"k{i}" for i in range(12)]),
    resident_id=st.integers(0, 4),
    fee_type=st.sampled_from([RR, "tax_certificate", "bogus"]),
    amount=st.one_of(st.sampled_from([100, 300, 450, 2_000]), st.integers(-5, 300_005)),
    channel=st.sampled_from(["kiosk", "counter", "portal"]),
    method=st.sampled_from(["wallet", "wallet", "cash", "card"]),
    site=st.integers(0, 2),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(fee, max_size=8), max_size=5), st.lists(st.integers(0, 3_000), min_size=5, max_size=5))
def test_any_fee_batches_give_the_same_answers_rows_and_events_on_both_paths(monkeypatch, batches, funds):
    pair = Pair(monkeypatch, {r: yen for r, yen in enumerate(funds) if yen})
    for batch in batches:
        pair.post(batch)
