"""Readers offline: taps journaled before the acknowledgement, synced exactly once, replays refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT
from tests.services.safety_helpers import T0, card_holders
from twin.errors import ValidationError
from twin.services.card_serials import SerialIndex
from twin.services.safety_events import CheckInRefused, OfflineBatchSynced, SyncRowRejected
from twin.services.shelter_offline import JsonlJournal, MemoryJournal, TapQueue
from twin.services.shelter_outcomes import Outcome
from twin.services.shelters import ReaderOffline, ShelterNetwork, UnknownReader


@pytest.fixture
def net(small_city):
    return ShelterNetwork.from_city(small_city, now=T0)


def test_an_offline_tap_is_acknowledged_with_a_tap_id_and_counted_at_the_desk_only(small_city, net):
    (rid,), (serial,) = card_holders(small_city, 1)
    net.set_online(1, False, T0)
    res = net.tap(1, serial, T0 + 10)
    assert (res.outcome, res.tap_id) == (Outcome.QUEUED, (1 << 32) | 1)
    assert net.occ[0] == 1 and net.reg[0] == 0  # the desk knows, the server does not yet
    assert net.location_of(rid) == (None, None)
    assert net.queues[1].pending() == [{"type": "tap", "tap_id": res.tap_id, "reader_id": 1, "serial": serial,
                                        "at": T0 + 10}]


def test_coming_back_online_syncs_the_queue_exactly_once(small_city, net):
    rids, serials = card_holders(small_city, 3)
    net.set_online(1, False, T0)
    for i, s in enumerate(serials):
        net.tap(1, s, T0 + i)
    report = net.set_online(1, True, T0 + 600)
    assert (report.applied, report.replayed, report.refused) == (3, 0, 0)
    assert [net.location_of(r) for r in rids] == [(int(net.facility_ids[0]), T0 + i) for i in range(3)]
    assert net.occ[0] == 3 and net.reg[0] == 3
    assert net.queues[1].pending() == []
    again = net.sync(1, T0 + 700)
    assert (again.applied, again.replayed) == (0, 0) and net.reg[0] == 3


def test_a_replayed_offline_batch_changes_nothing(small_city, net):
    _, serials = card_holders(small_city, 2)
    net.set_online(1, False, T0)
    for s in serials:
        net.tap(1, s, T0)
    rows = net.queues[1].pending()
    net.set_online(1, True, T0 + 60)
    before = (list(net.occ), list(net.reg), net.where.copy())
    replay = net.apply_synced(1, rows, T0 + 120)
    assert (replay.applied, replay.replayed, replay.refused) == (0, 2, 0)
    assert (list(net.occ), list(net.reg)) == before[:2] and (net.where == before[2]).all()


def test_an_altered_replay_under_a_known_tap_id_is_refused_and_logged(small_city, net):
    rids, serials = card_holders(small_city, 2)
    net.set_online(1, False, T0)
    tap_id = net.tap(1, serials[0], T0).tap_id
    net.set_online(1, True, T0 + 60)
    forged = [{"type": "tap", "tap_id": tap_id, "reader_id": 1, "serial": serials[1], "at": T0}]
    report = net.apply_synced(1, forged, T0 + 120)
    assert (report.applied, report.refused) == (0, 1)
    assert net.location_of(rids[1]) == (None, None)
    assert net.events.of(CheckInRefused)[-1].reason == "altered_replay"


def test_rows_carrying_another_readers_tap_ids_or_future_times_are_refused(small_city, net):
    _, (serial,) = card_holders(small_city, 1)
    rows = [{"tap_id": (2 << 32) | 1, "serial": serial, "at": T0},
            {"tap_id": (1 << 32) | 9, "serial": serial, "at": T0 + 10_000},
            {"serial": serial}]
    report = net.apply_synced(1, rows, T0 + 60)
    assert (report.applied, report.refused, report.processed) == (0, 3, ())
    details = [e.detail for e in net.events.of(SyncRowRejected)]
    assert "not issued by reader 1" in details[0] and "after the sync" in details[1] and "malformed" in details[2]
    assert list(net.reg) == [0] * 5


def test_a_sync_from_an_unregistered_reader_is_refused(small_city, net):
    _, (serial,) = card_holders(small_city, 1)
    with pytest.raises(UnknownReader):
        net.apply_synced(42, [{"tap_id": (42 << 32) | 1, "serial": serial, "at": T0}], T0 + 1)
    assert list(net.reg) == [0] * 5 and net.events.of(CheckInRefused)[-1].reason == "unknown_reader"


def test_a_card_refused_at_sync_is_counted_as_an_unidentified_person(small_city):
    index = SerialIndex.from_residents(small_city.residents)
    net = ShelterNetwork.from_city(small_city, resolver=index, now=T0)
    _, (serial,) = card_holders(small_city, 1)
    index.revoke(serial, T0 - 5)
    net.set_online(1, False, T0)
    net.tap(1, serial, T0)
    report = net.set_online(1, True, T0 + 60)
    assert (report.applied, report.refused) == (0, 1)
    assert (net.occ[0], net.reg[0], net.anon[0]) == (1, 1, 1)
    assert net.events.of(CheckInRefused)[-1].reason == "card_revoked"
    assert net.apply_synced(1, net.queues[1].pending(), T0 + 61).refused == 0  # confirmed: nothing resent


def test_duplicate_offline_taps_do_not_double_count(small_city, net):
    (rid,), (serial,) = card_holders(small_city, 1)
    net.set_online(1, False, T0)
    net.set_online(2, False, T0)
    assert net.tap(1, serial, T0).outcome == Outcome.QUEUED
    assert net.tap(1, serial, T0 + 1).outcome == Outcome.ALREADY_HERE  # same reader: deduplicated
    assert net.tap(2, serial, T0 + 2).outcome == Outcome.QUEUED  # the other reader cannot know
    assert net.occ[0] == 2
    net.set_online(1, True, T0 + 60)
    net.set_online(2, True, T0 + 61)
    assert (net.occ[0], net.reg[0]) == (1, 1)  # the double count is undone at sync
    assert net.location_of(rid) == (int(net.facility_ids[0]), T0)


def test_check_out_on_an_offline_reader_is_refused(small_city, net):
    _, (serial,) = card_holders(small_city, 1)
    net.tap(1, serial, T0)
    net.set_online(1, False, T0 + 1)
    with pytest.raises(ReaderOffline, match="check-outs need the server"):
        net.check_out(1, serial, T0 + 2)
    assert net.occ[0] == 1


def test_a_reader_with_unsynced_taps_cannot_be_retired(small_city, net):
    _, (serial,) = card_holders(small_city, 1)
    net.set_online(1, False, T0)
    net.tap(1, serial, T0)
    with pytest.raises(Exception, match="1 unsynced taps"):
        net.retire_reader(1, T0 + 1)


def test_a_compacted_queue_never_reuses_a_tap_id(small_city):
    _, serials = card_holders(small_city, 3)
    q = TapQueue(5)
    a, b = q.enqueue(serials[0], T0), q.enqueue(serials[1], T0)
    q.confirm([a, b])
    rebuilt = TapQueue.from_rows(5, q.to_rows())
    assert rebuilt.pending() == []
    assert rebuilt.enqueue(serials[2], T0) == (5 << 32) | 3


def test_a_queue_rebuilt_from_its_journal_keeps_unconfirmed_taps_only(small_city):
    _, serials = card_holders(small_city, 3)
    journal = MemoryJournal()
    q = TapQueue(1, journal)
    ids = [q.enqueue(s, T0 + i) for i, s in enumerate(serials)]
    q.confirm(ids[:1])
    rebuilt = TapQueue.from_rows(1, journal.rows())
    assert [r["tap_id"] for r in rebuilt.pending()] == ids[1:]
    with pytest.raises(ValidationError, match="belongs to reader 1"):
        TapQueue.from_rows(2, journal.rows())


READER = textwrap.dedent("""
    import os, signal, sys
    from twin.services.shelter_offline import JsonlJournal, TapQueue
    q = TapQueue(1, JsonlJournal(sys.argv[1]))
    serials = [int(s) for s in sys.argv[2].split(",")]
    for i, s in enumerate(serials):
        tap_id = q.enqueue(s, 1750000000.0 + i)
        print(tap_id, flush=True)  # the beep: acknowledged
        if i == int(sys.argv[3]):
            os.kill(os.getpid(), signal.SIGKILL)  # the reader dies right after acknowledging
