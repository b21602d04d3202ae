"""The ledger's rules: accounts and their sides, amount and key checks, refusals, parameters.

Balances are stored signed, debit positive, so every posting's legs and the whole ledger sum
to zero. Each account kind has a normal side; `natural` balances (stored x side) are what a
person reads: a wallet of ¥500 is 500, revenue of ¥300 is 300.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from twin.errors import Conflict, NotFound, ValidationError
from twin.services.param_dicts import from_dict, require_int, shared_fields

DEBIT, CREDIT = 1, -1

# kind -> (normal side, may the natural balance go below zero?)
ACCOUNT_KINDS: dict[str, tuple[int, bool]] = {
    "wallet": (CREDIT, False),  # prepaid e-money the city holds for a resident
    "points": (CREDIT, False),  # administrative points a resident holds: the point liability
    "revenue": (CREDIT, False),  # fees collected, one account per fee type
    "cash": (DEBIT, False),  # a counter's cash drawer, one per ward
    "clearing": (DEBIT, True),  # due from stores (kiosk cash) or the card acquirer (portal)
    "expense": (DEBIT, True),  # the cost of points granted
    "income": (CREDIT, True),  # points that expired unused (breakage)
}
CHANNELS = ("kiosk", "counter", "portal")
EXTERNAL_METHOD = {"kiosk": "cash", "counter": "cash", "portal": "card"}  # paid outside the wallet
METHODS = ("wallet", "cash", "card")
POINTS_EXPENSE = "expense:points"
POINTS_BREAKAGE = "income:points_expired"
CERTIFICATE_FEES = (  # the certificate types, named as in the design files
    "residence_record", "residence_record_items", "seal_registration", "tax_certificate",
    "family_register", "family_register_attachment",
)
OTHER_FEES = ("facility_booking", "bulky_waste")


class InvalidAmount(ValidationError):
    """An amount that is not a positive whole number of yen (or points) within the cap."""

    code = "invalid_amount"


class IdempotencyConflict(Conflict):
    """An idempotency key reused for a different request."""

    code = "idempotency_conflict"


class InsufficientFunds(Conflict):
    """A posting would take an account below zero where the account forbids it."""

    code = "insufficient_funds"


class InsufficientPoints(Conflict):
    """A redemption asks for more unexpired points than the resident holds."""

    code = "insufficient_points"


class RefundRefused(Conflict):
    """A refund of something that is not a fee, or of more than remains refundable."""

    code = "refund_refused"


class PaymentNotFound(NotFound):
    """A refund names a payment key the ledger has never posted."""

    code = "payment_not_found"


@dataclass(frozen=True)
class LedgerParams:
    """Ledger limits: the per-request caps (¥ and points), fee types, key length, point validity."""

    max_amount_yen: int = 300_000  # assumption (unverified): the usual cap of one store payment slip
    max_points: int = 100_000  # per grant or redemption
    fee_types: tuple[str, ...] = CERTIFICATE_FEES + OTHER_FEES
    max_key_chars: int = 128
    point_validity_days: int = 365  # default life of granted points
    point_value_yen: int = 1  # wallet yen per redeemed point

    def __post_init__(self) -> None:
        require_int("max_amount_yen", self.max_amount_yen, 1, 10**12)
        require_int("max_points", self.max_points, 1, 10**12)
        require_int("max_key_chars", self.max_key_chars, 8, 1024)
        require_int("point_validity_days", self.point_validity_days, 1, 3650)
        require_int("point_value_yen", self.point_value_yen, 1, 1_000)
        if not self.fee_types or not all(isinstance(f, str) and f.isidentifier() for f in self.fee_types):
            raise ValidationError(f"fee_types must be non-empty identifiers, got {self.fee_types!r}")
        object.__setattr__(self, "fee_types", tuple(self.fee_types))

    @classmethod
    def from_dict(cls, data: dict, where: str = "ledger") -> LedgerParams:
        """Build from a table of settings; an unknown key is an error naming it."""
        return from_dict(cls, data, where)

    @classmethod
    def from_design(cls, section: object) -> LedgerParams:
        """From a design's `payments` section: point expiry and whole-yen point value.

        The design's `fee_types` say which fees may be paid electronically; the ledger records
        every fee (cash at counters and kiosks too), so its own list is the default one plus those.
        """
        value = getattr(section, "point_value_yen", 1)
        if float(value) != int(value) or int(value) < 1:
            raise ValidationError(f"point_value_yen must be a whole number of yen >= 1 for the ledger, got {value!r}")
        fee_types = tuple(dict.fromkeys(CERTIFICATE_FEES + OTHER_FEES + tuple(getattr(section, "fee_types", ()))))
        return shared_fields(cls, section, {"point_expiry_days": "point_validity_days"},
                             point_value_yen=int(value), fee_types=fee_types)


def check_amount(value: Any, cap: int, unit: str = "yen") -> int:
    """The value as an int if it is a whole, positive amount at most `cap`; else InvalidAmount."""
    if type(value) is int and 0 < value <= cap:  # the common case, checked fast
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InvalidAmount(f"amount must be a whole number of {unit} (an int), got "
                            f"{type(value).__name__} {value!r}; nothing was posted")
    v = int(value)
    if v <= 0:
        raise InvalidAmount(f"amount must be positive, got {v:,} {unit}; nothing was posted")
    if v > cap:
        raise InvalidAmount(f"amount {v:,} {unit} is over the cap of {cap:,} {unit} per request; "
                            "nothing was posted")
    return v


def check_key(key: Any, max_chars: int) -> str:
    """The idempotency key if it is a non-empty printable string of at most `max_chars`."""
    if type(key) is str and 0 < len(key) <= max_chars and key.isprintable():
        return key
    if not isinstance(key, str) or not key or len(key) > max_chars or not key.isprintable():
        raise ValidationError(f"idempotency key must be 1..{max_chars} printable characters, got {key!r}")
    return key


def check_resident(resident_id: Any) -> int:
    """The resident id if it is a non-negative int."""
    if type(resident_id) is int and resident_id >= 0:
        return resident_id
    if isinstance(resident_id, (bool, np.bool_)) or not isinstance(resident_id, (int, np.integer)) \
            or resident_id < 0:
        raise ValidationError(f"resident_id must be a non-negative int, got {resident_id!r}")
    return int(resident_id)


def check_channel(channel: Any, method: Any) -> None:
    """Refuse an unknown channel, or a method the channel cannot take."""
    if channel not in CHANNELS:
        raise ValidationError(f"channel must be one of {', '.join(CHANNELS)}, got {channel!r}")
    if method not in ("wallet", EXTERNAL_METHOD[channel]):
        raise ValidationError(f"method at a {channel} must be 'wallet' or "
                              f"'{EXTERNAL_METHOD[channel]}', got {method!r}")


def wallet(resident_id: int) -> str:
    """A resident's e-money wallet account."""
    return f"wallet:{resident_id}"


def points(resident_id: int) -> str:
    """A resident's points account (part of the city's point liability)."""
    return f"points:{resident_id}"


def revenue(fee_type: str) -> str:
    """The city's revenue account for one fee type."""
    return f"revenue:{fee_type}"


def source_account(resident_id: int, channel: str, method: str, site: int) -> str:
    """Where a payment's money comes from: the wallet, a counter's drawer, or a clearing account."""
    if method == "wallet":
        return wallet(resident_id)
    if channel == "counter":
        return f"cash:counter:{site}"
    return f"clearing:{channel}"


def kind_of(account_id: str) -> str:
    """An account's kind (the part before the first colon)."""
    return account_id.split(":", 1)[0]


def account_rule(account_id: str) -> tuple[int, bool]:
    """(normal side, may go negative) of an account, from its kind."""
    return ACCOUNT_KINDS[account_id.partition(":")[0]]


def side(account_id: str) -> int:
    """+1 for a debit-normal account, -1 for a credit-normal one."""
    return ACCOUNT_KINDS[kind_of(account_id)][0]


def may_go_negative(account_id: str) -> bool:
    """Whether the account's natural balance may fall below zero."""
    return ACCOUNT_KINDS[kind_of(account_id)][1]
