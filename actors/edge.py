"""The service's edge: what every request meets before the app parses it.

In order: a body declared larger than its limit is refused (413) before a byte of it is read;
a request with a body must carry a credential the service knows (device, agency or resident
session; 401) before the body is read, except the two login endpoints; the caller's rate is
limited (429 with Retry-After) per device, agency or resident, and per client address for
callers without a credential; then the body is read, and refused (413) as soon as it passes
its limit (a body sent in chunks declares no length). Only then does the app parse it.

Behind the mutual TLS front (`actors/tls_front.py`, `run.py serve --client-ca`), a device's
credential counts only with the device's own certificate: a device token on a connection whose
verified certificate names another device (or none: a request that bypassed the front) is
refused (403) before anything else; the front's headers are believed only with its per-start token.

The limits hold per ingress replica (each keeps its own counts).
"""

from __future__ import annotations

import hmac
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from actors.auth import ROLES
from actors.tls_front import ADDRESS_HEADER, FRONT_HEADER, SUBJECT_HEADER
from devices import contract
from twin.errors import TwinError

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
MiB = 1 << 20
PUBLIC_POSTS = frozenset({"/v1/residents/sessions"})  # a login carries the card's answer, not a credential


@dataclass(frozen=True)
class Limits:
    """Body sizes (bytes) and request rates (per second, with a burst) the edge enforces."""

    body: int = 1 * MiB
    batch_body: int = 4 * MiB  # a batch of 500 kiosk taps with their certificates is about 1.1 MiB
    address_rate: float = 50.0  # callers without a credential (challenges, logins, refused credentials)
    address_burst: float = 100.0
    caller_rate: float = 2_000.0  # one device, agency or resident session
    caller_burst: float = 4_000.0
    max_keys: int = 100_000  # callers tracked at once (the least recently seen are forgotten)


class Buckets:
    """Token buckets by key: `rate` tokens a second up to `burst`; the least recently used keys beyond `max_keys` dropped."""

    def __init__(self, rate: float, burst: float, max_keys: int) -> None:
        self.rate, self.burst, self.max_keys = float(rate), float(burst), int(max_keys)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def take(self, key: str, now: float) -> float:
        """Take a token for `key`: 0.0 if there was one, else the seconds until there is."""
        tokens, at = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens - 1.0 if wait == 0.0 else tokens, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


class Edge:
    """ASGI middleware: size limits, authentication before the body, rate limits (see the module's docstring)."""

    def __init__(self, app: Callable, limits: Limits | None = None,
                 credentials: Callable[[], Any] | None = None, clock: Callable[[], float] = time.monotonic,
                 front_token: Callable[[], str] | None = None) -> None:
        self.app, self.limits = app, limits or Limits()
        self.credentials = credentials or _replica_credentials
        self.front_token = front_token or _replica_front_token
        self.clock = clock
        lim = self.limits
        self.by_address = Buckets(lim.address_rate, lim.address_burst, lim.max_keys)
        self.by_caller = Buckets(lim.caller_rate, lim.caller_burst, lim.max_keys)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        path = scope.get("path", "")
        limit = self.limits.batch_body if path == contract.BATCH_PATH else self.limits.body
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send, 413, "too_large", f"the body is larger than {limit:,} bytes; send less "
                          "(a batch holds at most 500 taps)", [(b"connection", b"close")])
            return
        has_body = scope.get("method") in ("POST", "PUT", "PATCH")
        caller = self._caller(headers)
        mtls, subject, address = self._front(headers)
        address = address or _address(scope)
        if mtls and caller is not None and caller.startswith("device:") and caller[7:] != subject:
            await _refuse(send, 403, *_unbound(caller[7:], subject))
            return
        if has_body and caller is None and path not in PUBLIC_POSTS:
            if not await self._admit(send, f"addr:{address}"):
                return
            await _refuse(send, 401, "unauthorized", "missing or unknown credentials: send Authorization: Bearer "
                          "<token> with X-Device-Id (devices) or X-Agency-Id (agencies), or a resident session")
            return
        if not await self._admit(send, caller or f"addr:{address}"):
            return
        if has_body:
            body = await _read(receive, limit)
            if body is None:
                await _refuse(send, 413, "too_large", f"the body is larger than {limit:,} bytes; send less",
                              [(b"connection", b"close")])
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    async def _admit(self, send: Send, key: str) -> bool:
        """Whether `key` may make a request now; if not, a 429 is sent."""
        buckets = self.by_address if key.startswith("addr:") else self.by_caller
        wait = buckets.take(key, self.clock())
        if wait > 0.0:
            await _refuse(send, 429, "rate_limited", f"too many requests; retry in {wait:.2f} s",
                          [(b"retry-after", str(max(1, math.ceil(wait))).encode())])
        return wait == 0.0

    def _caller(self, headers: dict[str, str]) -> str | None:
        """The caller a valid credential names ('device:...', 'agency:...', 'resident:...'), or None."""
        if "authorization" not in headers:
            return None
        creds = self.credentials()
        if creds is None:
            return None
        auth = headers["authorization"]
        try:
            if "x-device-id" in headers:
                return "device:" + creds.device(auth, headers["x-device-id"], ROLES).device_id
            if "x-agency-id" in headers:
                return "agency:" + creds.agency(auth, headers["x-agency-id"])
            me = creds.resident(auth, 0.0)  # the signature only; expiry and revocation are the route's
            return f"resident:{me.get('resident_id')}:{me.get('card_serial')}"
        except TwinError:
            return None


    def _front(self, headers: dict[str, str]) -> tuple[bool, str | None, str | None]:
        """(mutual TLS on, the verified certificate's subject CN, the client's address); the last two only
        from a request that carries the front's per-start token."""
        token = self.front_token()
        if not token:
            return False, None, None
        sent = headers.get(FRONT_HEADER.decode(), "")
        if not hmac.compare_digest(sent.encode("latin-1"), token.encode()):
            return True, None, None
        return True, headers.get(SUBJECT_HEADER.decode()) or None, headers.get(ADDRESS_HEADER.decode()) or None


def _unbound(device_id: str, subject: str | None) -> tuple[str, str]:
    """The refusal of a device credential the connection's certificate does not name: code and sentence."""
    if subject is None:
        return ("device_certificate_missing", f"device {device_id}: mutual TLS is on and this request carries no "
                "verified device certificate (connect to the service's public address with the device's own "
                "certificate)")
    return ("device_certificate_mismatch", f"device {device_id} must present its own certificate; this "
            f"connection's certificate names {subject[:64]!r}")


def _replica_front_token() -> str:
    from actors import context

    return getattr(context._CONTEXT, "front_token", "")  # '' without the front, and while the replica starts


def _replica_credentials() -> Any:
    from actors import context

    return getattr(context._CONTEXT, "credentials", None)  # None while the replica starts


def _address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes `limit` bytes."""
    parts, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the app the body already read, then what the connection says next."""
    sent = False

    async def again() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


async def _refuse(send: Send, status: int, code: str, detail: str,
                  extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = orjson.dumps({"error": code, "detail": detail})
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(extra or [])]})
    await send({"type": "http.response.body", "body": body})
