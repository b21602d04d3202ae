"""E-payment and administrative points (電子的支払・行政ポイント): an idempotent double-entry ledger.

Every request carries an idempotency key: the same key again returns the first receipt; the
same key with a different amount, payer or purpose is refused (IdempotencyConflict). Each
call commits before it returns, so a receipt means the posting is on disk; `post_many`
commits many requests in one transaction (group commit).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import polars as pl

from twin.clock import DAY
from twin.errors import TwinError
from twin.events import Event, EventLog
from twin.services import points as pts
from twin.services.ledger_book import load_receipts, post_batch
from twin.services.ledger_cache import BalanceCache
from twin.services.ledger_requests import (
    FeePayment,
    PointExpiry,
    PointGrant,
    PointRedemption,
    Receipt,
    Refund,
    Request,
    TopUp,
)
from twin.services.ledger_rules import (
    IdempotencyConflict,
    InsufficientFunds,
    InsufficientPoints,
    InvalidAmount,
    LedgerParams,
    PaymentNotFound,
    RefundRefused,
    check_resident,
    points,
    revenue,
    side,
    wallet,
)
from twin.services.ledger_sql import SCHEMA
from twin.services.reconcile import Reconciliation, reconcile
from twin.store import Store, Tx

__all__ = [
    "FeePayment", "TopUp", "Refund", "PointGrant", "PointRedemption", "PointExpiry", "Receipt",
    "Ledger", "LedgerParams", "Reconciliation", "InvalidAmount", "IdempotencyConflict",
    "InsufficientFunds", "InsufficientPoints", "RefundRefused", "PaymentNotFound",
    "PaymentsCommitted", "PaymentReplayed", "PaymentRefused", "wallet", "points", "revenue",
]


@dataclass(frozen=True, slots=True)
class PaymentsCommitted(Event):
    """One transaction committed new postings #first..#last (the postings table holds each one)."""

    postings: int
    first_posting_id: int
    last_posting_id: int
    kind: ClassVar[str] = "payments_committed"


@dataclass(frozen=True, slots=True)
class PaymentReplayed(Event):
    """A request repeated an earlier key and got the first receipt back; nothing was posted."""

    key: str
    op: str
    posting_id: int
    kind: ClassVar[str] = "payment_replayed"


@dataclass(frozen=True, slots=True)
class PaymentRefused(Event):
    """A request was refused; nothing was posted."""

    key: str
    op: str
    resident_id: int
    reason: str
    detail: str
    kind: ClassVar[str] = "payment_refused"


def _refusal_event(req: object, err: TwinError, now: float) -> PaymentRefused:
    key = getattr(req, "key", "")
    rid = getattr(req, "resident_id", -1)
    rid = rid if isinstance(rid, int) and not isinstance(rid, bool) else -1
    return PaymentRefused(now, key if isinstance(key, str) else repr(key),
                          getattr(req, "op", type(req).__name__), rid, err.code, str(err))


