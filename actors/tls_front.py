"""The mutual TLS front of `run.py serve --client-ca`: client certificates required, the device named.

Ray Serve 2.60 hands uvicorn a CA bundle but no `ssl_cert_reqs`, so by itself it neither
requires a client certificate nor shows one to the app. With `--client-ca`, `run.py serve`
binds Serve to 127.0.0.1 on a free port and puts this front on the public host:port: uvicorn
with `ssl.CERT_REQUIRED` (a client without a certificate from the CA fails the handshake),
in a thread of the `run.py serve` process. Each request goes on to Serve through one
keep-alive httpx client with three headers the front sets and the edge trusts only together
(`actors/edge.py`): the front's per-start token, the subject's common name of the verified
certificate (the device id, `run.py devices issue`), and the client's address. Any of them
sent by a client is dropped first.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from actors.startup import StartFailed

FRONT_HEADER = b"x-myna-front"  # the per-start token: the request came through this front
SUBJECT_HEADER = b"x-myna-client-subject"  # the verified client certificate's subject CN
ADDRESS_HEADER = b"x-myna-client-address"  # the client's address as the front saw it
TRUSTED = frozenset({FRONT_HEADER, SUBJECT_HEADER, ADDRESS_HEADER})
HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"te",
                        b"trailer", b"upgrade", b"host", b"proxy-authorization", b"proxy-authenticate"})

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def new_token() -> str:
    """A fresh per-start token shared by the front and the ingress (never written to disk)."""
    return secrets.token_urlsafe(32)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def subject_cn(peercert: dict[str, Any] | None) -> str:
    """The common name in the subject of a certificate as `SSLSocket.getpeercert()` gives it ('' if none)."""
    for rdn in (peercert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return ""


def _peer_protocol() -> type:
    """uvicorn's httptools protocol, which puts the verified client certificate's CN in each request's scope."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class PeerCertProtocol(HttpToolsProtocol):
        """One TLS connection: its app sees `scope['client_subject']`."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            subject, inner = subject_cn(transport.get_extra_info("peercert")), self.app

            async def app(scope: Scope, receive: Receive, send: Send) -> None:
                scope["client_subject"] = subject
                await inner(scope, receive, send)

            self.app = app

    return PeerCertProtocol


class Forwarder:
    """The front's ASGI app: each request to `upstream` with the trusted headers set, the answer back."""

    def __init__(self, upstream: str, token: str, timeout: float = 60.0) -> None:
        self.upstream, self.token, self.timeout = upstream, token.encode(), timeout
        self.client: Any = None  # an httpx.AsyncClient, made on the front's own event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no websockets or lifespan behind the front
        import httpx

        body = await _body(receive)
        client = scope.get("client")
        headers = [(k, v) for k, v in scope["headers"] if k not in TRUSTED and k not in HOP_BY_HOP]
        headers += [(FRONT_HEADER, self.token), (SUBJECT_HEADER, scope.get("client_subject", "").encode()),
                    (ADDRESS_HEADER, str(client[0] if client else "").encode())]
        target = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        request = self.client.build_request(scope["method"], target.decode("latin-1"), headers=headers,
                                            content=body)
        try:
            response = await self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            await _unavailable(send, type(exc).__name__)
            return
        try:
            await send({"type": "http.response.start", "status": response.status_code,
                        "headers": [(k, v) for k, v in response.headers.raw if k.lower() not in HOP_BY_HOP]})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()


async def _body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


async def _unavailable(send: Send, why: str) -> None:
    body = (b'{"error":"unavailable","detail":"the service behind the TLS front did not answer (' + why.encode()
            + b'); retry with the same key"}')
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"retry-after", b"1"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class TlsFront:
    """The front on host:port (certificate, key, client CA), forwarding to Serve at `upstream`, in a thread."""

    def __init__(self, host: str, port: int, upstream: str, tls: dict[str, str], token: str) -> None:
        import uvicorn

        self.forwarder = Forwarder(upstream, token)
        config = uvicorn.Config(self.forwarder, host=host, port=int(port), http=_peer_protocol(), lifespan="off",
                                ssl_certfile=tls["ssl_certfile"], ssl_keyfile=tls["ssl_keyfile"],
                                ssl_ca_certs=tls["ssl_ca_certs"], ssl_cert_reqs=ssl.CERT_REQUIRED,
                                proxy_headers=False, server_header=False, date_header=False,
                                log_config=None, access_log=False, log_level="warning", timeout_keep_alive=30)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="tls-front", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        import httpx

        async def main() -> None:
            limits = httpx.Limits(max_connections=512, max_keepalive_connections=128)
            async with httpx.AsyncClient(base_url=self.forwarder.upstream, timeout=self.forwarder.timeout,
                                         limits=limits) as client:
                self.forwarder.client = client
                await self.server.serve()

        try:
            asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001 — reported by start()
            self.error = exc

    def start(self, timeout: float = 30.0) -> TlsFront:
        """Start the thread; return once the front listens, or StartFailed saying why not."""
        self.thread.start()
        end = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > end:
                why = repr(self.error) if self.error else "it did not start listening in time"
                if not self.thread.is_alive() and self.error is None:
                    why = "it stopped at once (is the port in use, or a certificate file unreadable?)"
                self.stop()
                raise StartFailed(f"the mutual TLS front on {self.server.config.host}:{self.server.config.port} "
                                  f"did not start: {why}")
            time.sleep(0.05)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, finish the requests in flight, end the thread."""
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout)
