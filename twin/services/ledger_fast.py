"""The columnar fast path for a batch of fee payments only (手数料の一括納付).

A batch in which every request is a valid `FeePayment` with a new, unrepeated key and no
account that could end (or start) below zero is posted column by column: a few set, min and
max checks instead of one validation per request, legs as lists, one pass for the balances.
Under those conditions the general path (`Batch.apply` per request) would post every request
in order with exactly these rows; whenever they do not hold, `post_fees` answers None and the
caller runs the general path, which gives each refusal, replay and conflict its own answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from itertools import chain, repeat
from operator import add, attrgetter
from typing import Any, Protocol

from twin.services.ledger_requests import PAY_PAIRS, FeePayment, Receipt
from twin.services.ledger_rules import LedgerParams, account_rule, revenue, source_account

FeeColumns = tuple[tuple, ...]  # keys, resident ids, fee types, amounts, channels, methods, sites
_FIELDS = attrgetter("key", "resident_id", "fee_type", "amount", "channel", "method", "site")
_receipt = partial(tuple.__new__, Receipt)


class FeeBatch(Protocol):
    """What the fast path needs of a `ledger_book.Batch`."""

    tx: Any
    now: float
    next_id: int
    balances: dict[str, int]
    rules: dict[str, tuple[int, bool]]
    posted: list[Receipt]
    posting_values: list[object]
    entry_values: list[object]
    touched: set[str] | None

    def load(self, accounts: set[str]) -> None: ...


def _only(column: tuple, kind: type) -> bool:
    """Every value in the column is exactly of `kind` (no subclasses, so no bools for ints)."""
    return set(map(type, column)) == {kind}


def fee_columns(requests: Sequence[object], p: LedgerParams) -> FeeColumns | None:
    """The batch as columns if it holds only fee payments that pass validation as given, else None."""
    if not requests or set(map(type, requests)) != {FeePayment}:
        return None
    return valid_fee_columns(tuple(zip(*map(_FIELDS, requests), strict=True)), p)


def valid_fee_columns(cols: FeeColumns, p: LedgerParams) -> FeeColumns | None:
    """Fee payments' fields as columns (`FeeColumns`), if every payment passes validation as given, else None."""
    keys, rids, fees, amounts, chans, meths, sites = cols
    if not (_only(keys, str) and _only(rids, int) and _only(fees, str) and _only(amounts, int)
            and _only(chans, str) and _only(meths, str) and _only(sites, int)):
        return None
    if (min(map(len, keys)) < 1 or max(map(len, keys)) > p.max_key_chars or not "".join(keys).isprintable()
            or len(set(keys)) != len(keys)):
        return None  # a bad key, or a key repeated in the batch (a replay or a conflict)
    if min(rids) < 0 or min(sites) < 0 or min(amounts) < 1 or max(amounts) > p.max_amount_yen:
        return None
    if not set(zip(chans, meths, strict=True)) <= PAY_PAIRS or not set(fees) <= set(p.fee_types):
        return None
    return cols


def fee_shape(req: FeePayment, p: LedgerParams) -> tuple:
    """What `fee_columns([req], p)` depends on, as a key: requests with equal shapes get the same
    verdict (each field's type, the key's length and printability, the signs of payer and site, the
    amount inside or outside its range, the fee type, channel and method), so a caller checking
    many single requests can remember verdicts per shape. Keep in step with `fee_columns`."""
    key, rid, amount, site = req.key, req.resident_id, req.amount, req.site
    return (type(key), len(key) if type(key) is str else None, type(key) is str and key.isprintable(),
            type(rid), type(rid) is int and rid < 0, type(site), type(site) is int and site < 0,
            type(amount), type(amount) is int and 1 <= amount <= p.max_amount_yen,
            type(req.fee_type), req.fee_type, type(req.channel), req.channel, type(req.method), req.method)


def _legs(cols: FeeColumns) -> tuple[list[str], list[str], dict[str, int], set[str]]:
    """Each payment's source and revenue account, the net change per account, and the wallets."""
    _, rids, fees, amounts, chans, meths, sites = cols
    if set(meths) == {"wallet"}:
        srcs = [f"wallet:{rid}" for rid in rids]
        wallets = set(srcs)
    else:
        srcs = list(map(source_account, rids, chans, meths, sites))
        wallets = {src for src, m in zip(srcs, meths, strict=True) if m == "wallet"}
    rev_of = {f: revenue(f) for f in set(fees)}
    revs = list(map(rev_of.__getitem__, fees))
    delta = dict(zip(srcs, amounts, strict=True))
    if len(delta) < len(srcs):  # an account pays more than once: add its payments up
        delta.clear()
        get = delta.get
        for acc, amt in zip(srcs, amounts, strict=True):
            delta[acc] = get(acc, 0) + amt
    if len(rev_of) == 1:
        delta[revs[0]] = -sum(amounts)
    else:
        for fee, acc in rev_of.items():
            delta[acc] = -sum(a for f, a in zip(fees, amounts, strict=True) if f == fee)
    return srcs, revs, delta, wallets


def _lowest(stored: list[int], sign: int) -> int:
    """The lowest natural balance (stored x side) among stored balances of one side."""
    return min(stored) if sign > 0 else -max(stored)


def _never_below_zero(batch: FeeBatch, delta: dict[str, int], wallets: set[str]) -> bool:
    """No account breaks the no-overdraft rule at any point of the batch.

    Each account moves one way only in a fee batch (sources are debited, revenue credited),
    so every balance it passes through lies between its first and its last one. Wallets
    share one rule and are checked together.
    """
    balances, rules = batch.balances, batch.rules
    sign, free = account_rule("wallet:")
    if wallets and not free:
        before = list(map(balances.__getitem__, wallets))
        after = list(map(add, before, map(delta.__getitem__, wallets)))
        if _lowest(before, sign) < 0 or _lowest(after, sign) < 0:
            return False
    for acc in delta.keys() - wallets:
        sign, free = rules[acc]
        if not free and (balances[acc] * sign < 0 or (balances[acc] + delta[acc]) * sign < 0):
            return False
    return True


def post_fees(batch: FeeBatch, cols: FeeColumns, times: Sequence[float] | None = None) -> list[Receipt] | None:
    """Plan every payment of the batch (receipts in order), or None if the general path must.

    `times`, if given, dates each payment at its own instant (else all at the batch's time).

    Keys are not looked up here: the caller writes the batch under a savepoint and, if the
    store's unique key refuses one (a replay or a conflict), rolls it back for the general path.
    """
    keys, rids, fees, amounts, chans, meths, sites = cols
    srcs, revs, delta, wallets = _legs(cols)
    batch.load(set(delta))
    if not _never_below_zero(batch, delta, wallets):
        return None
    first, n = batch.next_id, len(keys)
    batch.next_id = first + n
    pids = range(first, first + n)
    balances = batch.balances
    for acc, d in delta.items():
        balances[acc] += d
    columns = (pids, keys, repeat("fee"), rids, amounts, fees, chans, meths, sites, repeat(""), repeat(0.0),
               repeat(batch.now) if times is None else times)
    batch.posted = list(map(_receipt, zip(*columns, repeat(False))))
    batch.posting_values = list(chain.from_iterable(zip(*columns, strict=False)))  # stops with pids
    negs = [-a for a in amounts]
    batch.entry_values = list(chain.from_iterable(zip(pids, srcs, amounts, pids, revs, negs, strict=True)))
    batch.touched = set(delta)
    return batch.posted
