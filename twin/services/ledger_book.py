"""The double-entry book (複式簿記): posts a batch of requests inside one store transaction.

One batch reads what it needs up front (earlier postings by key, balances, refunds, point
lots), applies the requests in order in memory, refusing any that break a rule, and writes
everything back with a handful of statements: that is the group commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain

from twin.collector import collector_paused
from twin.errors import TwinError, ValidationError
from twin.services import points as pts
from twin.services.ledger_cache import BalanceCache
from twin.services.ledger_fast import fee_columns, post_fees
from twin.services.ledger_requests import REQUEST_TYPES, Receipt, Row
from twin.services.ledger_rules import (
    POINTS_BREAKAGE,
    POINTS_EXPENSE,
    IdempotencyConflict,
    InsufficientFunds,
    InsufficientPoints,
    LedgerParams,
    PaymentNotFound,
    RefundRefused,
    account_rule,
    kind_of,
    revenue,
    source_account,
    wallet,
)
from twin.services.ledger_rules import points as points_account
from twin.services.ledger_sql import insert_values, store_balances
from twin.store import Tx

POSTING_COLUMNS = "posting_id, idem_key, op, resident_id, amount, detail, channel, method, site, ref, expires_at, at"
FINGERPRINT = ("op", "resident_id", "amount", "detail", "channel", "method", "site", "ref", "expires_at")
REFUND_FINGERPRINT = ("op", "amount", "ref")  # payer and accounts come from the refunded payment
Legs = list[tuple[str, int]]
_REVENUE: dict[str, str] = {}  # fee type -> its revenue account (fee types are a fixed, validated set)
SIMPLE_OPS = frozenset(("fee", "top_up"))  # no refund totals or point lots to keep


def load_receipts(tx: Tx, keys: Sequence[str]) -> dict[str, Receipt]:
    """Earlier postings by idempotency key, as replay receipts."""
    rows = tx.query_in(f"SELECT {POSTING_COLUMNS} FROM ledger_postings WHERE idem_key IN ({{in}})", keys)
    return {r[1]: Receipt(*r, replayed=True) for r in rows}


def _conflict(row: Row, first: Receipt) -> IdempotencyConflict | None:
    """A conflict naming each field where a reused key's request differs from the first one."""
    names = REFUND_FINGERPRINT if row.op == "refund" else FINGERPRINT
    diffs = [(f, getattr(first, f), getattr(row, f)) for f in names
             if not (f == "amount" and row.amount is None) and getattr(first, f) != getattr(row, f)]
    if not diffs:
        return None
    said = "; ".join(f"{f} was {a!r}, now {b!r}" for f, a, b in diffs)
    return IdempotencyConflict(f"idempotency key {row.key!r} was already used for posting "
                               f"#{first.posting_id} ({first.op} of {first.amount:,} by resident "
                               f"{first.resident_id}); this request differs ({said}); refused, nothing posted")


