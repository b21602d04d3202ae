"""The HTTP contract between card readers and the live endpoints (読取端末 ⇄ ライブAPI), version 1.

A reader posts taps; the endpoint records each tap id at most once and answers every repeat
of the same tap with the first answer, so a reader may resend until it hears back. See
docs/readers.md for the prose version. The live endpoints (Ray Serve) implement the same
contract; `devices.reference_endpoint` is a small stdlib implementation used in tests.
"""

from __future__ import annotations

import base64
import math
import re
from dataclasses import asdict, dataclass
from typing import Any

from twin.errors import ValidationError

TAPS_PATH = "/v1/readers/taps"  # POST one Tap -> 201 TapResult (200 when a duplicate)
BATCH_PATH = "/v1/readers/taps/batch"  # POST {"taps": [Tap, ...]} -> 200 {"results": [TapResult]}
MAX_BATCH = 500
AUTH_HEADER = "Authorization"  # "Bearer <device token>"
DEVICE_HEADER = "X-Device-Id"  # the device the token belongs to
ROLE_KINDS = {"shelter": ("checkin", "checkout"), "kiosk": ("kiosk_auth",), "school": ("childwatch",)}
KINDS = tuple(k for ks in ROLE_KINDS.values() for k in ks)
STATUSES = ("recorded", "duplicate", "rejected")
CHALLENGE_DOMAIN = b"myna-twin/reader-challenge/v1"
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_TAP_ID = re.compile(r"^[0-9a-f]{32}$")
_HEX = re.compile(r"^[0-9a-f]+$")


def _check_keys(data: Any, what: str, required: set[str], optional: set[str] = frozenset()) -> dict:
    if not isinstance(data, dict):
        raise ValidationError(f"{what} must be a JSON object, not {type(data).__name__}")
    unknown = sorted(set(data) - required - optional)
    if unknown:
        raise ValidationError(f"{what}: unknown key {unknown[0]!r}")
    missing = sorted(required - set(data))
    if missing:
        raise ValidationError(f"{what}: missing key {missing[0]!r}")
    return data


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise ValidationError(f"{what} is not valid base64") from exc


def b64(data: bytes) -> str:
    """Standard base64 text of `data`."""
    return base64.b64encode(data).decode("ascii")


