"""`run.py serve --client-ca` as a drill runs it: device certificates from `run.py devices issue`, real TLS clients.

One service start for the module (about a minute): the checks share it, and the last one stops it.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from tests.actors.live_helpers import free_port, wait_until
from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.slow


def _city():
    from twin.population import build_city

    return build_city("kumamoto", seed=1, scale=0.01)


def _readers() -> list[str]:
    """The first reader of each of three shelters of Kumamoto at 1 % (the service names them shelter-F-1)."""
    import polars as pl

    f = _city().facilities.filter(pl.col("kind") == "shelter")
    return [f"shelter-{fid}-1" for fid in f["facility_id"].to_list()[:3]]


def _serial() -> int:
    import polars as pl

    return int(_city().residents.filter(pl.col("has_card"))["card_serial"][0])


@pytest.fixture(scope="module")
def mtls(tmp_path_factory):
    """The service with mutual TLS on a free port; yields (url, pki folder, credentials, serve process)."""
    tmp = tmp_path_factory.mktemp("mtls")
    pki, other = tmp / "pki", tmp / "other"
    devices = [a for d in _readers() for a in ("--device", d)]
    for folder in (pki, other):
        r = run_cli("devices", "issue", "--out", str(folder), *devices)
        assert r.returncode == 0, r.stderr
    ready, port = tmp / "ready.json", free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "serve", "--port", str(port), "--scale", "0.01",
                             "--data", str(tmp / "data"), "--num-cpus", "2", "--shelter-groups", "1",
                             "--resident-shards", "1", "--ready-file", str(ready),
                             "--tls-cert", str(pki / "server.pem"), "--tls-key", str(pki / "server.key"),
                             "--client-ca", str(pki / "ca.pem")],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        wait_until(lambda: ready.exists() or proc.poll() is not None, timeout=400, step=1.0)
        assert proc.poll() is None, proc.stdout.read()
        info = json.loads(ready.read_text())
        creds = json.loads((tmp / "data" / "credentials.json").read_text())
        yield info["url"], pki, other, {d["device_id"]: d for d in creds["devices"]}, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def _client(pki, device: str | None, ca_folder=None) -> httpx.Client:
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    if device:
        folder = ca_folder or pki
        ctx.load_cert_chain(str(folder / f"{device}.pem"), str(folder / f"{device}.key"))
    return httpx.Client(verify=ctx, timeout=60)


def _tap(dev: dict, serial: int | None = None) -> dict:
    return {"tap_id": uuid.uuid4().hex, "device_id": dev["device_id"], "site_id": dev["site_id"], "kind": "checkin",
            "at": round(time.time(), 3), "card": {"card_serial": serial or _serial()}}


def _headers(dev: dict) -> dict:
    return {"Authorization": f"Bearer {dev['token']}", "X-Device-Id": dev["device_id"]}


def test_a_reader_with_its_own_certificate_and_token_is_answered(mtls):
    url, pki, _, devices, _ = mtls
    a = devices[_readers()[0]]
    with _client(pki, a["device_id"]) as c:
        assert c.get(f"{url}/healthz").status_code == 200
        r = c.post(f"{url}/v1/readers/taps", json=_tap(a), headers=_headers(a))
    assert r.status_code in (200, 201), r.text


def test_a_client_without_a_certificate_or_with_one_from_another_ca_fails_the_handshake(mtls):
    url, pki, other, _, _ = mtls
    device = _readers()[0]
    for client in (_client(pki, None), _client(pki, device, ca_folder=other)):
        with client, pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            client.get(f"{url}/healthz")


def test_reader_a_s_certificate_with_reader_b_s_token_is_refused_even_with_a_forged_subject_header(mtls):
    url, pki, _, devices, _ = mtls
    a, b = (devices[d] for d in _readers()[:2])
    forged = {**_headers(b), "X-Myna-Client-Subject": b["device_id"], "X-Myna-Front": "guess"}
    with _client(pki, a["device_id"]) as c:
        for headers in (_headers(b), forged):
            r = c.post(f"{url}/v1/readers/taps", json=_tap(b), headers=headers)
            assert r.status_code == 403, r.text
            assert r.json()["error"] == "device_certificate_mismatch"
            assert a["device_id"] in r.json()["detail"]


def test_the_reader_command_sends_its_queued_tap_with_its_certificate_and_keeps_it_queued_without(mtls, tmp_path):
    from devices.contract import Card, Tap
    from devices.tap_queue import TapQueue

    url, pki, _, devices, _ = mtls
    a = devices[_readers()[2]]
    queue = TapQueue(tmp_path / "q.sqlite")
    queue.add(Tap(uuid.uuid4().hex, a["device_id"], a["site_id"], "checkin", round(time.time(), 3),
                  Card(card_serial=_serial())))
    queue.close()
    (tmp_path / "token").write_text(a["token"])
    args = ["reader", "--role", "shelter", "--site", a["site_id"], "--endpoint", url, "--device-id", a["device_id"],
            "--token-file", str(tmp_path / "token"), "--queue", str(tmp_path / "q.sqlite"), "--sync-only",
            "--format", "json", "--ca-file", str(pki / "ca.pem")]
    without = run_cli(*args, timeout=120)
    assert without.returncode == 1, without.stderr  # the handshake fails: the tap stays queued
    assert json.loads(without.stdout.splitlines()[-1])["summary"]["pending"] == 1
    cert = ["--cert", str(pki / f"{a['device_id']}.pem"), "--key", str(pki / f"{a['device_id']}.key")]
    sent = run_cli(*args, *cert, timeout=120)
    assert sent.returncode == 0, sent.stderr + sent.stdout
    assert json.loads(sent.stdout.splitlines()[-1])["summary"]["synced"] == 1


def test_the_service_stops_cleanly_on_sigint_and_frees_the_public_port(mtls):
    url, _, _, _, proc = mtls
    proc.send_signal(signal.SIGINT)
    proc.wait(240)
    out = proc.stdout.read()
    assert proc.returncode == 0, out
    assert "mutual TLS: client certificates from" in out and "stopped" in out
    assert not [line for line in out.splitlines() if "error" in line.lower()], out
    import socket

    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as s:
        s.settimeout(1)
        assert s.connect_ex(("127.0.0.1", port)) != 0
