"""Who may call what: device and agency credentials, and resident sessions from a card login.

- Devices (shelter and school readers, kiosks, counters, the disaster HQ, clinics) send
  `Authorization: Bearer <token>` and `X-Device-Id` (the reader contract's headers); agencies
  send their token with `X-Agency-Id`. Tokens are issued once into the data folder's
  `credentials.json` (owner-only); the service keeps only their SHA-256 digests.
- A resident logs in with the card: the service's challenge signed by the card's user key
  (behind the PIN). The session token is signed (HMAC-SHA256) by the service and carries the
  identity the login established; it expires with the portal's session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twin.errors import Forbidden, TwinError, ValidationError

CREDENTIALS = "credentials.json"
SESSION_SECONDS = 1800.0  # the portal's session (PortalParams.session_seconds)
ROLES = ("shelter", "school", "kiosk", "counter", "hq", "clinic")


class Unauthorized(TwinError):
    """No credential, or one the service does not know."""

    code = "unauthorized"
    status = 401


class RoleForbidden(Forbidden):
    """A known caller asked for something its role may not do."""

    code = "forbidden"


@dataclass(frozen=True, slots=True)
class Device:
    """A registered device: id, role, site, and where it is wired in the twin."""

    device_id: str
    role: str
    site_id: str
    facility_id: int = -1  # shelter, school or kiosk site; -1 for others
    ward: int = -1  # counters
    group: int = -1  # shelter readers: the shelter group
    reader_id: int = -1  # shelter readers: the reader id inside the group


def digest(token: str) -> bytes:
    """The SHA-256 of a token (what the service keeps)."""
    return hashlib.sha256(token.encode()).digest()


class Credentials:
    """The registered devices and agencies, with token digests, and the session signing key."""

    def __init__(self, devices: list[Device], device_tokens: dict[str, bytes], agency_tokens: dict[str, bytes],
                 session_key: bytes) -> None:
        self.devices = {d.device_id: d for d in devices}
        self._device_tokens = device_tokens
        self._agency_tokens = agency_tokens
        self.session_key = session_key

    # -- files ------------------------------------------------------------------------------------
    @classmethod
    def issue(cls, path: Path, devices: list[Device], agencies: list[str]) -> Credentials:
        """Issue new tokens for every device and agency into `path` (owner-only), or load the file if it exists."""
        if path.exists():
            return cls.load(path)
        data = {"session_key": secrets.token_hex(32),
                "devices": [{**_fields(d), "token": secrets.token_urlsafe(24)} for d in devices],
                "agencies": [{"agency": a, "token": secrets.token_urlsafe(24)} for a in agencies]}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
        return cls.from_data(data)

    @classmethod
    def load(cls, path: Path) -> Credentials:
        """The credentials in a file written by `issue`."""
        return cls.from_data(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Credentials:
        """From the file's data (tokens are digested at once)."""
        devices, tokens = [], {}
        for d in data["devices"]:
            fields = {k: d[k] for k in Device.__slots__}
            devices.append(Device(**fields))
            tokens[d["device_id"]] = digest(d["token"])
        agencies = {a["agency"]: digest(a["token"]) for a in data["agencies"]}
        return cls(devices, tokens, agencies, bytes.fromhex(data["session_key"]))

    def public(self) -> dict[str, Any]:
        """What a replica needs: devices, token digests, the session key (no plain tokens)."""
        return {"devices": [_fields(d) for d in self.devices.values()],
                "device_tokens": {k: v.hex() for k, v in self._device_tokens.items()},
                "agency_tokens": {k: v.hex() for k, v in self._agency_tokens.items()},
                "session_key": self.session_key.hex()}

    @classmethod
    def from_public(cls, data: dict[str, Any]) -> Credentials:
        """Rebuild from `public()`."""
        return cls([Device(**d) for d in data["devices"]],
                   {k: bytes.fromhex(v) for k, v in data["device_tokens"].items()},
                   {k: bytes.fromhex(v) for k, v in data["agency_tokens"].items()},
                   bytes.fromhex(data["session_key"]))

    # -- checks -----------------------------------------------------------------------------------
    def device(self, authorization: str | None, device_id: str | None, roles: tuple[str, ...]) -> Device:
        """The calling device if its token is right and its role is one of `roles`."""
        token = _bearer(authorization)
        known = self._device_tokens.get(device_id or "")
        if known is None or not hmac.compare_digest(known, digest(token)):
            raise Unauthorized("unknown device or wrong token (send Authorization: Bearer <token> and X-Device-Id)")
        dev = self.devices[device_id]
        if dev.role not in roles:
            raise RoleForbidden(f"device {device_id} is a {dev.role} device; this needs a {' or '.join(roles)} device")
        return dev

    def agency(self, authorization: str | None, agency: str | None) -> str:
        """The calling agency if its token is right."""
        token = _bearer(authorization)
        known = self._agency_tokens.get(agency or "")
        if known is None or not hmac.compare_digest(known, digest(token)):
            raise Unauthorized("unknown agency or wrong token (send Authorization: Bearer <token> and X-Agency-Id)")
        return str(agency)

    # -- resident sessions ----------------------------------------------------------------------------
    def session_token(self, identity: dict[str, Any], ttl: float = SESSION_SECONDS) -> tuple[str, float]:
        """A signed session token for an identity a card login established, and when it expires."""
        payload = {**identity, "sid": secrets.token_hex(8), "exp": float(identity["at"]) + ttl}
        body = _b64(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode())
        return f"{body}.{_b64(self._sign(body))}", payload["exp"]

    def resident(self, authorization: str | None, now: float) -> dict[str, Any]:
        """The identity in a valid, unexpired session token (with its session id `sid` and expiry `exp`; whether
        it was ended by a logout or a loss report is the trust actor's to say: `TrustHost.session_check`)."""
        token = _bearer(authorization)
        body, _, sig = token.partition(".")
        try:
            good = hmac.compare_digest(base64.urlsafe_b64decode(_pad(sig)), self._sign(body))
            payload = json.loads(base64.urlsafe_b64decode(_pad(body))) if good else None
        except (ValueError, TypeError):
            payload = None
        if not payload:
            raise Unauthorized("not a session token this service signed; log in with the card again")
        if now >= float(payload["exp"]):
            raise Unauthorized("the session has expired; log in with the card again")
        return payload

    def _sign(self, body: str) -> bytes:
        return hmac.digest(self.session_key, body.encode(), hashlib.sha256)


def _fields(d: Device) -> dict[str, Any]:
    return {k: getattr(d, k) for k in Device.__slots__}


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing credentials: send Authorization: Bearer <token>")
    return token.strip()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _pad(text: str) -> str:
    if not isinstance(text, str):
        raise ValidationError("token parts must be text")
    return text + "=" * (-len(text) % 4)
