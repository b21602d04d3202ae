"""Ledger requests (each carries an idempotency key) and the receipt a posting returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from twin.errors import ValidationError
from twin.fast_init import fast_init
from twin.services.ledger_rules import (
    EXTERNAL_METHOD,
    LedgerParams,
    check_amount,
    check_channel,
    check_key,
    check_resident,
)

PAY_PAIRS = frozenset([(c, "wallet") for c in EXTERNAL_METHOD] + list(EXTERNAL_METHOD.items()))


class Row(NamedTuple):
    """What a request asks for, normalised: the fields an idempotent replay must match."""

    key: str
    op: str
    resident_id: int
    amount: int | None  # None only for a refund of "the whole payment", resolved when posted
    detail: str  # fee type, activity, or what the money went into
    channel: str
    method: str
    site: int
    ref: str  # the refunded payment's key, or the expired lot's id
    expires_at: float


class Receipt(NamedTuple):
    """A committed posting: what was posted, its number, and whether this answer is a replay."""

    posting_id: int
    key: str
    op: str
    resident_id: int
    amount: int
    detail: str
    channel: str
    method: str
    site: int
    ref: str
    expires_at: float
    at: float
    replayed: bool = False

    def as_dict(self) -> dict[str, object]:
        """The receipt as a JSON-ready dict."""
        return self._asdict()


def _site(site: object) -> int:
    if isinstance(site, bool) or not isinstance(site, int) or site < 0:
        raise ValidationError(f"site must be a non-negative int (ward or kiosk number), got {site!r}")
    return site


def _fee_type(fee_type: object, p: LedgerParams) -> str:
    if fee_type not in p.fee_types:
        raise ValidationError(f"unknown fee type {fee_type!r}; valid: {', '.join(p.fee_types)}")
    return str(fee_type)


@fast_init
@dataclass(frozen=True, slots=True)
class FeePayment:
    """A resident pays a fee at a kiosk, a counter or the portal (手数料の電子納付)."""

    key: str
    resident_id: int
    fee_type: str
    amount: int
    channel: str = "portal"
    method: str = "wallet"
    site: int = 0
    op: ClassVar[str] = "fee"

    def row(self, p: LedgerParams) -> Row:
        """The validated, normalised request."""
        key, rid, amount, site = self.key, self.resident_id, self.amount, self.site
        if (type(key) is str and 0 < len(key) <= p.max_key_chars and type(rid) is int and rid >= 0
                and type(amount) is int and 0 < amount <= p.max_amount_yen and type(site) is int
                and site >= 0 and type(self.channel) is str and type(self.method) is str
                and (self.channel, self.method) in PAY_PAIRS and self.fee_type in p.fee_types
                and key.isprintable()):  # the common, valid case in one test
            return tuple.__new__(Row, (key, "fee", rid, amount, self.fee_type, self.channel, self.method,
                                       site, "", 0.0))
        check_channel(self.channel, self.method)
        return Row(check_key(self.key, p.max_key_chars), self.op, check_resident(self.resident_id),
                   check_amount(self.amount, p.max_amount_yen), _fee_type(self.fee_type, p),
                   self.channel, self.method, _site(self.site), "", 0.0)


@dataclass(frozen=True, slots=True)
class TopUp:
    """A resident loads yen into their wallet, paid in cash or by card outside the ledger."""

    key: str
    resident_id: int
    amount: int
    channel: str = "portal"
    site: int = 0
    op: ClassVar[str] = "top_up"

    def row(self, p: LedgerParams) -> Row:
        """The validated, normalised request."""
        check_channel(self.channel, EXTERNAL_METHOD.get(self.channel))
        return Row(check_key(self.key, p.max_key_chars), self.op, check_resident(self.resident_id),
                   check_amount(self.amount, p.max_amount_yen), "wallet", self.channel,
                   EXTERNAL_METHOD[self.channel], _site(self.site), "", 0.0)


@dataclass(frozen=True, slots=True)
class Refund:
    """Money back for a fee paid earlier (all of it when `amount` is None), the way it was paid."""

    key: str
    payment_key: str
    amount: int | None = None
    op: ClassVar[str] = "refund"

    def row(self, p: LedgerParams) -> Row:
        """The validated, normalised request (payer and accounts come from the payment)."""
        amount = None if self.amount is None else check_amount(self.amount, p.max_amount_yen)
        ref = check_key(self.payment_key, p.max_key_chars)
        return Row(check_key(self.key, p.max_key_chars), self.op, -1, amount, "", "", "", 0, ref, 0.0)


@dataclass(frozen=True, slots=True)
class PointGrant:
    """Administrative points (行政ポイント) granted for a civic activity, valid until `expires_at`."""

    key: str
    resident_id: int
    points: int
    activity: str
    expires_at: float
    op: ClassVar[str] = "grant"

    def row(self, p: LedgerParams) -> Row:
        """The validated, normalised request."""
        if not isinstance(self.activity, str) or not self.activity.isidentifier():
            raise ValidationError(f"activity must be an identifier such as 'volunteering', got {self.activity!r}")
        if isinstance(self.expires_at, bool) or not isinstance(self.expires_at, (int, float)):
            raise ValidationError(f"expires_at must be POSIX seconds, got {self.expires_at!r}")
        return Row(check_key(self.key, p.max_key_chars), self.op, check_resident(self.resident_id),
                   check_amount(self.points, p.max_points, "points"), self.activity, "", "", 0, "",
                   float(self.expires_at))


@dataclass(frozen=True, slots=True)
class PointRedemption:
    """A resident turns unexpired points into wallet yen (1 point = ¥1), oldest expiry first."""

    key: str
    resident_id: int
    points: int
    op: ClassVar[str] = "redeem"

    def row(self, p: LedgerParams) -> Row:
        """The validated, normalised request."""
        return Row(check_key(self.key, p.max_key_chars), self.op, check_resident(self.resident_id),
                   check_amount(self.points, p.max_points, "points"), "wallet", "", "", 0, "", 0.0)


@dataclass(frozen=True, slots=True)
class PointExpiry:
    """The unredeemed rest of one point lot lapses (posted by the expiry sweep)."""

    key: str
    resident_id: int
    lot_id: int
    points: int
    op: ClassVar[str] = "expire"

    def row(self, p: LedgerParams) -> Row:
        """The validated, normalised request."""
        return Row(check_key(self.key, p.max_key_chars), self.op, check_resident(self.resident_id),
                   check_amount(self.points, 10**12, "points"), "lapsed", "", "", 0, str(self.lot_id), 0.0)


Request = FeePayment | TopUp | Refund | PointGrant | PointRedemption | PointExpiry
REQUEST_TYPES = (FeePayment, TopUp, Refund, PointGrant, PointRedemption, PointExpiry)
