"""Typed request and response models of the live endpoints (they make the OpenAPI document).

The reader models mirror the reader contract (`devices.contract`, docs/readers.md) field for
field: the same names, patterns and rules, unknown keys refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from devices import contract

ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
KEY_PATTERN = r"^[A-Za-z0-9._:-]{1,32}$"  # client idempotency keys (the service prefixes the caller)
NAME_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"  # names of things the twin knows (fee types, tasks, agencies, books)
B64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"  # standard base64, padded
ID_MAX = 2**53  # resident ids, message ids, child ids: beyond any city, inside int64 and a JSON double
YEN_MAX = 10**12  # amounts and points: a trillion, far beyond any fee, inside int64 sums
T_MAX = 2**33  # POSIX seconds: the year 2242
ResidentId = Annotated[int, Field(ge=0, le=ID_MAX)]
Amount = Annotated[int, Field(ge=-YEN_MAX, le=YEN_MAX, description="yen (a non-positive one is refused by the "
                                                                      "ledger's rules with invalid_amount)")]
Name = Annotated[str, Field(pattern=NAME_PATTERN)]
Base64 = Annotated[str, Field(pattern=B64_PATTERN, min_length=4, max_length=8192, description="base64")]


def _real_date(text: str) -> str:
    try:
        dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise ValueError(f"birth_date {text[:8]} is not a calendar date (YYYYMMDD)") from None
    return text


class Model(BaseModel):
    """Strict models: unknown keys and values of another JSON type (a "12" for 12, true for 1) are errors."""

    model_config = ConfigDict(extra="forbid", strict=True)


# -- the reader contract -----------------------------------------------------------------------------
class FaceIn(Model):
    """A twin card's sealed face record: serial, 4 basic items, expiry, the authority's seal."""

    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=400)
    birth_date: Annotated[str, AfterValidator(_real_date)] = Field(
        pattern=r"^[0-9]{4}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$", description="YYYYMMDD, a calendar date")
    sex: str = Field(pattern=r"^[0-9]$", description="ISO 5218 digit")
    expires_at: int = Field(ge=0, le=T_MAX, description="POSIX seconds")
    seal: Base64


class CardIn(Model):
    """What the reader learnt of the card: a serial (and face) or a real card's certificate serial."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["card_serial"], "properties": {"card_serial": {"type": "integer"}}},
        {"required": ["certificate_serial"], "properties": {"certificate_serial": {"type": "string"}}}]})

    card_serial: int | None = Field(None, ge=0, le=2**62)
    certificate_serial: str | None = Field(None, pattern=r"^[0-9a-f]{1,40}$",
                                           description="lower-case hex (a serial naming no card is refused: "
                                                       "404 unknown_card)")
    face: FaceIn | None = None

    @model_validator(mode="after")
    def _one_id(self) -> CardIn:
        if self.card_serial is None and self.certificate_serial is None:
            raise ValueError("card needs card_serial or certificate_serial")
        return self


class AuthIn(Model):
    """Kiosk authentication: the user certificate and its key's signature over the tap's challenge."""

    certificate: Base64 = Field(description="base64 DER")
    nonce: str = Field(pattern=r"^[0-9a-f]{32}$")
    signature: Base64 = Field(description="base64, over DigestInfo(SHA-256(challenge))")
    hash: Literal["sha256"] = "sha256"


class TapIn(Model):
    """One card presented at one reader (reader contract v1)."""

    tap_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="32 lower-case hex, chosen by the reader")
    device_id: str = Field(pattern=ID_PATTERN)
    site_id: str = Field(pattern=ID_PATTERN)
    kind: Literal[contract.KINDS] = Field(description="checkin | checkout (shelter), kiosk_auth (kiosk), "  # type: ignore[valid-type]
                                          "childwatch (school)")
    at: float = Field(ge=0, le=T_MAX, allow_inf_nan=False, description="POSIX seconds when the card was read "
                      "(within the service's skew of its clock ahead, and its reader-queue age behind)")
    card: CardIn
    auth: AuthIn | None = None

    @model_validator(mode="after")
    def _auth_for_kiosks(self) -> TapIn:
        if (self.kind == "kiosk_auth") != (self.auth is not None):
            raise ValueError("auth is required for kiosk_auth taps and only for them")
        return self


class TapBatchIn(Model):
    """Queued taps uploaded together (at most 500)."""

    taps: list[TapIn]


class TapResultOut(BaseModel):
    """The answer for one tap."""

    tap_id: str
    status: Literal["recorded", "duplicate", "rejected"]
    error: str | None = None
    detail: str | None = None
    result: dict[str, Any] | None = None


class TapBatchOut(BaseModel):
    """One answer per uploaded tap, in order."""

    results: list[TapResultOut]


class ErrorOut(BaseModel):
    """A refusal: a machine-readable code and a sentence saying what was wrong."""

    error: str
    detail: str
    problems: list[dict[str, Any]] | None = None


# -- residents -------------------------------------------------------------------------------------
class ChallengeOut(BaseModel):
    """A login challenge for the card to sign (valid once, for a minute)."""

    challenge: str
    expires_in_s: float


class LoginIn(Model):
    """The card's answer: its user certificate and its signature over the challenge."""

    certificate: Base64 = Field(description="base64 DER of the JPKI user certificate")
    challenge: str = Field(pattern=r"^[0-9a-f]{80}$", description="the challenge as the service issued it")
    signature: Base64 = Field(description="base64 signature by the card's user key (behind its PIN)")


class SessionOut(BaseModel):
    """A resident session: send it as Authorization: Bearer <token>."""

    token: str
    resident_id: int
    assurance: str
    expires_at: float


