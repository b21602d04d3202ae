"""Events recorded by their fields are built when the log is read: every read (iteration, `of`,
`drain`, `to_frame`) sees the same events, in the same order, as events appended built."""

from __future__ import annotations

import threading

from twin.events import EventLog
from twin.services.certificate_rules import CertificateIssued
from twin.trust_events import Authenticated, TapsSynced


def _both(steps) -> tuple[EventLog, EventLog]:
    built, by_fields = EventLog(), EventLog()
    for kind, fields in steps:
        built.append(kind(*fields))
        if kind is TapsSynced:
            by_fields.append(kind(*fields))  # a mix of both ways
        else:
            by_fields.append_fields(kind, *fields)
    return built, by_fields


STEPS = [(Authenticated, (1.0, 10**9 + k, k, "jpki_user_cert", "kiosk", bool(k % 2))) if k % 3 else
         (CertificateIssued, (2.0 + k, f"2026-K{k:09d}", k, "residence_record", "kiosk", 3, 300)) for k in range(30)]
STEPS.insert(7, (TapsSynced, (5.0, "kiosk", 3, 0)))


def test_every_read_sees_the_events_recorded_by_fields_as_built_ones():
    built, by_fields = _both(STEPS)
    assert len(by_fields) == len(built) == 31
    assert list(by_fields) == list(built) and all(type(e) is not tuple for e in by_fields)
    assert by_fields.of(Authenticated) == built.of(Authenticated)
    assert by_fields.to_frame().equals(built.to_frame())
    by_fields.append_fields(Authenticated, 9.0, 10**9, 0, "jpki_user_cert", "kiosk", False)  # after a read
    built.append(Authenticated(9.0, 10**9, 0, "jpki_user_cert", "kiosk", False))
    assert by_fields.drain() == built.drain() and len(by_fields) == 0 and list(by_fields) == []


def test_a_drain_builds_what_was_recorded_since_the_last_read_and_keeps_later_records():
    _, log = _both(STEPS)
    assert len(log.of(CertificateIssued)) == 10
    log.append_fields(CertificateIssued, 99.0, "2026-K000000099", 1, "residence_record", "kiosk", 3, 300)
    out = log.drain()
    assert all(type(e) is not tuple for e in out) and out[-1].doc_no == "2026-K000000099"
    log.append_fields(CertificateIssued, 100.0, "2026-K000000100", 1, "residence_record", "kiosk", 3, 300)
    assert [e.doc_no for e in log] == ["2026-K000000100"]


def test_records_by_fields_from_threads_while_the_log_is_read_are_all_kept_and_built():
    log = EventLog()

    def record(t: int) -> None:
        for k in range(2000):
            log.append_fields(Authenticated, float(k), 10**9 + t, k, "jpki_user_cert", f"r{t}", False)

    threads = [threading.Thread(target=record, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    seen = 0
    while any(th.is_alive() for th in threads):
        seen = max(seen, len(log.of(Authenticated)))
    for th in threads:
        th.join()
    events = list(log)
    assert len(events) == 8000 and all(type(e) is Authenticated for e in events)


def test_events_recorded_by_fields_and_as_columns_keep_their_order():
    log, built = EventLog(), EventLog()
    log.append_fields(Authenticated, 1.0, 10**9, 1, "jpki_user_cert", "kiosk", False)
    log.extend_columns(TapsSynced, [2.0, 3.0], ["a", "b"], [1, 2], [0, 0])
    log.append_fields(Authenticated, 4.0, 10**9, 2, "jpki_user_cert", "kiosk", True)
    built.append(Authenticated(1.0, 10**9, 1, "jpki_user_cert", "kiosk", False))
    built.extend([TapsSynced(2.0, "a", 1, 0), TapsSynced(3.0, "b", 2, 0)])
    built.append(Authenticated(4.0, 10**9, 2, "jpki_user_cert", "kiosk", True))
    assert len(log) == 4 and list(log) == list(built)
    log.append_fields(Authenticated, 5.0, 10**9, 3, "jpki_user_cert", "kiosk", False)
    log.extend_columns(TapsSynced, [6.0], ["c"], [3], [0])
    assert [e.at for e in log.drain()] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0] and len(log) == 0
