"""`run.py serve` and `run.py load` as a user runs them (subprocesses): help, refusals, a run, a clean stop."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.actors.live_helpers import b64, free_port, wait_until
from tests.card import drill_pki
from tests.conftest import ROOT


def test_serve_help_names_the_options_and_the_clean_stop(cli):
    r = cli("serve", "--help")
    assert r.returncode == 0
    for word in ("--host", "--port", "--city", "--design", "--address", "/openapi.json", "SIGTERM", "127.0.0.1"):
        assert word in r.stdout


def test_serve_refuses_to_turn_ray_token_authentication_off(cli, tmp_path):
    r = cli("serve", "--data", str(tmp_path / "d"), "--scale", "0.01", env={"RAY_AUTH_MODE": "disabled"})
    assert r.returncode == 2 and "keeps Ray's token authentication on" in r.stderr


def test_serve_refuses_a_data_folder_made_for_another_city(cli, tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "service.json").write_text(json.dumps({"city": "sendai", "seed": 1, "scale": 0.01}))
    r = cli("serve", "--data", str(tmp_path / "d"), "--scale", "0.01")
    assert r.returncode == 2 and "was made for city='sendai', not 'kumamoto'" in r.stderr


def test_load_refuses_a_pool_that_is_not_start_stop(cli, tmp_path):
    r = cli("load", "--scenario", "payments", "--rate", "1", "--duration", "1", "--pool", "5", "--data", str(tmp_path))
    assert r.returncode == 2 and "--pool must be START:STOP" in r.stderr


def test_load_refuses_a_target_off_this_machine_unless_allowed(cli, tmp_path):
    r = cli("load", "--target", "http://192.0.2.10:8000", "--scenario", "payments", "--rate", "1", "--duration", "1")
    assert r.returncode == 2 and "--allow-remote" in r.stderr


@pytest.mark.parametrize(("args", "message"), [(["--rate", "0", "--duration", "1"], "rate must be"),
                                                (["--rate", "1", "--duration", "99999"], "duration must be")])
def test_load_refuses_unbounded_runs(cli, tmp_path, args, message):
    r = cli("load", "--scenario", "payments", *args, "--data", str(tmp_path))
    assert r.returncode == 2 and message in r.stderr


def test_load_against_the_live_service_reports_throughput_latency_and_errors_as_json(cli, live):
    r = cli("load", "--target", live.url, "--data", live.spec.data_dir, "--scenario", "payments", "--rate", "20",
            "--duration", "2", "--format", "json", "--pool", "2000:", timeout=600)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["started"] == report["answered"] > 10 and report["statuses"] == {"201": report["started"]}
    assert 0 < report["p50_ms"] <= report["p95_ms"] <= report["p99_ms"]
    assert report["throughput"] > 0 and report["scenario"] == "payments"


@pytest.mark.parametrize("scenario", ["disaster", "certificates"])
def test_load_runs_the_other_scenarios_as_a_table(cli, live, scenario):
    extra = ["--batch", "20"] if scenario == "disaster" else []
    r = cli("load", "--target", live.url, "--data", live.spec.data_dir, "--scenario", scenario, "--rate", "10",
            "--duration", "1.5", "--pool", "2000:", *extra, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "throughput" in r.stdout and "p99" in r.stdout and "no_answer" not in r.stdout
    assert " 2" in r.stdout.split("answers")[1]  # 200/201 answers


@pytest.mark.slow
def test_serve_starts_a_local_https_service_and_sigint_stops_it_ray_included(tmp_path, cli, small_city):
    pki = tmp_path / "pki"
    assert cli("devices", "issue", "--out", str(pki), "--device", "shelter-1-1").returncode == 0
    drill = drill_files(tmp_path, small_city)  # and a drill with real (test) cards: --trust-ca, --drill-cards
    ready, port = tmp_path / "ready.json", free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "serve", "--port", str(port), "--scale", "0.01",
                             "--data", str(tmp_path / "data"), "--num-cpus", "2", "--shelter-groups", "1",
                             "--resident-shards", "1", "--ready-file", str(ready),
                             "--tls-cert", str(pki / "server.pem"), "--tls-key", str(pki / "server.key"),
                             "--trust-ca", str(tmp_path / "drill-ca.pem"), "--drill-cards", str(tmp_path / "cards.csv"),
                             "--drill-cards-only"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        wait_until(lambda: ready.exists() or proc.poll() is not None, timeout=400, step=1.0)
        assert proc.poll() is None, proc.stdout.read()
        info = json.loads(ready.read_text())
        import httpx

        assert info["url"].startswith("https://")
        ca = str(pki / "ca.pem")  # the client trusts the drill's CA, and the server name checks out
        assert httpx.get(f"{info['url']}/openapi.json", timeout=60, verify=ca).json()["info"]["title"]
        assert httpx.get(f"{info['url']}/v1/health", timeout=60, verify=ca).json()["actors"] == 6
        chal = httpx.get(f"{info['url']}/v1/residents/challenge", timeout=60, verify=ca).json()["challenge"]
        login = {"certificate": b64(drill[0].der), "challenge": chal, "signature": b64(drill[0].sign(bytes.fromhex(chal)))}
        r = httpx.post(f"{info['url']}/v1/residents/sessions", json=login, timeout=60, verify=ca)
        assert r.status_code == 201 and r.json()["resident_id"] == drill[1], r.text  # a drill card's login
        r = httpx.post(f"{info['url']}/v1/residents/sessions", json=virtual_login(info, tmp_path / "data", ca),
                       timeout=60, verify=ca)
        assert (r.status_code, r.json()["error"]) == (403, "virtual_card_refused"), r.text  # --drill-cards-only
        with pytest.raises(httpx.HTTPError):  # clear text to the TLS port gets no answer
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        gcs_port = int(info["ray"].rsplit(":", 1)[1])
        proc.send_signal(signal.SIGINT)
        proc.wait(240)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    out = proc.stdout.read()
    assert proc.returncode == 0, out
    assert "stopped" in out
    assert "drill cards: 1 enrolled, playing 1 synthetic resident;" in out and "virtual cards refused" in out and drill_pki.VOLUNTEER not in out
    for noise in ("Token authentication is enabled", "graceful_shutdown", "is now ignored by default"):
        assert noise not in out  # Ray's notices go to the log file the first line names
    assert "ray-driver.log" in out.splitlines()[0] and (tmp_path / "data" / "logs" / "ray-driver.log").exists()
    assert not [line for line in out.splitlines() if "error" in line.lower()]
    time.sleep(2)
    assert not _listening(gcs_port) and not _listening(port)  # Ray's GCS and the HTTP port are gone


def drill_files(tmp_path, small_city) -> tuple[drill_pki.Issued, int]:
    """A drill CA (tmp_path/drill-ca.pem) and one card enrolled (tmp_path/cards.csv) for the first card holder."""
    import polars as pl

    now = time.time()
    ca = drill_pki.authority("Drill Card CA", now - 86400, now + 86400 * 365)
    card = drill_pki.card(ca, now - 86400, now + 86400 * 30)
    rid = int(small_city.residents.filter(pl.col("has_card"))["resident_id"][0])
    (tmp_path / "drill-ca.pem").write_bytes(ca.pem)
    (tmp_path / "cards.csv").write_text(drill_pki.enrolment((card, rid)))
    return card, rid


def virtual_login(info: dict, data, ca: str) -> dict:
    """A login signed by a twin-made virtual card of the service's data folder (its keys come from the folder)."""
    import httpx
    import polars as pl

    from actors import world
    from actors.hosts_trust import authority
    from actors.spec import ServiceSpec

    spec = ServiceSpec(data_dir=str(data), scale=0.01, shelter_groups=1, resident_shards=1).open()
    reg = authority(spec)[1]
    serial, now = int(world.city(spec).residents.filter(pl.col("has_card"))["card_serial"][0]), time.time()
    chal = httpx.get(f"{info['url']}/v1/residents/challenge", timeout=60, verify=ca).json()["challenge"]
    card = reg.card(serial)
    card.verify_pin("user", reg.pins(serial).user, now)
    return {"certificate": b64(card.certificate()), "challenge": chal,
            "signature": b64(card.sign(bytes.fromhex(chal), now))}


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_the_load_banner_counts_every_request_the_run_sends_follow_ups_included(cli, live):
    r = cli("load", "--target", live.url, "--data", live.spec.data_dir, "--scenario", "certificates",
            "--rate", "10", "--duration", "1.5", "--pool", "2100:", "--retries", "0", "--format", "json",
            timeout=600)
    assert r.returncode == 0, r.stderr
    promised = int(re.search(r"\(([\d,]+) requests at most \((\d+) operations of 2", r.stderr)
                   .group(1).replace(",", ""))
    report = json.loads(r.stdout)
    assert report["started"] > 15  # authentications and the certificate requests after them
    assert report["started"] <= promised == 2 * 15


