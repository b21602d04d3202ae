"""A batch of certificate issues on a simulation's in-memory store is held back until the store is next
used (write-behind), voids of waiting documents wait with it, and every answer, book row, document and
event (but PaymentsCommitted) is the one a transaction per issue gives; a durable store is written at
the batch's end as before."""

from __future__ import annotations

import sqlite3

import polars as pl
import pytest

from tests.services.pay_helpers import T0, snapshot
from tests.services.test_certificate_batch import TABLES, _events, _login, _play, _script
from twin.errors import TwinError
from twin.services import certificate_batch
from twin.services import certificate_register as register
from twin.services.certificates import CertificateParams, CertificateService
from twin.services.payments import Ledger, PaymentsCommitted
from twin.store import Store

PAPER_OUTS = CertificateParams(kiosk_p_network_down=0.05, kiosk_p_paper_out=0.08)


def _cash_only(steps: list[tuple]) -> list[tuple]:
    """The script with every payment in cash (nothing the batch must write at once)."""
    return [(*s[:5], "cash", *s[6:]) for s in steps]


def _rid(city) -> int:
    return int(city.residents.filter(pl.col("has_card"))["resident_id"][0])


@pytest.mark.parametrize("seed", [1, 2])
def test_a_simulation_store_holds_the_batch_back_until_it_is_next_used(small_city, seed):
    steps = _cash_only(_script(small_city, 160, seed))
    one = CertificateService(small_city.residents, params=PAPER_OUTS)
    many = CertificateService(small_city.residents, params=PAPER_OUTS)
    expected = _play(one, steps, seed)
    with many.batched():
        got = _play(many, steps, seed)
    store = many.ledger.store
    assert got == expected
    assert store.behind is not None  # nothing written yet
    held = many.documents()  # answered from memory: the store is still untouched
    assert store.behind is not None and held.equals(one.documents())
    assert "voided" in set(held["status"])  # paper outs voided documents that were still waiting
    assert snapshot(store, TABLES) == snapshot(one.ledger.store, TABLES)  # the read writes them first
    assert store.behind is None
    with store.reading() as tx:
        assert register.frame(tx).equals(held)
    top_ups = len(sorted({s[1] for s in steps})[::3])  # `_play` funds some wallets first, one commit each
    assert _events(many) == _events(one) and len(many.events.of(PaymentsCommitted)) == top_ups + 1
    assert many.ledger.reconcile().ok


def test_a_durable_store_is_written_when_the_batch_ends(small_city, tmp_path, monkeypatch):
    monkeypatch.setattr(certificate_batch, "FLUSH_EVERY", 7)  # several batches in one day
    steps = _script(small_city, 120, 5)
    one = CertificateService(small_city.residents, params=PAPER_OUTS)
    many = CertificateService.from_city(small_city, tmp_path / "book.db", params=PAPER_OUTS)
    expected = _play(one, steps, 5)
    with many.batched():
        got = _play(many, steps, 5)
    assert got == expected and many.ledger.store.behind is None
    again = Ledger.open(tmp_path / "book.db")  # another connection sees every row
    assert snapshot(again.store, TABLES) == snapshot(one.ledger.store, TABLES)
    assert many.documents().equals(one.documents())


def test_a_document_voided_twice_is_answered_the_second_time_as_without_a_batch(small_city):
    rid, answers, books = _rid(small_city), [], []
    for batched in (False, True):
        svc = CertificateService(small_city.residents)
        with svc.batched() if batched else _nothing():
            doc = svc.kiosk(0, 0).request(_login(rid, T0), "residence_record", T0, _NoFault(),
                                          request_key="twice")
            first = svc.void(doc, "paper out", T0 + 1)
            try:  # the refund's key comes again: the ledger replays it
                second: object = svc.void(doc, "paper out", T0 + 2)
            except TwinError as err:
                second = (type(err).__name__, str(err))
            answers.append((first, second))
        books.append((snapshot(svc.ledger.store, TABLES), svc.documents().to_dicts(), _events(svc)))
    assert answers[0] == answers[1] and books[0] == books[1]
    assert answers[0][0].status == "voided" and "PaymentReplayed" in {type(e).__name__ for e in books[0][2]}


def test_reading_the_ledger_in_a_batch_sees_the_waiting_fees(small_city):
    svc = CertificateService(small_city.residents)
    rid = _rid(small_city)
    with svc.batched():
        doc = svc.counter(1).request(_login(rid, T0), "residence_record", T0, request_key="a", window=0)
        assert svc.ledger.store.behind is not None
        assert svc.ledger.balance("cash:counter:1") == doc.fee_yen  # the read wrote the waiting rows first
        assert svc.ledger.store.behind is None


def test_an_issue_after_the_batch_is_numbered_after_the_held_back_ones(small_city):
    rid, frames = _rid(small_city), []
    for batched in (False, True):
        svc = CertificateService(small_city.residents)
        with svc.batched() if batched else _nothing():
            for k in range(3):
                svc.counter(0).request(_login(rid, T0 + k), "residence_record", T0 + k, request_key=f"k{k}",
                                       window=0)
        late = svc.counter(0).request(_login(rid, T0 + 9), "residence_record", T0 + 9, request_key="late",
                                      window=0)
        assert late.doc_no.endswith("000000004")
        frames.append((svc.documents().to_dicts(), snapshot(svc.ledger.store, TABLES)))
    assert frames[0] == frames[1]


class _NoFault:
    """A kiosk's fault draws that never fault (network up, paper in)."""

    def random(self) -> float:
        return 0.99


class _nothing:
    """A context that does nothing (the immediate path)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _held_back_row(store: Store) -> list[str]:
    """Hold back one row of a table `t` on the store; the list says when it was written."""
    store.ensure_schema("t", ("CREATE TABLE IF NOT EXISTS t (x TEXT)",))
    written: list[str] = []

    def flush() -> None:
        with store.transaction() as tx:
            tx.execute("INSERT INTO t (x) VALUES ('held')")
        written.append("held")

    store.write_behind(flush)
    return written


def test_the_rows_a_store_holds_back_are_written_once_before_its_next_read_or_write():
    store = Store.memory()
    written = _held_back_row(store)
    assert written == [] and store.behind is not None
    with store.reading() as tx:
        assert tx.query("SELECT x FROM t") == [("held",)]
    with store.transaction() as tx:
        tx.execute("INSERT INTO t (x) VALUES ('next')")
    with store.reading() as tx:
        assert tx.query("SELECT x FROM t") == [("held",), ("next",)]
    assert written == ["held"] and store.behind is None


def test_closing_a_store_writes_a_durable_one_and_drops_an_in_memory_one(tmp_path):
    durable = Store.sqlite(tmp_path / "held.db")
    written = _held_back_row(durable)
    durable.close()
    assert written == ["held"]
    with Store.sqlite(tmp_path / "held.db") as again, again.reading() as tx:
        assert tx.query("SELECT x FROM t") == [("held",)]
    memory = Store.memory()
    written = _held_back_row(memory)
    memory.close()
    assert written == [] and memory.behind is None
    with pytest.raises(sqlite3.ProgrammingError):
        with memory.reading():
            pass
