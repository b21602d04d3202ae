"""The reader client through the real stack (pcscd + vpcd + pyscard) and a local HTTP endpoint."""

from __future__ import annotations

import threading

import pytest

from devices.pcsc import CardConnection
from devices.tap_queue import TapQueue
from devices.vpcd import CardRemoved

from .conftest import reader_name

pytestmark = pytest.mark.pcsc  # needs pcscd + vpcd + pyscard


def run_in_thread(client, **kwargs) -> tuple[threading.Thread, threading.Event, list]:
    stop, out = threading.Event(), []
    thread = threading.Thread(target=lambda: out.append(client.run(stop, **kwargs)), daemon=True)
    thread.start()
    return thread, stop, out


def take(client, slot: int = 0):
    """Read the card in `slot` once, as the watch loop does when a card arrives."""
    with CardConnection(reader_name(slot)) as conn:
        return client.take(reader_name(slot), conn.transmit)


def test_a_virtual_twin_card_checks_in_at_a_shelter_through_the_endpoint(
        insert_card, make_client, endpoint, registry, serial):
    client = make_client("shelter")
    insert_card(serial)
    thread, stop, taps = run_in_thread(client, max_taps=1, duration=20)
    thread.join(25)
    assert taps == [1]
    (tap,) = endpoint.recorded()
    assert (tap.kind, tap.site_id, tap.card.card_serial) == ("checkin", "shelter-07", serial)
    assert tap.card.face.name == registry.card(serial).face.name
    answer = endpoint.taps[tap.tap_id].answer
    assert answer.result == {"resident_id": registry.card(serial).resident_id, "card_serial": serial,
                             "method": "card_serial", "assurance": "MEDIUM"}
    assert client.queue.counts().synced == 1 and client.queue.counts().pending == 0


def test_a_kiosk_tap_carries_a_pin_and_a_signature_the_endpoint_verifies(
        insert_card, make_client, endpoint, registry, serial, pins):
    client = make_client("kiosk", pin_source=lambda reader: pins.user)
    insert_card(serial)
    tap = take(client)
    report = client.sync()
    assert report.recorded == 1 and report.pending == 0
    result = endpoint.taps[tap.tap_id].answer.result
    assert result["assurance"] == "HIGH" and result["card_serial"] == serial
    assert result["resident_id"] == registry.card(serial).resident_id


def test_a_wrong_pin_at_a_kiosk_queues_nothing_and_says_the_tries_left(
        insert_card, make_client, registry, serial, wrong_pin):
    events = []
    client = make_client("kiosk", pin_source=lambda reader: wrong_pin, events=events)
    insert_card(serial)
    assert take(client) is None
    assert client.queue.counts().pending == 0
    refusal = [e for e in events if e.what == "read_refused"][0]
    assert "2 tries left" in refusal.detail
    assert registry.card(serial).tries_left("user") == 2


def test_a_tampered_kiosk_tap_is_refused_by_the_endpoint_for_good(
        insert_card, make_client, endpoint, serial, pins):
    import dataclasses

    client = make_client("kiosk", pin_source=lambda reader: pins.user)
    insert_card(serial)
    with CardConnection(reader_name(0)) as conn:
        tap = client.read_tap(conn.transmit, reader_name(0))
    forged = dataclasses.replace(tap, site_id="kiosk-03", at=tap.at + 60)  # replayed a minute later
    client.queue.add(forged)
    report = client.sync()
    assert report.rejected == 1 and report.pending == 0
    assert endpoint.recorded() == []
    assert client.queue.answer(forged.tap_id)[1].error == "forged_data"


class PullAfter:
    """A card handler that is pulled out of the reader at its n-th command APDU."""

    def __init__(self, handler, n: int) -> None:
        self.handler, self.n, self.seen = handler, n, 0

    def atr(self) -> bytes:
        return self.handler.atr()

    def power_on(self) -> None:
        self.handler.power_on()

    def power_off(self) -> None:
        self.handler.power_off()

    def transmit(self, apdu: bytes) -> bytes:
        self.seen += 1
        if self.seen == self.n:
            raise CardRemoved()
        return self.handler.transmit(apdu)


def test_a_card_removed_mid_read_leaves_no_half_record(
        insert_card, make_client, endpoint, pcsc_stack, serial):
    events = []
    client = make_client("shelter", events=events)
    pulled = insert_card(serial, wrap=lambda h: PullAfter(h, 3))  # gone at the first READ BINARY
    thread, stop, taps = run_in_thread(client, max_taps=1, duration=20)
    assert pcsc_stack.wait_for(reader_name(0), present=False, timeout=10)
    assert not pulled.inserted
    insert_card(serial)  # presented again, whole this time
    thread.join(25)
    assert taps == [1]  # the aborted read counted for nothing
    assert any(e.what == "read_aborted" for e in events)
    assert client.queue.counts().synced == 1 and client.queue.counts().pending == 0
    (tap,) = endpoint.recorded()
    assert tap.card.card_serial == serial


def test_the_reader_offline_then_online_syncs_each_tap_exactly_once(
        insert_card, make_client, endpoint, tmp_path, serial, other_serial, pcsc_stack):
    url = endpoint.url
    port = int(url.rsplit(":", 1)[1])
    endpoint.stop()  # the network is down
    client = make_client("shelter", url=url)
    taps = []
    for s in (serial, other_serial, serial):
        card = insert_card(s)
        taps.append(take(client))
        card.remove()
        assert pcsc_stack.wait_for(reader_name(0), present=False, timeout=15)
    offline = client.sync()
    assert not offline.reachable and offline.pending == 3

    client.queue.close()  # the reader restarts: its queue is a file
    client.queue = TapQueue(tmp_path / "shelter-7a.sqlite")
    assert client.queue.counts().pending == 3

    endpoint.start(port=port)  # the network is back, the first answer is lost on the way
    endpoint.drop_answers = 1
    lost = client.sync()  # the batch's answer is lost: each tap is then sent alone (issue 17 point 4),
    assert lost.reachable and lost.pending == 0  # and each is answered as already recorded
    assert lost.duplicate + lost.recorded == 3 and lost.duplicate == 3
    assert client.sync().recorded == 0  # nothing left to send

    recorded = endpoint.recorded()
    assert sorted(t.tap_id for t in recorded) == sorted(t.tap_id for t in taps)
    assert [t.card.card_serial for t in sorted(recorded, key=lambda t: t.at)] == [serial, other_serial, serial]
    assert {endpoint.taps[t.tap_id].posts for t in taps} == {2}  # sent twice, recorded once


def test_a_school_reader_posts_a_pin_less_child_watch_tap(insert_card, make_client, endpoint, registry, serial):
    client = make_client("school")
    insert_card(serial)
    tap = take(client)
    assert (tap.kind, tap.auth, tap.card.card_serial) == ("childwatch", None, serial)
    assert client.sync().recorded == 1
    assert endpoint.taps[tap.tap_id].answer.result["resident_id"] == registry.card(serial).resident_id
    assert registry.card(serial).tries_left("user") == 3
