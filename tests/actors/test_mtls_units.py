"""The mutual TLS front and the edge's device binding without Ray: real TLS clients, an echo upstream."""

from __future__ import annotations

import asyncio
import json
import ssl
import threading

import httpx
import pytest

from actors import device_pki
from actors.edge import Edge
from actors.tls_front import TlsFront, free_port, new_token, subject_cn
from twin.errors import TwinError

DEVICES = ("shelter-1-1", "shelter-1-2")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """Two drill PKIs from `actors.device_pki.issue` (what `run.py devices issue` writes): ours and another."""
    root = tmp_path_factory.mktemp("pki")
    device_pki.issue(root / "ours", DEVICES)
    device_pki.issue(root / "other", DEVICES)
    return root


class _Echo:
    """An upstream that answers with the method, target, headers and body it received."""

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            m = await receive()
            body += m.get("body", b"")
            if not m.get("more_body"):
                break
        out = json.dumps({"method": scope["method"], "path": scope["path"],
                          "query": scope["query_string"].decode(), "body": body.decode(),
                          "headers": {k.decode(): v.decode() for k, v in scope["headers"]}}).encode()
        await send({"type": "http.response.start", "status": 207,
                    "headers": [(b"content-type", b"application/json"), (b"x-upstream", b"echo")]})
        await send({"type": "http.response.body", "body": out})


@pytest.fixture(scope="module")
def front(pki):
    """The front on a free port before an echo upstream (plain HTTP on loopback, as Serve is)."""
    import uvicorn

    up_port = free_port()
    upstream = uvicorn.Server(uvicorn.Config(_Echo(), host="127.0.0.1", port=up_port, lifespan="off",
                                             log_config=None, log_level="warning"))
    thread = threading.Thread(target=upstream.run, daemon=True)
    thread.start()
    ours = pki / "ours"
    tls = {"ssl_certfile": str(ours / "server.pem"), "ssl_keyfile": str(ours / "server.key"),
           "ssl_ca_certs": str(ours / "ca.pem")}
    token = new_token()
    f = TlsFront("127.0.0.1", free_port(), f"http://127.0.0.1:{up_port}", tls, token).start()
    yield f"https://127.0.0.1:{f.server.config.port}", token
    f.stop()
    upstream.should_exit = True
    thread.join(10)
    assert not f.thread.is_alive()


def _client(pki, folder: str | None, device: str | None = None) -> httpx.Client:
    ctx = ssl.create_default_context(cafile=str(pki / "ours" / "ca.pem"))
    if folder:
        ctx.load_cert_chain(str(pki / folder / f"{device}.pem"), str(pki / folder / f"{device}.key"))
    return httpx.Client(verify=ctx, timeout=10)


def test_the_front_forwards_the_request_and_names_the_verified_certificate_in_headers_it_alone_sets(front, pki):
    url, token = front
    with _client(pki, "ours", "shelter-1-1") as c:
        r = c.post(f"{url}/v1/readers/taps?x=1", content=b'{"a": 1}',
                   headers={"X-Device-Id": "shelter-1-2", "X-Myna-Client-Subject": "shelter-1-2",
                            "X-Myna-Front": "guess", "X-Myna-Client-Address": "10.9.9.9"})
    assert r.status_code == 207 and r.headers["x-upstream"] == "echo"
    got = r.json()
    assert (got["method"], got["path"], got["query"], got["body"]) == ("POST", "/v1/readers/taps", "x=1", '{"a": 1}')
    h = got["headers"]
    assert h["x-device-id"] == "shelter-1-2"  # the client's own headers pass
    assert h["x-myna-client-subject"] == "shelter-1-1"  # the certificate's CN, not the forged header
    assert h["x-myna-front"] == token and h["x-myna-client-address"] == "127.0.0.1"
    assert list(h).count("x-myna-client-subject") == 1


def test_the_front_refuses_the_handshake_without_a_client_certificate_or_with_one_from_another_ca(front, pki):
    url, _ = front
    for folder in (None, "other"):
        with _client(pki, folder, "shelter-1-1") as c, pytest.raises((httpx.ConnectError, httpx.ReadError,
                                                                       httpx.RemoteProtocolError)):
            c.get(f"{url}/healthz")
    with httpx.Client(timeout=10) as c, pytest.raises(httpx.HTTPError):
        c.get(url.replace("https", "http") + "/healthz")  # clear text gets no answer either


