"""Offline readers: cached revocation list, queued taps delivered exactly once, the window counted."""

from __future__ import annotations

import pytest

from twin.clock import DAY, HOUR
from twin.errors import ValidationError
from twin.identity import Assurance
from twin.reader import Reader, TapInbox
from twin.trust_errors import CardRevoked, RevocationUnavailable
from twin.trust_events import Refused, RevokedAcceptedInWindow, TapsSynced


def serials(registry, k: int) -> list[int]:
    return [int(s) for s in registry.serial[:k]]


def test_an_offline_reader_queues_taps_and_syncs_them_once(ca, registry, now):
    inbox = TapInbox()
    reader = Reader(ca, registry, reader_id="shelter-1", sink=inbox)
    reader.refresh(now)
    reader.go_offline(now)
    for i, s in enumerate(serials(registry, 3)):
        reader.read_serial(registry.card(s), now + i)
    assert len(reader.pending) == 3 and inbox.taps == []
    assert all(t.offline for t in reader.pending)
    assert reader.go_online(now + HOUR) == 3
    assert [t.serial for t in inbox.taps] == serials(registry, 3)
    assert reader.sync(now + 2 * HOUR) == 0
    assert len(inbox.taps) == 3
    assert [(e.delivered, e.remaining) for e in registry.events.of(TapsSynced)] == [(3, 0), (0, 0)]


def test_a_failing_sink_keeps_the_rest_queued_and_nothing_is_delivered_twice(ca, registry, now):
    inbox = TapInbox()
    calls = {"n": 0}

    def flaky(tap):
        calls["n"] += 1
        inbox.accept(tap)
        if calls["n"] == 2:
            raise ConnectionError("ack lost after the server stored the tap")

    reader = Reader(ca, registry, reader_id="shelter-2", sink=flaky)
    reader.refresh(now)
    reader.go_offline(now)
    for i, s in enumerate(serials(registry, 4)):
        reader.read_serial(registry.card(s), now + i)
    reader.online = True
    with pytest.raises(ConnectionError):
        reader.sync(now + HOUR)
    assert len(reader.pending) == 3  # the second tap stays queued: its ack never came
    assert reader.sync(now + 2 * HOUR) == 3
    assert [t.serial for t in inbox.taps] == serials(registry, 4)  # the redelivered tap was not stored twice
    assert len({t.tap_id for t in inbox.taps}) == 4


def test_syncing_while_offline_or_without_a_sink_is_an_error(ca, registry, now):
    reader = Reader(ca, registry, reader_id="shelter-3")
    reader.go_offline(now)
    with pytest.raises(ValidationError, match="no sink"):
        reader.sync(now)
    with pytest.raises(ValidationError, match="offline"):
        reader.sync(now, sink=TapInbox())


def test_an_offline_reader_without_a_list_refuses_full_authentication(ca, registry, adult_serial, now):
    reader = Reader(ca, registry, reader_id="kiosk-off", online=False)
    with pytest.raises(RevocationUnavailable, match="no revocation list"):
        reader.authenticate(registry.card(adult_serial), registry.pins(adult_serial).user, now)
    assert registry.events.of(Refused)[-1].reason == "revocation_unavailable"
    assert reader.read_serial(registry.card(adult_serial), now).assurance is Assurance.MEDIUM


def test_a_list_older_than_the_limit_is_not_relied_on(ca, registry, adult_serial, now):
    reader = Reader(ca, registry, reader_id="kiosk-old", max_list_age=3 * DAY)
    reader.refresh(now)
    reader.go_offline(now)
    pin = registry.pins(adult_serial).user
    reader.authenticate(registry.card(adult_serial), pin, now + 2 * DAY)
    with pytest.raises(RevocationUnavailable, match="days old"):
        reader.authenticate(registry.card(adult_serial), pin, now + 4 * DAY)


def test_an_offline_reader_accepts_a_card_revoked_after_its_list_and_the_twin_counts_it(ca, registry, adult_serial,
                                                                                         now):
    reader = Reader(ca, registry, reader_id="shelter-4", sink=TapInbox())
    reader.refresh(now)
    reader.go_offline(now)
    registry.report_loss(adult_serial, now + DAY)
    ident = reader.read_serial(registry.card(adult_serial), now + 2 * DAY)
    assert ident.resident_id == registry.holder_of(adult_serial)
    window = registry.events.of(RevokedAcceptedInWindow)
    assert [(w.serial, w.path, w.where) for w in window] == [(adult_serial, "offline", "shelter-4")]


def test_an_offline_reader_refuses_a_card_on_its_cached_list(ca, registry, adult_serial, now):
    registry.report_loss(adult_serial, now)
    reader = Reader(ca, registry, reader_id="shelter-5")
    reader.refresh(now + DAY)
    reader.go_offline(now + DAY)
    with pytest.raises(CardRevoked):
        reader.read_serial(registry.card(adult_serial), now + DAY + HOUR)


def test_a_pinless_read_never_touches_the_my_number(ca, registry, adult_serial, now):
    card = registry.card(adult_serial)
    touched = []

    class Spy:
        serial = adult_serial

        def __getattr__(self, name):
            touched.append(name)
            return getattr(card, name)

    reader = Reader(ca, registry, reader_id="shelter-6", sink=TapInbox())
    ident = reader.read_serial(Spy(), now)
    assert touched == ["read_face"]
    assert ident.method == "card_serial" and ident.assurance is Assurance.MEDIUM
    reader.refresh(now)
    reader.go_offline(now)
    reader.read_serial(Spy(), now)
    assert "read_input_support" not in touched
    my_number = str(int(registry.my_number[ident.resident_id]))
    assert my_number not in repr(reader.pending) and my_number not in repr(ident)


def test_a_restarted_reader_never_reuses_a_tap_id(ca, registry, now):
    """After a restart the counter starts again, but the tap ids stay unique."""
    serial = int(registry.serial[0])
    ids = set()
    for _ in range(2):
        inbox = TapInbox()
        reader = Reader(ca, registry, reader_id="shelter-9", sink=inbox)
        reader.read_serial(serial, now)
        ids |= {t.tap_id for t in inbox.taps}
    assert len(ids) == 2
