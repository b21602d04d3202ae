"""Property: any sequence of requests (valid, hostile, replayed, altered) leaves the ledger exactly
where an independent model of the rules says, with the book reconciled after every step."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.services.pay_helpers import T0
from twin.clock import DAY
from twin.errors import TwinError
from twin.services.payments import (
    FeePayment,
    Ledger,
    PointGrant,
    PointRedemption,
    Refund,
    TopUp,
)

CAP = 300_000
amounts = st.one_of(st.integers(-50, 1_500), st.sampled_from([0, CAP, CAP + 1]))
ops = st.lists(st.tuples(
    st.sampled_from(["top_up", "fee", "refund", "grant", "redeem"]),
    st.integers(0, 2),  # resident
    amounts,
    st.sampled_from(["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"]),  # few keys: replays and conflicts
    st.sampled_from(["k0", "k1", "k2", "k3"]),  # the payment a refund names
    st.integers(0, 3),  # days that pass before the request
), max_size=40)


class Model:
    """The rules, written again as plainly as possible."""

    def __init__(self) -> None:
        self.wallet = [0, 0, 0]
        self.revenue = 0
        self.lots: list[list] = []  # [resident, remaining, expires_at, lot order]
        self.keys: dict[str, tuple] = {}
        self.refunded: dict[str, int] = {}

    def apply(self, op, rid, amt, key, ref, now) -> str:
        if not 1 <= amt <= CAP:
            return "refused"
        fp = {"refund": (op, amt, ref), "grant": (op, rid, amt, now + 2 * DAY)}.get(op, (op, rid, amt))
        if key in self.keys:
            return "replayed" if self.keys[key] == fp else "refused"
        ok = getattr(self, op)(rid, amt, ref, now)
        if ok:
            self.keys[key] = fp
        return "posted" if ok else "refused"

    def top_up(self, rid, amt, ref, now):
        self.wallet[rid] += amt
        return True

    def fee(self, rid, amt, ref, now):
        if self.wallet[rid] < amt:
            return False
        self.wallet[rid] -= amt
        self.revenue += amt
        return True

    def refund(self, rid, amt, ref, now):
        first = self.keys.get(ref)
        if first is None or first[0] != "fee" or self.refunded.get(ref, 0) + amt > first[2]:
            return False
        self.refunded[ref] = self.refunded.get(ref, 0) + amt
        self.wallet[first[1]] += amt
        self.revenue -= amt
        return True

    def grant(self, rid, amt, ref, now):
        if amt > 100_000:
            return False
        self.lots.append([rid, amt, now + 2 * DAY, len(self.lots)])
        return True

    def redeem(self, rid, amt, ref, now):
        live = sorted((x for x in self.lots if x[0] == rid and x[2] > now and x[1]), key=lambda x: (x[2], x[3]))
        if amt > 100_000 or sum(x[1] for x in live) < amt:
            return False
        self.wallet[rid] += amt  # 1 point = 1 yen
        for lot in live:
            take = min(lot[1], amt)
            lot[1] -= take
            amt -= take
        return True


def _request(op, rid, amt, key, ref, now):
    return {"top_up": lambda: TopUp(key, rid, amt),
            "fee": lambda: FeePayment(key, rid, "residence_record", amt),
            "refund": lambda: Refund(key, ref, amt),
            "grant": lambda: PointGrant(key, rid, amt, "volunteering", now + 2 * DAY),
            "redeem": lambda: PointRedemption(key, rid, amt)}[op]()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_any_request_sequence_matches_the_model_and_always_reconciles(seq):
    ledger, model = Ledger.in_memory(), Model()
    now = T0
    for op, rid, amt, key, ref, days in seq:
        now += days * DAY
        expected = model.apply(op, rid, amt, key, ref, now)
        (got,) = ledger.post_many([_request(op, rid, amt, key, ref, now)], now)
        outcome = "refused" if isinstance(got, TwinError) else ("replayed" if got.replayed else "posted")
        assert outcome == expected, (op, rid, amt, key, ref, got)
        assert [ledger.wallet_balance(r) for r in range(3)] == model.wallet
        assert ledger.balance("revenue:residence_record") == model.revenue
        for r in range(3):
            assert ledger.points_held(r, now) == sum(x[1] for x in model.lots if x[0] == r and x[2] > now)
        rec = ledger.reconcile()
        assert rec.ok and rec.total == 0, rec.problems