def test_the_front_answers_503_naming_the_cause_when_serve_behind_it_is_gone(pki):
    ours = pki / "ours"
    tls = {"ssl_certfile": str(ours / "server.pem"), "ssl_keyfile": str(ours / "server.key"),
           "ssl_ca_certs": str(ours / "ca.pem")}
    f = TlsFront("127.0.0.1", free_port(), f"http://127.0.0.1:{free_port()}", tls, new_token()).start()
    try:
        with _client(pki, "ours", "shelter-1-1") as c:
            r = c.get(f"https://127.0.0.1:{f.server.config.port}/healthz")
        assert r.status_code == 503 and r.json()["error"] == "unavailable" and r.headers["retry-after"] == "1"
    finally:
        f.stop()


def test_a_front_on_a_taken_port_fails_to_start_with_a_sentence_naming_the_port(front, pki):
    from actors.startup import StartFailed

    url, _ = front
    port = int(url.rsplit(":", 1)[1])
    ours = pki / "ours"
    tls = {"ssl_certfile": str(ours / "server.pem"), "ssl_keyfile": str(ours / "server.key"),
           "ssl_ca_certs": str(ours / "ca.pem")}
    with pytest.raises(StartFailed, match=f"127.0.0.1:{port} did not start"):
        TlsFront("127.0.0.1", port, "http://127.0.0.1:1", tls, new_token()).start(timeout=10)


def test_the_subject_common_name_is_read_from_a_peer_certificate():
    cert = {"subject": ((("organizationName", "myna-twin drill"),), (("commonName", "kiosk-3"),))}
    assert subject_cn(cert) == "kiosk-3" and subject_cn(None) == "" and subject_cn({"subject": ()}) == ""


class _Creds:
    def device(self, auth, device_id, roles):
        if auth != f"Bearer t-{device_id}":
            raise TwinError("wrong token")
        return type("D", (), {"device_id": device_id})()


def _ask(edge: Edge, headers: dict[str, str], method: str = "GET") -> tuple[int, dict]:
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(m):
        sent.append(m)

    scope = {"type": "http", "method": method, "path": "/v1/readers/taps", "client": ("127.0.0.1", 5),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    asyncio.run(edge(scope, receive, send))
    body = next((m["body"] for m in sent if m["type"] == "http.response.body"), b"")
    return sent[0]["status"], json.loads(body) if body else {}


async def _ok(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def test_behind_the_front_a_device_token_counts_only_with_the_device_s_own_certificate():
    edge = Edge(_ok, credentials=_Creds, front_token=lambda: "tok")
    a = {"Authorization": "Bearer t-shelter-1-1", "X-Device-Id": "shelter-1-1"}
    assert _ask(edge, {**a, "X-Myna-Front": "tok", "X-Myna-Client-Subject": "shelter-1-1"}, "POST")[0] == 200
    status, body = _ask(edge, {**a, "X-Myna-Front": "tok", "X-Myna-Client-Subject": "shelter-1-2"}, "POST")
    assert status == 403 and body["error"] == "device_certificate_mismatch" and "shelter-1-2" in body["detail"]
    status, body = _ask(edge, {**a, "X-Myna-Front": "nope", "X-Myna-Client-Subject": "shelter-1-1"})
    assert status == 403 and body["error"] == "device_certificate_missing"  # a forged front header counts for nothing
    assert _ask(edge, a)[1]["error"] == "device_certificate_missing"  # straight to Serve, around the front
    assert _ask(edge, {"X-Myna-Front": "tok", "X-Myna-Client-Subject": "x"})[0] == 200  # no credential: the route's


def test_without_the_front_the_edge_ignores_certificate_headers():
    edge = Edge(_ok, credentials=_Creds, front_token=lambda: "")
    a = {"Authorization": "Bearer t-shelter-1-1", "X-Device-Id": "shelter-1-1"}
    assert _ask(edge, {**a, "X-Myna-Client-Subject": "shelter-1-2"}, "POST")[0] == 200


def test_the_printed_serve_config_says_serve_alone_does_not_require_client_certificates():
    from actors.deploy import config_yaml

    cfg = {"http_options": {"host": "0.0.0.0", "port": 8443, "ssl_ca_certs": "/pki/ca.pem"}, "applications": []}
    head = config_yaml(cfg).split("{", 1)[0]
    assert "does not require client certificates" in head and "TLS proxy" in head
    assert "client certificates" not in config_yaml({**cfg, "http_options": {"port": 8000}}).split("{", 1)[0]