class Ledger:
    """Fees, refunds, wallet top-ups and points on one store; every call is committed on return."""

    def __init__(self, store: Store, params: LedgerParams | None = None, events: EventLog | None = None) -> None:
        self.store = store
        self.params = params or LedgerParams()
        self.events = events if events is not None else EventLog()
        store.ensure_schema("ledger", SCHEMA)
        self._cache = BalanceCache()

    @classmethod
    def open(cls, path: str | Path, params: LedgerParams | None = None, events: EventLog | None = None,
             synchronous: str = "FULL") -> Ledger:
        """A durable ledger in a SQLite file (WAL)."""
        return cls(Store.sqlite(path, synchronous=synchronous), params, events)

    @classmethod
    def in_memory(cls, params: LedgerParams | None = None, events: EventLog | None = None) -> Ledger:
        """The fast path for scenarios without durability: the same rules on an in-memory store."""
        return cls(Store.memory(), params, events)

    # -- posting -------------------------------------------------------------------------------

    def post_many(self, requests: Sequence[Request], now: float) -> list[Receipt | TwinError]:
        """Post many requests in one transaction (group commit); each answer is a receipt or refusal."""
        with self.store.lock:  # commit and cache update together, so threads never see a half state
            with self.store.transaction() as tx:
                results = post_batch(tx, requests, now, self.params, self._cache)
            self._cache.confirm()
        self.record(requests, results, now)
        return results

    def post_in(self, tx: Tx, requests: Sequence[Request], now: float,
                times: Sequence[float] | None = None) -> list[Receipt | TwinError]:
        """Post inside a caller's transaction (committed with it); the caller then calls `record`.

        `times` dates each request at its own instant (requests decided earlier, written now)."""
        return post_batch(tx, requests, now, self.params, times=times)

    def record(self, requests: Sequence[Request], results: Sequence[Receipt | TwinError], now: float) -> None:
        """Log the commit, each replay and each refusal (after the transaction committed)."""
        posted = [r.posting_id for r in results if not isinstance(r, TwinError) and not r.replayed]
        if posted:
            self.events.append(PaymentsCommitted(now, len(posted), posted[0], posted[-1]))
        if len(posted) == len(results):
            return
        for req, res in zip(requests, results, strict=True):
            if isinstance(res, TwinError):
                self.events.append(_refusal_event(req, res, now))
            elif res.replayed:
                self.events.append(PaymentReplayed(now, res.key, res.op, res.posting_id))

    def _one(self, request: Request, now: float) -> Receipt:
        (result,) = self.post_many([request], now)
        if isinstance(result, TwinError):
            raise result
        return result

    def pay_fee(self, key: str, resident_id: int, fee_type: str, amount: int, now: float, *,
                channel: str = "portal", method: str = "wallet", site: int = 0) -> Receipt:
        """Pay a fee from the wallet, or in cash/by card at the channel; refused if it cannot."""
        return self._one(FeePayment(key, resident_id, fee_type, amount, channel, method, site), now)

    def top_up(self, key: str, resident_id: int, amount: int, now: float, *, channel: str = "portal",
               site: int = 0) -> Receipt:
        """Load yen into a resident's wallet (cash at a kiosk or counter, card on the portal)."""
        return self._one(TopUp(key, resident_id, amount, channel, site), now)

    def refund(self, key: str, payment_key: str, now: float, amount: int | None = None) -> Receipt:
        """Give back a fee (all of it by default) the way it was paid."""
        return self._one(Refund(key, payment_key, amount), now)

    def grant_points(self, key: str, resident_id: int, points: int, activity: str, now: float,
                     expires_at: float | None = None) -> Receipt:
        """Grant points for a civic activity; they expire after the default validity unless told."""
        until = now + self.params.point_validity_days * DAY if expires_at is None else expires_at
        return self._one(PointGrant(key, resident_id, points, activity, until), now)

    def redeem_points(self, key: str, resident_id: int, points: int, now: float) -> Receipt:
        """Turn unexpired points into wallet yen, soonest-expiring first."""
        return self._one(PointRedemption(key, resident_id, points), now)

    def expire_points(self, now: float, limit: int = 10_000) -> list[Receipt]:
        """Lapse every lot past its expiry (up to `limit` lots); safe to run again."""
        with self.store.reading() as tx:
            lots = pts.lapsing(tx, now, limit)
        reqs = [PointExpiry(f"expire:lot:{x.lot_id}", x.resident_id, x.lot_id, x.remaining) for x in lots]
        results = self.post_many(reqs, now) if reqs else []
        return [r for r in results if isinstance(r, Receipt)]

    # -- reading -------------------------------------------------------------------------------

    def balance(self, account: str) -> int:
        """An account's balance as people read it (a wallet of ¥500 is 500); 0 if never used."""
        with self.store.reading() as tx:
            stored = tx.scalar("SELECT balance FROM ledger_accounts WHERE account_id = ?", (account,))
        return 0 if stored is None else int(stored) * side(account)

    def wallet_balance(self, resident_id: int) -> int:
        """Yen in a resident's wallet."""
        return self.balance(wallet(check_resident(resident_id)))

    def points_held(self, resident_id: int, now: float) -> int:
        """Points a resident can redeem at `now` (expired points excluded)."""
        with self.store.reading() as tx:
            return sum(x.remaining for x in pts.lots_of(tx, check_resident(resident_id)) if x.expires_at > now)

    def point_lots(self, resident_id: int) -> pl.DataFrame:
        """A resident's point lots, soonest expiry first."""
        with self.store.reading() as tx:
            lots = pts.lots_of(tx, check_resident(resident_id))
        schema = {"lot_id": pl.Int64, "activity": pl.Utf8, "points": pl.Int64, "remaining": pl.Int64,
                  "granted_at": pl.Float64, "expires_at": pl.Float64}
        return pl.DataFrame([{k: getattr(x, k) for k in schema} for x in lots], schema=schema)

    def receipt(self, key: str) -> Receipt | None:
        """The receipt of an earlier posting by its key, or None."""
        with self.store.reading() as tx:
            return load_receipts(tx, [key]).get(key)

    def balances(self) -> pl.DataFrame:
        """Every account with its kind and natural balance."""
        with self.store.reading() as tx:
            rows = tx.query("SELECT account_id, kind, balance FROM ledger_accounts ORDER BY account_id")
        return pl.DataFrame({"account_id": [r[0] for r in rows], "kind": [r[1] for r in rows],
                             "balance": [int(r[2]) * side(r[0]) for r in rows]},
                            schema={"account_id": pl.Utf8, "kind": pl.Utf8, "balance": pl.Int64})

    def reconcile(self) -> Reconciliation:
        """The reconciliation report over the whole book."""
        with self.store.reading() as tx:
            return reconcile(tx)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction on the ledger's store, for services that post with `post_in`."""
        with self.store.transaction() as tx:
            yield tx