class Batch:
    """One group commit in progress."""

    def __init__(self, tx: Tx, now: float, params: LedgerParams, cache: BalanceCache | None = None) -> None:
        self.tx, self.now, self.params, self.cache = tx, float(now), params, cache
        self.version = int(tx.scalar("SELECT value FROM ledger_meta WHERE name = 'version'"))
        self.cached = cache.valid_at(self.version) if cache is not None else {}
        self.balances: dict[str, int] = {}
        self.loaded: dict[str, int] = {}
        self.rules: dict[str, tuple[int, bool]] = cache.rules if cache is not None else {}
        self.posted: list[Receipt] = []
        self.entries: list[tuple[int, str, int]] = []
        self.refunded: dict[str, int] = {}
        self.refunds_new: set[str] = set()
        self.next_id = int(tx.scalar("SELECT COALESCE(MAX(posting_id), 0) FROM ledger_postings")) + 1
        self.receipts: dict[str, Receipt] = {}
        self.lots: pts.LotBook | None = None
        self.legs: list[Legs] = []
        self.fresh: list[str] = []  # accounts not in the store when the batch began
        self.touched: set[str] | None = None  # accounts the entries name, if known without them
        self.posting_values: list[object] = []  # the postings flat, if built without receipts
        self.entry_values: list[object] = []  # the entries flat (posting, account, amount, ...)

    def prepare(self, rows: list[Row]) -> None:
        """Read every earlier posting, refund total, balance and point lot the batch needs."""
        refs = [r.ref for r in rows if r.op == "refund"]
        self.receipts = load_receipts(self.tx, [r.key for r in rows] + refs)
        for key, total in self.tx.query_in("SELECT payment_key, refunded FROM ledger_refunds "
                                           "WHERE payment_key IN ({in})", refs):
            self.refunded[key] = int(total)
        legs_of, found = self._legs, self.receipts.get
        self.legs = [legs_of(r, r.amount or 0, found(r.ref) if r.ref else None) for r in rows]
        accounts = {acc for legs in self.legs for acc, _ in legs}
        accounts.update((POINTS_EXPENSE, POINTS_BREAKAGE))
        self.load(accounts)
        if any(r.op not in SIMPLE_OPS for r in rows):
            self.lots = pts.LotBook(self.tx, [r.resident_id for r in rows if r.op in ("redeem", "expire")])

    def load(self, accounts: set[str]) -> None:
        """Read the balances of these accounts (cached ones from the cache); new ones start at 0."""
        cached, balances, rules = self.cached, self.balances, self.rules
        missing = accounts.difference(cached)
        if len(missing) < len(accounts):
            present = accounts.difference(missing)
            balances.update(zip(present, map(cached.__getitem__, present), strict=True))
        for acc, bal in self.tx.query_in("SELECT account_id, balance FROM ledger_accounts "
                                         "WHERE account_id IN ({in})", sorted(missing)):
            balances[acc] = int(bal)
        self.loaded = dict(balances)
        fresh = accounts.difference(balances)
        balances.update(dict.fromkeys(fresh, 0))
        self.fresh.extend(fresh)
        rules.update((acc, account_rule(acc)) for acc in accounts.difference(rules))

    def _legs(self, r: Row, amount: int, original: Receipt | None) -> Legs:
        """The balanced legs (account, signed amount, debit positive) of one request."""
        rid = r.resident_id
        if r.op == "fee":
            src = f"wallet:{rid}" if r.method == "wallet" else source_account(rid, r.channel, r.method, r.site)
            rev = _REVENUE.get(r.detail) or _REVENUE.setdefault(r.detail, revenue(r.detail))
            return [(src, amount), (rev, -amount)]
        if r.op == "top_up":
            return [(source_account(rid, r.channel, r.method, r.site), amount), (wallet(rid), -amount)]
        if r.op == "grant":
            return [(POINTS_EXPENSE, amount), (points_account(rid), -amount)]
        if r.op == "redeem":  # retire the points; the wallet gets their yen value
            value = amount * self.params.point_value_yen
            legs = [(points_account(rid), amount), (wallet(rid), -value)]
            return legs + [(POINTS_EXPENSE, value - amount)] if value != amount else legs
        if r.op == "expire":
            return [(points_account(rid), amount), (POINTS_BREAKAGE, -amount)]
        if original is None or original.op != "fee":
            return []
        return [(revenue(original.detail), amount),
                (source_account(original.resident_id, original.channel, original.method, original.site), -amount)]

    def apply(self, row: Row, legs: Legs) -> Receipt:
        """Post one request (legs as planned in `prepare`), replay it, or raise the refusal."""
        first = self.receipts.get(row.key)
        if first is not None:
            err = _conflict(row, first)
            if err is not None:
                raise err
            return first if first.replayed else first._replace(replayed=True)
        simple = row.op in SIMPLE_OPS
        if not simple:
            row, legs = self._plan(row)
            self._register(legs)
        balances, rules = self.balances, self.rules
        after = []
        for acc, amt in legs:  # the no-overdraft rule, checked before anything changes
            bal = balances[acc] + amt
            sign, free = rules[acc]
            if bal * sign < 0 and not free:
                raise self._insufficient(row, acc, balances[acc] * sign)
            after.append(bal)
        pid = self.next_id
        self.next_id = pid + 1
        entries = self.entries
        for (acc, amt), bal in zip(legs, after, strict=True):
            balances[acc] = bal
            entries.append((pid, acc, amt))
        if not simple:
            self._side_effects(row, pid)
        receipt = tuple.__new__(Receipt, (pid, *row, self.now, False))
        self.posted.append(receipt)
        self.receipts[row.key] = receipt
        return receipt

    def _plan(self, row: Row) -> tuple[Row, Legs]:
        """Resolve refunds against their payment and check point lots; return the legs."""
        if row.op == "refund":
            return self._plan_refund(row)
        if row.op == "redeem":
            usable = self.lots.usable(row.resident_id, self.now)
            if row.amount > usable:
                lapsed = self.lots.lapsed(row.resident_id, self.now)
                raise InsufficientPoints(
                    f"resident {row.resident_id} holds {usable:,} unexpired points"
                    + (f" ({lapsed:,} more have expired)" if lapsed else "")
                    + f" and asked to redeem {row.amount:,}; refused, nothing redeemed")
        if row.op == "grant" and row.expires_at <= self.now:
            raise ValidationError(f"points granted at {pts.expiry_text(self.now)} must expire later, "
                                  f"not at {pts.expiry_text(row.expires_at)}; nothing granted")
        if row.op == "expire":
            lot = self.lots.lot(row.resident_id, int(row.ref))
            if lot is None or lot.expires_at > self.now or lot.remaining != row.amount:
                raise ValidationError(f"point lot {row.ref} of resident {row.resident_id} has no "
                                      f"{row.amount:,} points due to expire at this time")
        return row, self._legs(row, row.amount, None)

    def _plan_refund(self, row: Row) -> tuple[Row, Legs]:
        original = self.receipts.get(row.ref)
        if original is None:
            raise PaymentNotFound(f"no payment with key {row.ref!r} to refund; nothing posted")
        if original.op != "fee":
            raise RefundRefused(f"key {row.ref!r} is a {original.op}, not a fee payment; only fees are refunded")
        amount = original.amount if row.amount is None else row.amount
        done = self.refunded.get(row.ref, 0)
        if done + amount > original.amount:
            raise RefundRefused(f"payment {row.ref!r} was ¥{original.amount:,} and ¥{done:,} is already "
                                f"refunded; a refund of ¥{amount:,} would exceed it; nothing posted")
        row = row._replace(amount=amount, resident_id=original.resident_id, detail=original.detail,
                           channel=original.channel, method=original.method, site=original.site)
        return row, self._legs(row, amount, original)

    def _register(self, legs: Iterable[tuple[str, int]]) -> None:
        """Give every account the batch may touch its rule and a balance (0 if new)."""
        balances, rules = self.balances, self.rules
        for acc, _ in legs:
            if acc not in balances:
                balances[acc] = 0
                self.fresh.append(acc)
            if acc not in rules:
                rules[acc] = account_rule(acc)

    @staticmethod
    def _insufficient(row: Row, acc: str, natural: int) -> InsufficientFunds:
        unit = "points" if kind_of(acc) == "points" else "yen"
        return InsufficientFunds(f"{acc} holds {natural:,} {unit}; this {row.op} needs "
                                 f"{row.amount:,}; refused, nothing posted")

    def _side_effects(self, row: Row, pid: int) -> None:
        """Refund totals and point lots, for the ops that have them."""
        if row.op == "refund":
            if row.ref not in self.refunded:
                self.refunds_new.add(row.ref)
            self.refunded[row.ref] = self.refunded.get(row.ref, 0) + row.amount
        elif row.op == "grant":
            self.lots.add(row.resident_id, pid, row.detail, row.amount, self.now, row.expires_at)
        elif row.op == "redeem":
            self.lots.take(row.resident_id, row.amount, self.now, pid)
        elif row.op == "expire":
            self.lots.lapse(self.lots.lot(row.resident_id, int(row.ref)), pid)

    def write_if_keys_new(self) -> bool:
        """Write the batch unless the store already holds one of its keys; then write nothing."""
        tx = self.tx
        tx.execute("SAVEPOINT ledger_new_keys")
        try:
            self.write()
        except Exception as exc:
            if not _key_taken(exc):
                raise
            tx.execute("ROLLBACK TO SAVEPOINT ledger_new_keys")
            tx.execute("RELEASE SAVEPOINT ledger_new_keys")
            return False
        tx.execute("RELEASE SAVEPOINT ledger_new_keys")
        return True

    def write(self) -> None:
        """Write the batch's postings, entries, balances, refunds and lots; bump the version."""
        tx, cache = self.tx, self.cache
        was_valid = cache is not None and cache.version == self.version
        if not self.posted:
            if cache is not None:
                cache.stage(self.version, {}, was_valid)
            return
        old, balances = self.loaded, self.balances
        touched = self.touched if self.touched is not None else {e[1] for e in self.entries}
        new = touched.difference(old)
        for acc in self.fresh:  # accounts only refused requests named: never created, never cached
            if acc not in new:
                del balances[acc]
        tx.execute("UPDATE ledger_meta SET value = ? WHERE name = 'version'", (self.version + 1,))
        insert_values(tx, f"ledger_postings ({POSTING_COLUMNS})",
                      self.posting_values or [v for r in self.posted for v in r[:12]], 12)
        insert_values(tx, "ledger_entries (posting_id, account_id, amount)",
                      self.entry_values or list(chain.from_iterable(self.entries)), 3)
        tx.executemany("INSERT INTO ledger_accounts (account_id, kind, balance) VALUES (?, ?, ?)",
                       [(a, kind_of(a), balances[a]) for a in sorted(new)])
        store_balances(tx, {a: b for a, b in balances.items() if a in old and old[a] != b})
        tx.executemany("INSERT INTO ledger_refunds (payment_key, refunded) VALUES (?, ?)",
                       [(k, self.refunded[k]) for k in self.refunds_new])
        tx.executemany("UPDATE ledger_refunds SET refunded = ? WHERE payment_key = ?",
                       [(v, k) for k, v in self.refunded.items() if k not in self.refunds_new])
        if self.lots is not None:
            self.lots.write(tx)
        if cache is not None:
            cache.stage(self.version + 1, balances, was_valid)


