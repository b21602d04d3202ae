"""End to end: a virtual twin card in a real pcscd, read by `devices.reader_client`, recorded by the live endpoints.

(Owned by the card-reader engineer; it lives here to share the session's one live service.)
"""

from __future__ import annotations

import importlib.util
import threading

import pytest

from tests.conftest import require

pytestmark = [pytest.mark.usefixtures("live"), pytest.mark.pcsc]
READER = "Virtual PCD 00 00"


@pytest.fixture
def pcsc():
    """A PC/SC context on pcscd + vpcd (started for the test if none runs)."""
    from devices import pcscd

    require(importlib.util.find_spec("smartcard") is not None, "pyscard (uv sync --all-extras)")
    require(pcscd.missing() is None, pcscd.missing() or "")
    from devices.pcsc import PcscContext

    with pcscd.pcscd_running(), PcscContext() as ctx:
        require(ctx.wait_for(READER, present=False, timeout=15), "an empty vpcd reader")
        yield ctx


def insert(live, ctx, serial: int):
    from devices.twin_card import TwinCardHandler
    from devices.vpcd import VirtualCard
    from twin.apdu.backend import CardChip
    from twin.apdu.chip import ChipSession

    card = live.trust[1].card(serial)  # the same authority and registry as the service's
    vc = VirtualCard(TwinCardHandler(ChipSession(CardChip(card)), clock=live.now)).insert()
    assert ctx.wait_for(READER, present=True, timeout=15)
    return vc


def client_for(live, device: dict, tmp_path, pins=None):
    from devices.reader_client import ReaderClient, ReaderSettings
    from devices.tap_queue import TapQueue
    from devices.uplink import Uplink

    settings = ReaderSettings(device["role"], device["site_id"], device["device_id"], sync_interval=0.2,
                              max_backoff=0.4, poll=0.1)
    return ReaderClient(settings, TapQueue(tmp_path / f"{device['device_id']}.sqlite"),
                        Uplink(live.url, device["device_id"], device["token"], timeout=30), pins, clock=live.now)


def read_one(client) -> str:
    events = []
    client.on_event = events.append
    assert client.run(threading.Event(), max_taps=1, duration=60) == 1
    return next(e.tap_id for e in events if e.what == "tap_queued")


def test_a_virtual_twin_card_checks_in_at_a_shelter_through_the_live_endpoint(live, pcsc, tmp_path):
    device = live.device("shelter", group=0)
    who = live.holders(1, skip=60).row(0, named=True)
    card = insert(live, pcsc, int(who["card_serial"]))
    try:
        client = client_for(live, device, tmp_path)
        tap_id = read_one(client)
    finally:
        card.remove()
    state, answer = client.queue.answer(tap_id)
    assert state == "synced" and answer.status == "recorded"
    assert answer.result["resident_id"] == who["resident_id"] and answer.result["outcome"] in ("checked_in", "moved")  # the shared live service may hold an earlier check-in of this card
    assert answer.result["assurance"] == "MEDIUM" and answer.result["shelter_id"] == device["facility_id"]
    (tap,) = client.queue.pending(10) or [None]  # nothing left to send
    assert tap is None
    (repeat,) = client.uplink.send([_tap_from_queue(client, tap_id)])
    assert repeat.status == "duplicate" and repeat.result == answer.result


def test_a_kiosk_reader_authenticates_a_virtual_card_at_the_live_endpoint(live, pcsc, tmp_path):
    device = live.device("kiosk")
    who = live.holders(1, skip=61).row(0, named=True)
    serial = int(who["card_serial"])
    pin = live.trust[1].pins(serial).user
    card = insert(live, pcsc, serial)
    try:
        client = client_for(live, device, tmp_path, pins=lambda reader: pin)
        tap_id = read_one(client)
    finally:
        card.remove()
    state, answer = client.queue.answer(tap_id)
    assert state == "synced" and answer.status == "recorded", answer
    assert answer.result["resident_id"] == who["resident_id"] and answer.result["assurance"] == "HIGH"


def _tap_from_queue(client, tap_id: str):
    import json
    import sqlite3

    from devices.contract import Tap

    with sqlite3.connect(client.queue.path) as db:
        (body,) = db.execute("SELECT body FROM taps WHERE tap_id = ?", (tap_id,)).fetchone()
    return Tap.from_json(json.loads(body))