class MemberOut(BaseModel):
    """Where a household member is recorded (shelter_id null: not checked in anywhere)."""

    resident_id: int
    shelter_id: int | None
    since: float | None


class MessageOut(BaseModel):
    """One message in the resident's mailbox."""

    message_id: int
    topic: str
    body: str
    delivered_at: float
    read_at: float | None


class WalletOut(BaseModel):
    """A resident's wallet yen and unexpired points."""

    resident_id: int
    wallet_yen: int
    points: int


class PortalPaymentIn(Model):
    """A fee paid on the portal; the reference makes it idempotent for this resident."""

    reference: str = Field(pattern=KEY_PATTERN)
    fee_type: Name
    amount: Amount
    method: Literal["card", "wallet"] = "card"


class RedeemIn(Model):
    """Redeem unexpired points into the wallet; the key makes it idempotent for this resident."""

    key: str = Field(pattern=KEY_PATTERN)
    points: Amount


class ChildWatchIn(Model):
    """A guardian's consent for a child of the household."""

    child_id: ResidentId


# -- devices and agencies ------------------------------------------------------------------------------
class ReceiptOut(BaseModel):
    """A committed ledger posting (replayed: the first answer to a repeated key)."""

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
    replayed: bool


class FeeIn(Model):
    """A fee paid at a kiosk (cash) or a counter (cash)."""

    key: str = Field(pattern=KEY_PATTERN)
    resident_id: ResidentId
    fee_type: Name
    amount: Amount


class TopUpIn(Model):
    """Cash loaded into a resident's wallet at a kiosk or counter."""

    key: str = Field(pattern=KEY_PATTERN)
    resident_id: ResidentId
    amount: Amount


class GrantIn(Model):
    """Administrative points granted for a civic activity (counter staff)."""

    key: str = Field(pattern=KEY_PATTERN)
    resident_id: ResidentId
    points: Amount
    activity: str = Field(min_length=1, max_length=64)


class RefundIn(Model):
    """A fee refunded at a counter (all of it unless an amount is given)."""

    key: str = Field(pattern=KEY_PATTERN)
    resident_id: ResidentId
    payment_key: str = Field(min_length=1, max_length=128,
                             description="the key the fee was paid under, as the ledger shows it")
    amount: Amount | None = None


class KioskCertificateIn(Model):
    """A certificate at a kiosk, resting on a card authentication this kiosk recorded."""

    request_key: str = Field(pattern=KEY_PATTERN)
    auth_tap_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    certificate: Name = Field(description="the certificate type, e.g. resident_record")
    copies: int = Field(1, ge=1, le=10)


class CounterCertificateIn(Model):
    """A certificate at a ward counter; staff checked the resident's photo ID."""

    request_key: str = Field(pattern=KEY_PATTERN)
    resident_id: ResidentId
    certificate: Name = Field(description="the certificate type, e.g. resident_record")
    window: int = Field(ge=0, le=999)
    copies: int = Field(1, ge=1, le=10)


class DocumentOut(BaseModel):
    """An issued certificate's audit record."""

    doc_no: str
    request_key: str
    resident_id: int
    cert_type: str
    copies: int
    channel: str
    site: int
    window: int
    fee_yen: int
    fee_key: str
    identity_method: str
    assurance: int
    status: str
    reason: str
    at: float
    replayed: bool


class LinkageIn(Model):
    """An agency asks another for items about a resident it serves."""

    resident_id: ResidentId
    task: Name
    items: list[Name] = Field(min_length=1, max_length=20)
    provider: Name


class LinkageOut(BaseModel):
    """The items found (under the requester's own code for the resident) and those missing."""

    request_id: int
    requester: str
    provider: str
    task: str
    subject: str
    values: dict[str, Any]
    missing: list[str]
    at: float


class VitalRecordIn(Model):
    """A clinic adds an entry to a resident's handbook."""

    subject: ResidentId
    book: Name
    entry: str = Field(min_length=1, max_length=200)
    detail: str = Field(min_length=1, max_length=2_000, pattern=r"\S", description="what was recorded")


class HeadcountsOut(BaseModel):
    """Per shelter: the HQ's latest report and the desk's counts now."""

    at: float
    total_reported: int
    shelters: list[dict[str, Any]]


# -- cards -----------------------------------------------------------------------------------------------
class LossReportIn(Model):
    """A card reported lost at a city counter (紛失届); staff checked the holder's photo ID."""

    report_id: str = Field(pattern=KEY_PATTERN, description="the counter's idempotency key for this report")
    card_serial: int = Field(ge=0, le=2**62, description="the serial number (製造番号) printed on the card")
    at: float = Field(ge=0, le=T_MAX, allow_inf_nan=False, description="POSIX seconds when the loss was reported")


class MyLossReportIn(Model):
    """My own card reported lost from my session (by default the card I logged in with)."""

    report_id: str = Field(pattern=KEY_PATTERN, description="my idempotency key for this report")
    card_serial: int | None = Field(None, ge=0, le=2**62, description="one of my cards; default: the session's")


class LossReportOut(BaseModel):
    """The suspended card: its certificates revoked, and the services that refuse it from now on."""

    report_id: str
    status: Literal["recorded", "duplicate"]
    card_serial: int
    resident_id: int
    card_status: str = Field(description="suspended: the holder can report it found or ask for a reissue")
    suspended_at: float = Field(description="POSIX seconds; taps from then on are refused, earlier ones stay")
    revoked_certificates: list[str] = Field(description="hex serials of the JPKI certificates revoked (user first)")
    refused_by: list[str] = Field(description="the actors that hold the revocation (journaled) before this reply")
