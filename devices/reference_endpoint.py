"""A small stdlib HTTP server implementing the reader contract's semantics (for tests and trials).

Not the live service (that is Ray Serve, owned elsewhere): it keeps taps in memory, but it
enforces what the live endpoints must: device credentials, a device may post only its own
site's taps of its role's kinds, validation with 4xx JSON errors, idempotency by tap id (a
repeat gets the first answer; the same id with another body is 409), and for kiosk taps a
signature over the tap's challenge; a `judge` adds the trust checks (chain, revocation, holder).
"""

from __future__ import annotations

import base64
import hmac
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509

from devices.contract import (
    AUTH_HEADER,
    BATCH_PATH,
    DEVICE_HEADER,
    MAX_BATCH,
    ROLE_KINDS,
    TAPS_PATH,
    Tap,
    TapResult,
    challenge_of,
)
from twin.apdu.signing import verify_card_signature
from twin.errors import TwinError, ValidationError

Judge = Callable[[Tap], dict]


@dataclass(frozen=True, slots=True)
class Device:
    """A registered reader: its id, secret token, role and site."""

    device_id: str
    token: str
    role: str
    site_id: str


@dataclass
class Recorded:
    """What the endpoint keeps per tap id: the canonical body and its first answer."""

    body: str
    answer: TapResult
    http_status: int
    posts: int = 1


@dataclass
class ReferenceEndpoint:
    """The contract's semantics over HTTP on 127.0.0.1; `start()` it, `stop()` it."""

    devices: list[Device]
    judge: Judge | None = None  # trust checks (e.g. devices.twin_judge.TwinJudge); its dict is the result
    taps: dict[str, Recorded] = field(default_factory=dict)
    drop_answers: int = 0  # record the next N taps but cut the connection before answering
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve in a background thread; the base URL."""
        handler = type("Handler", (_Handler,), {"endpoint": self})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True, name="reference-endpoint").start()
        return self.url

    @property
    def url(self) -> str:
        """The base URL (http://127.0.0.1:PORT)."""
        if self._server is None:
            raise ValidationError("the reference endpoint is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def recorded(self) -> list[Tap]:
        """Every tap recorded (not rejected), in arrival order."""
        with self._lock:
            return [Tap.from_json(json.loads(r.body)) for r in self.taps.values()
                    if r.answer.status == "recorded"]

    # -- semantics ----------------------------------------------------------------------------
    def device_for(self, headers: Any) -> Device | None:
        """The registered device whose token the request carries."""
        auth, device_id = headers.get(AUTH_HEADER, ""), headers.get(DEVICE_HEADER, "")
        for d in self.devices:
            if d.device_id == device_id and hmac.compare_digest(auth.encode(), f"Bearer {d.token}".encode()):
                return d
        return None

    def accept(self, device: Device, body: Any) -> tuple[int, TapResult]:
        """The HTTP status and answer for one posted tap (idempotent per device by tap id)."""
        tap_id = body.get("tap_id") if isinstance(body, dict) else None
        try:
            tap = Tap.from_json(body)
        except ValidationError as exc:
            return 422, TapResult(str(tap_id), "rejected", exc.code, str(exc))
        refusal = _not_this_device(device, tap)
        if refusal:
            return 403, TapResult(tap.tap_id, "rejected", "forbidden", refusal)
        canonical = json.dumps(tap.to_json(), sort_keys=True, ensure_ascii=False)
        with self._lock:
            seen = self.taps.get(tap.tap_id)
            if seen is not None:
                return self._repeat(seen, canonical)
            status, answer = self._judge(tap)
            self.taps[tap.tap_id] = Recorded(canonical, answer, status)
        return status, answer

    @staticmethod
    def _repeat(seen: Recorded, canonical: str) -> tuple[int, TapResult]:
        seen.posts += 1
        if seen.body != canonical:
            return 409, TapResult(seen.answer.tap_id, "rejected", "conflict",
                                  "this tap id was already used for a different tap")
        a = seen.answer
        if a.status == "recorded":
            return 200, TapResult(a.tap_id, "duplicate", result=a.result)
        return seen.http_status, a

    def _judge(self, tap: Tap) -> tuple[int, TapResult]:
        def no(status: int, error: str, detail: str) -> tuple[int, TapResult]:
            return status, TapResult(tap.tap_id, "rejected", error, detail)

        if tap.auth is not None:
            why = _signature_problem(tap)
            if why:
                return no(403, "forged_data", why)
        if self.judge is None:
            return 201, TapResult(tap.tap_id, "recorded", result={"card_serial": tap.card.card_serial})
        try:
            result = self.judge(tap)
        except TwinError as exc:
            return no(exc.status, exc.code, str(exc))
        return 201, TapResult(tap.tap_id, "recorded", result=result)


def _not_this_device(device: Device, tap: Tap) -> str | None:
    """Why `device` may not post `tap` (another device's or site's tap, or another role's kind)."""
    if tap.device_id != device.device_id or tap.site_id != device.site_id:
        return f"device {device.device_id} posts only its own taps at {device.site_id}"
    if tap.kind not in ROLE_KINDS[device.role]:
        return f"a {device.role} reader cannot post {tap.kind} taps"
    return None


def _signature_problem(tap: Tap) -> str | None:
    """Why a kiosk tap's signature fails under its own certificate's key (chain checks: the judge)."""
    try:
        cert = x509.load_der_x509_certificate(base64.b64decode(tap.auth.certificate))
    except ValueError:
        return "the certificate is not DER X.509"
    if not verify_card_signature(cert.public_key(), base64.b64decode(tap.auth.signature), challenge_of(tap)):
        return "the signature does not verify over this tap's challenge"
    return None


class _Handler(BaseHTTPRequestHandler):
    endpoint: ReferenceEndpoint
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args: Any) -> None:  # keep test output clean
        pass

    def _answer(self, status: int, body: dict) -> None:
        if self.endpoint.drop_answers > 0 and status in (200, 201):
            self.endpoint.drop_answers -= 1
            self.close_connection = True
            self.connection.close()
            return
        raw = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self) -> None:  # noqa: N802 — the stdlib's name
        device = self.endpoint.device_for(self.headers)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if device is None:
            return self._answer(401, {"error": "unauthorized", "detail": "unknown device or wrong token"})
        try:
            body = json.loads(raw)
        except ValueError:
            return self._answer(400, {"error": "invalid_json", "detail": "the body is not JSON"})
        if self.path == TAPS_PATH:
            status, answer = self.endpoint.accept(device, body)
            return self._answer(status, answer.to_json())
        if self.path == BATCH_PATH:
            return self._batch(device, body)
        return self._answer(404, {"error": "not_found", "detail": f"no endpoint {self.path}"})

    def _batch(self, device: Device, body: Any) -> None:
        taps = body.get("taps") if isinstance(body, dict) else None
        if not isinstance(taps, list) or set(body) != {"taps"}:
            return self._answer(422, {"error": "invalid_input", "detail": "expected {\"taps\": [...]}"})
        if len(taps) > MAX_BATCH:
            return self._answer(413, {"error": "too_large", "detail": f"at most {MAX_BATCH} taps a batch"})
        results = [self.endpoint.accept(device, t)[1].to_json() for t in taps]
        return self._answer(200, {"results": results})
