"""`run.py reader` as an operator runs it: a subprocess watching pcscd, posting to an endpoint."""

from __future__ import annotations

import importlib.util
import json

import pytest

from devices.reference_endpoint import Device, ReferenceEndpoint
from devices.tap_queue import TapQueue
from tests.conftest import require

pytestmark = pytest.mark.pcsc  # needs pcscd + vpcd + pyscard

DEVICE = Device("shelter-cli", "cli-token-0123456789", "shelter", "shelter-11")


@pytest.fixture
def plain_endpoint():
    ep = ReferenceEndpoint([DEVICE])
    ep.start()
    yield ep
    ep.stop()


def reader_args(url: str, tmp_path, *extra: str) -> list[str]:
    token = tmp_path / "token"
    token.write_text(DEVICE.token + "\n")
    return ["reader", "--role", "shelter", "--site", DEVICE.site_id, "--endpoint", url,
            "--device-id", DEVICE.device_id, "--token-file", str(token), "--queue", str(tmp_path / "q.sqlite"),
            "--sync-interval", "0.5", "--format", "json", *extra]


def lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_reader_help_explains_roles_credentials_and_exit_codes(cli):
    out = cli("reader", "--help")
    assert out.returncode == 0
    for words in ("shelter", "kiosk", "MYNA_DEVICE_TOKEN", "exactly once", "Exit 0"):
        assert words in out.stdout.replace("\n", " ")


def test_reader_without_a_token_is_a_clear_error(cli, tmp_path):
    out = cli("reader", "--role", "shelter", "--site", "s-1", "--endpoint", "http://127.0.0.1:9",
              "--device-id", "d-1", "--queue", str(tmp_path / "q.sqlite"), env={"MYNA_DEVICE_TOKEN": ""})
    assert out.returncode == 2 and "no device token" in out.stderr


def test_the_reader_command_checks_in_a_presented_card(cli, insert_card, plain_endpoint, tmp_path, serial):
    insert_card(serial)
    out = cli(*reader_args(plain_endpoint.url, tmp_path, "--max-taps", "1", "--duration", "30"), timeout=60)
    assert out.returncode == 0, out.stderr
    events = lines(out.stdout)
    assert [e["what"] for e in events if "what" in e][:2] == ["tap_queued", "synced"]
    assert events[-1]["summary"]["synced"] == 1 and events[-1]["summary"]["pending"] == 0
    (tap,) = plain_endpoint.recorded()
    assert (tap.card.card_serial, tap.site_id, tap.kind) == (serial, "shelter-11", "checkin")


def test_the_reader_command_keeps_offline_taps_and_sends_them_once_later(
        cli, insert_card, plain_endpoint, tmp_path, serial):
    url = plain_endpoint.url
    plain_endpoint.stop()
    insert_card(serial)
    offline = cli(*reader_args(url, tmp_path, "--max-taps", "1", "--duration", "3"), timeout=60)
    assert offline.returncode == 1  # taps remain queued
    assert lines(offline.stdout)[-1]["summary"]["pending"] == 1
    assert any(e.get("what") == "offline" for e in lines(offline.stdout))

    plain_endpoint.start(port=int(url.rsplit(":", 1)[1]))
    back = cli(*reader_args(url, tmp_path, "--sync-only"), timeout=60)
    assert back.returncode == 0, back.stderr
    assert lines(back.stdout)[-1]["summary"] == {"pending": 0, "rejected": 0, "synced": 1,
                                                 "queue": str(tmp_path / "q.sqlite")}
    (tap,) = plain_endpoint.recorded()
    assert tap.card.card_serial == serial and plain_endpoint.taps[tap.tap_id].posts == 1
    queue = TapQueue(tmp_path / "q.sqlite")  # nothing is left to send twice
    assert queue.pending() == [] and queue.answer(tap.tap_id)[0] == "synced"
    queue.close()


def test_a_kiosk_reader_reads_the_pin_from_stdin_and_posts_a_signed_tap(insert_card, tmp_path, serial, pins):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    kiosk = Device("kiosk-cli", "kiosk-token-0123456789", "kiosk", "kiosk-22")
    ep = ReferenceEndpoint([kiosk])
    ep.start()
    try:
        insert_card(serial)
        (tmp_path / "token").write_text(kiosk.token)
        args = ["reader", "--role", "kiosk", "--site", kiosk.site_id, "--endpoint", ep.url, "--device-id",
                kiosk.device_id, "--token-file", str(tmp_path / "token"), "--queue", str(tmp_path / "k.sqlite"),
                "--pin-from", "stdin", "--max-taps", "1", "--duration", "30", "--format", "json"]
        out = subprocess.run([sys.executable, str(ROOT / "run.py"), *args], input=pins.user + "\n",
                             capture_output=True, text=True, timeout=60, cwd=ROOT, env=dict(os.environ))
    finally:
        ep.stop()
    assert out.returncode == 0, out.stderr
    assert "PIN for the card in Virtual PCD 00 00?" in out.stderr
    (tap,) = ep.recorded()
    assert tap.kind == "kiosk_auth" and tap.auth is not None and tap.site_id == "kiosk-22"


def test_reader_without_pcscd_says_how_to_start_it(cli, tmp_path):
    # without pyscard the reader stops earlier, naming pyscard (as the pcsc fixtures, a skip here)
    require(importlib.util.find_spec("smartcard") is not None, "pyscard (uv sync --all-extras)")
    # libpcsclite finds pcscd through this socket path; pointing it nowhere is "pcscd is not running"
    out = cli(*reader_args("http://127.0.0.1:9", tmp_path, "--duration", "1"),
              env={"PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")})
    assert out.returncode == 2, out.stderr
    assert "cannot reach pcscd" in out.stderr and "start-pcsc.sh" in out.stderr
