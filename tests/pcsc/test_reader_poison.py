"""A reader's queue is never blocked by one tap the endpoint cannot answer."""

from __future__ import annotations

import json

import httpx

from devices.contract import BATCH_PATH, Card, Tap
from devices.reader_client import ReaderClient, ReaderSettings
from devices.tap_queue import TapQueue
from devices.uplink import Uplink

POISON = 10**30  # a serial this (mock) endpoint fails on with a 500, alone or in a batch


def _tap(n: int, serial: int) -> Tap:
    return Tap(f"{n:032x}", "shelter-1", "shelter-01", "checkin", 1_775_000_000.0 + n, Card(card_serial=serial))


def _endpoint(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    taps = body["taps"] if request.url.path == BATCH_PATH else [body]
    if any(t["card"].get("card_serial") == POISON for t in taps):
        return httpx.Response(500, json={"error": "internal", "detail": "boom"})
    results = [{"tap_id": t["tap_id"], "status": "recorded", "result": {}} for t in taps]
    if request.url.path == BATCH_PATH:
        return httpx.Response(200, json={"results": results})
    return httpx.Response(201, json=results[0])


def test_a_tap_the_endpoint_fails_on_alone_is_parked_and_the_hundred_behind_it_are_sent(tmp_path):
    queue = TapQueue(tmp_path / "q.sqlite")
    taps = [_tap(i, 100 + i) for i in range(101)]
    taps[0] = _tap(0, POISON)  # the oldest: first in every batch
    for t in taps:
        queue.add(t)
    events = []
    client = ReaderClient(ReaderSettings("shelter", "shelter-01", "shelter-1", batch_size=50),
                          queue, Uplink("http://127.0.0.1:9", "shelter-1", "t", transport=httpx.MockTransport(_endpoint)),
                          clock=lambda: 1_775_001_000.0, on_event=events.append)
    report = client.sync()
    assert (report.recorded, report.rejected, report.pending) == (100, 1, 0)
    state, answer = queue.answer(taps[0].tap_id)
    assert state == "rejected" and answer.error == "server_error"
    assert any(e.what == "tap_rejected" and e.tap_id == taps[0].tap_id for e in events)


def test_an_outage_parks_nothing_and_keeps_every_tap_queued(tmp_path):
    queue = TapQueue(tmp_path / "q.sqlite")
    for i in range(5):
        queue.add(_tap(i, 100 + i))
    down = httpx.MockTransport(lambda _r: httpx.Response(503, text="down"))
    client = ReaderClient(ReaderSettings("shelter", "shelter-01", "shelter-1"), queue,
                          Uplink("http://127.0.0.1:9", "shelter-1", "t", transport=down), clock=lambda: 1.0)
    report = client.sync()
    assert (report.pending, report.rejected, report.reachable) == (5, 0, False)