def _text(value: Any, what: str, pattern: re.Pattern | None = None) -> str:
    if not isinstance(value, str) or (pattern is not None and not pattern.match(value)):
        raise ValidationError(f"{what} is malformed: {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Face:
    """The twin card's sealed face record: serial, 4 basic items, expiry, the authority's seal."""

    name: str
    address: str
    birth_date: str  # YYYYMMDD
    sex: str  # ISO 5218 digit
    expires_at: int
    seal: str  # base64

    @classmethod
    def from_json(cls, data: Any) -> Face:
        """Validate and build from a JSON object."""
        d = _check_keys(data, "card.face", {f for f in cls.__slots__})
        for key in ("name", "address", "birth_date", "sex"):
            _text(d[key], f"card.face.{key}")
        if not isinstance(d["expires_at"], int) or isinstance(d["expires_at"], bool):
            raise ValidationError("card.face.expires_at must be an integer (POSIX seconds)")
        _b64(d["seal"], "card.face.seal")
        return cls(**d)


@dataclass(frozen=True, slots=True)
class Card:
    """What the reader learnt of the card: serial and face (twin cards) or certificate serial (real ones)."""

    card_serial: int | None = None
    certificate_serial: str | None = None  # lower-case hex
    face: Face | None = None

    @classmethod
    def from_json(cls, data: Any) -> Card:
        """Validate and build from a JSON object."""
        d = _check_keys(data, "card", set(), {"card_serial", "certificate_serial", "face"})
        serial = d.get("card_serial")
        if serial is not None and (not isinstance(serial, int) or isinstance(serial, bool) or serial < 0):
            raise ValidationError(f"card.card_serial must be a non-negative integer, not {serial!r}")
        cert = d.get("certificate_serial")
        if cert is not None:
            _text(cert, "card.certificate_serial", _HEX)
        if serial is None and cert is None:
            raise ValidationError("card needs card_serial or certificate_serial")
        face = Face.from_json(d["face"]) if d.get("face") is not None else None
        return cls(serial, cert, face)


@dataclass(frozen=True, slots=True)
class Auth:
    """Kiosk authentication: the user certificate and its key's signature over the tap's challenge."""

    certificate: str  # base64 DER
    nonce: str  # hex, 16 random bytes from the reader
    signature: str  # base64, over DigestInfo(SHA-256(challenge)) — see docs/readers.md
    hash: str = "sha256"

    @classmethod
    def from_json(cls, data: Any) -> Auth:
        """Validate and build from a JSON object."""
        d = _check_keys(data, "auth", {"certificate", "nonce", "signature"}, {"hash"})
        _b64(d["certificate"], "auth.certificate")
        _b64(d["signature"], "auth.signature")
        _text(d["nonce"], "auth.nonce", re.compile(r"^[0-9a-f]{32}$"))
        if d.get("hash", "sha256") != "sha256":
            raise ValidationError(f"auth.hash must be 'sha256', not {d['hash']!r}")
        return cls(d["certificate"], d["nonce"], d["signature"])


@dataclass(frozen=True, slots=True)
class Tap:
    """One card presented at one reader: the unit the endpoint records exactly once."""

    tap_id: str  # 32 lower-case hex characters, chosen by the reader
    device_id: str
    site_id: str
    kind: str  # checkin | checkout (shelter), kiosk_auth (kiosk), childwatch (school, cram school)
    at: float  # POSIX seconds when the card was read
    card: Card
    auth: Auth | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON object sent on the wire (None fields dropped)."""
        return _drop_none(asdict(self))

    @classmethod
    def from_json(cls, data: Any) -> Tap:
        """Validate and build from a JSON object; errors name the offending key."""
        d = _check_keys(data, "tap", {"tap_id", "device_id", "site_id", "kind", "at", "card"}, {"auth"})
        _text(d["tap_id"], "tap_id", _TAP_ID)
        _text(d["device_id"], "device_id", _ID)
        _text(d["site_id"], "site_id", _ID)
        if d["kind"] not in KINDS:
            raise ValidationError(f"kind must be one of {', '.join(KINDS)}, not {d['kind']!r}")
        at = d["at"]
        if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at) or at < 0:
            raise ValidationError(f"at must be POSIX seconds, not {at!r}")
        auth = Auth.from_json(d["auth"]) if d.get("auth") is not None else None
        if (d["kind"] == "kiosk_auth") != (auth is not None):
            raise ValidationError("auth is required for kiosk_auth taps and only for them")
        return cls(d["tap_id"], d["device_id"], d["site_id"], d["kind"], float(at), Card.from_json(d["card"]), auth)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value


def challenge(tap_id: str, device_id: str, site_id: str, at: float, nonce: str) -> bytes:
    """The bytes a kiosk tap's card signs: they bind the device, site, tap id, time and nonce."""
    return b"|".join([CHALLENGE_DOMAIN, device_id.encode(), site_id.encode(), tap_id.encode(),
                      f"{at:.3f}".encode(), nonce.encode()])


def challenge_of(tap: Tap) -> bytes:
    """The challenge a kiosk tap's signature must cover."""
    if tap.auth is None:
        raise ValidationError(f"tap {tap.tap_id} carries no authentication")
    return challenge(tap.tap_id, tap.device_id, tap.site_id, tap.at, tap.auth.nonce)


@dataclass(frozen=True, slots=True)
class TapResult:
    """The endpoint's answer for one tap."""

    tap_id: str
    status: str  # recorded | duplicate | rejected
    error: str | None = None
    detail: str | None = None
    result: dict[str, Any] | None = None  # e.g. {"resident_id": …} when recorded

    @classmethod
    def from_json(cls, data: Any) -> TapResult:
        """Validate and build from a JSON object."""
        d = _check_keys(data, "result", {"tap_id", "status"}, {"error", "detail", "result"})
        if d["status"] not in STATUSES:
            raise ValidationError(f"status must be one of {', '.join(STATUSES)}, not {d['status']!r}")
        return cls(d["tap_id"], d["status"], d.get("error"), d.get("detail"), d.get("result"))

    def to_json(self) -> dict[str, Any]:
        """The JSON object sent on the wire (None fields dropped; `result` kept as the endpoint gave it)."""
        return {k: v for k, v in asdict(self).items() if v is not None}