""")


def test_nothing_is_lost_when_a_reader_dies_after_acknowledging(small_city, net, tmp_path):
    rids, serials = card_holders(small_city, 6)
    path = tmp_path / "reader1.jsonl"
    out = subprocess.run([sys.executable, "-c", READER, str(path), ",".join(map(str, serials)), "3"],
                         capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == -9
    acked = [int(x) for x in out.stdout.split()]
    assert len(acked) == 4
    with open(path, "a") as f:
        f.write('{"type": "tap", "tap_id": 42949')  # a torn write after the last ack
    journal = JsonlJournal(path)  # reopening after the crash cuts the torn line off
    assert not path.read_text().endswith("42949")
    net.set_online(1, False, T0)
    net.restore_reader(1, journal.rows(), journal)
    report = net.set_online(1, True, T0 + 600)
    assert sorted(report.processed) == sorted(acked) and report.applied == 4
    assert [net.location_of(r)[0] for r in rids[:4]] == [int(net.facility_ids[0])] * 4
    assert net.location_of(rids[4]) == (None, None)
    rows = JsonlJournal(path).rows()
    assert rows[-1] == {"type": "confirm", "tap_ids": acked}
    again = TapQueue.from_rows(1, rows)
    assert again.pending() == [] and net.apply_synced(1, [r for r in rows if r["type"] == "tap"], T0 + 700).replayed == 4
    assert len(net.events.of(OfflineBatchSynced)) == 2


def test_the_jsonl_journal_reads_back_what_it_wrote(tmp_path):
    j = JsonlJournal(tmp_path / "j.jsonl")
    j.append({"type": "watermark", "next_seq": 3})
    assert j.rows() == [{"type": "watermark", "next_seq": 3}]
    assert json.loads((tmp_path / "j.jsonl").read_text()) == {"next_seq": 3, "type": "watermark"}


def test_a_compacted_journal_keeps_only_pending_taps_and_the_sequence(small_city, tmp_path):
    _, serials = card_holders(small_city, 3)
    journal = JsonlJournal(tmp_path / "r.jsonl")
    q = TapQueue(1, journal)
    ids = [q.enqueue(s, T0) for s in serials]
    q.confirm(ids[:2])
    q.compact()
    rows = journal.rows()
    assert rows == [{"type": "watermark", "next_seq": 4}, {"type": "tap", "tap_id": ids[2], "reader_id": 1,
                                                           "serial": serials[2], "at": T0}]
    assert not (tmp_path / "r.jsonl.tmp").exists()
    assert TapQueue.from_rows(1, rows).enqueue(serials[0], T0) == (1 << 32) | 4


def test_a_reader_registered_with_a_used_journal_resumes_its_queue(small_city, tmp_path):
    _, (serial,) = card_holders(small_city, 1)
    net = ShelterNetwork.from_city(small_city, now=T0)
    journal = JsonlJournal(tmp_path / "r11.jsonl")
    TapQueue(11, journal).enqueue(serial, T0)  # reader 11 was used before the twin restarted
    rid = net.register_reader(int(net.facility_ids[0]), T0, journal)
    assert rid == 11 and [r["serial"] for r in net.queues[rid].pending()] == [serial]
    assert net.sync(rid, T0 + 5).applied == 1