def test_devices_issue_writes_an_owner_only_pki_and_never_overwrites(cli, tmp_path):
    from cryptography import x509

    from actors.device_pki import subject_device

    out = tmp_path / "pki"
    r = cli("devices", "issue", "--out", str(out), "--device", "kiosk-7", "--device", "hq-1",
            "--host", "drill.example", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert set(json.loads(r.stdout)) == {"ca", "server", "kiosk-7", "hq-1"}
    assert oct(out.stat().st_mode & 0o777) == "0o700"
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in out.glob("*.key"))
    cert = x509.load_pem_x509_certificate((out / "kiosk-7.pem").read_bytes())
    assert subject_device(cert) == "kiosk-7"
    ca = x509.load_pem_x509_certificate((out / "ca.pem").read_bytes())
    cert.verify_directly_issued_by(ca)
    before = (out / "ca.key").read_bytes()
    r = cli("devices", "issue", "--out", str(out), "--device", "other")
    assert r.returncode == 2 and "never overwrites" in r.stderr
    assert (out / "ca.key").read_bytes() == before and not (out / "other.key").exists()


@pytest.mark.parametrize(("args", "words"), [
    (["--host", "0.0.0.0"], "--insecure-http"),
    (["--tls-cert", "x.pem"], "go together"),
    (["--client-ca", "ca.pem"], "needs --tls-cert"),
    (["--tls-cert", "nope.pem", "--tls-key", "nope.key"], "no such file"),
])
def test_serve_refuses_clear_text_off_loopback_and_incomplete_tls_before_starting(cli, tmp_path, args, words):
    r = cli("serve", "--data", str(tmp_path / "d"), *args, timeout=60)
    assert r.returncode == 2 and words in r.stderr, r.stderr
    assert "starting Ray" not in r.stdout