def _key_taken(exc: Exception) -> bool:
    """The store refused a posting because its idempotency key is already there (any backend)."""
    return type(exc).__name__ in ("IntegrityError", "UniqueViolation") and "idem_key" in str(exc)


def post_batch(tx: Tx, requests: Sequence[object], now: float, params: LedgerParams,
               cache: BalanceCache | None = None, times: Sequence[float] | None = None
               ) -> list[Receipt | TwinError]:
    """Post each request in order inside `tx`; each answer is a receipt or the refusal.

    With a `cache`, balances this process committed last are not read again; the caller
    calls `cache.confirm()` once the transaction has committed. With `times` (one per
    request, in order) each posting is dated at its own instant, as if each had been posted
    alone at that time, in the same transaction (requests that were decided earlier and are
    written together).
    """
    with collector_paused():
        if times is None:
            return _post_batch(tx, requests, now, params, cache)
        if len(times) != len(requests):
            raise ValidationError(f"{len(times)} times for {len(requests)} requests")
        fast = _post_fees_fast(tx, requests, now, params, cache, times)
        if fast is not None:
            return fast
        return [r for req, t in zip(requests, times, strict=True)
                for r in _post_batch(tx, [req], t, params, cache)]


def _post_fees_fast(tx: Tx, requests: Sequence[object], now: float, params: LedgerParams,
                    cache: BalanceCache | None, times: Sequence[float] | None = None) -> list[Receipt] | None:
    """The columnar fast path if the batch holds only new, valid fee payments; else None."""
    cols = fee_columns(requests, params)
    if cols is None:
        return None
    batch = Batch(tx, now, params, cache)
    fast = post_fees(batch, cols, times)
    if fast is not None and batch.write_if_keys_new():
        return fast
    return None


def _post_batch(tx: Tx, requests: Sequence[object], now: float, params: LedgerParams,
                cache: BalanceCache | None) -> list[Receipt | TwinError]:
    fast = _post_fees_fast(tx, requests, now, params, cache)
    if fast is not None:
        return fast  # type: ignore[return-value]
    out: list[Receipt | TwinError] = []
    rows: list[Row | None] = []
    for req in requests:
        try:
            if not isinstance(req, REQUEST_TYPES):
                raise ValidationError(f"not a ledger request: {type(req).__name__}")
            rows.append(req.row(params))
            out.append(None)  # type: ignore[arg-type]
        except TwinError as err:
            rows.append(None)
            out.append(err)
    batch = Batch(tx, now, params, cache)
    valid = [(i, r) for i, r in enumerate(rows) if r is not None]
    batch.prepare([r for _, r in valid])
    for (i, row), legs in zip(valid, batch.legs, strict=True):
        try:
            out[i] = batch.apply(row, legs)
        except TwinError as err:
            out[i] = err
    batch.write()
    return out
