"""Certificates issued in batches decide, number, post and record exactly as one transaction per
issue does: the same answers, documents, postings (each dated at its own instant), balances and
events, except that one PaymentsCommitted event covers each batch."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tests.services.pay_helpers import T0, snapshot
from twin.errors import TwinError
from twin.identity import Assurance, Identity
from twin.services import certificate_batch
from twin.services.certificates import CertificateParams, CertificateService
from twin.services.ledger_fast import fee_columns
from twin.services.ledger_requests import FeePayment
from twin.services.payments import PaymentsCommitted

TABLES = ("ledger_accounts", "ledger_postings", "ledger_entries", "ledger_refunds", "certificate_documents")
TYPES = ("residence_record", "tax_certificate", "seal_registration", "family_register", "no_such_type")


def _login(rid: int, now: float) -> Identity:
    return Identity(rid, "jpki_user_cert", Assurance.HIGH, now - 20, 10**9 + rid)


def _script(city, n: int, seed: int) -> list[tuple]:
    """A mixed day: kiosk and counter requests, wallet payments, repeated and altered keys."""
    rng = np.random.default_rng(seed)
    rids = city.residents.filter(pl.col("has_card"))["resident_id"].to_list()[:40]
    steps: list[tuple] = []
    for i in range(n):
        rid = int(rids[rng.integers(len(rids))])
        step = (("kiosk", "counter")[int(rng.random() < 0.3)], rid, TYPES[rng.integers(len(TYPES))],
                f"r{i}", int(rng.integers(1, 3)), ("cash", "wallet")[int(rng.random() < 0.15)],
                T0 + 7.5 * i, int(rng.integers(3)))
        if steps and rng.random() < 0.1:  # a key comes again: the same request, or an altered one
            again = steps[rng.integers(len(steps))]
            step = (*again[:6], step[6], again[7]) if rng.random() < 0.5 else step[:3] + again[3:4] + step[4:]
        steps.append(step)
    return steps


def _play(svc: CertificateService, steps: list[tuple], seed: int) -> list[object]:
    """Every answer of the script: the document, or the refusal's class and message."""
    rng = np.random.default_rng(seed)
    kiosks, counters = [svc.kiosk(k, k) for k in range(3)], [svc.counter(w) for w in range(3)]
    for rid in sorted({s[1] for s in steps})[::3]:
        svc.ledger.top_up(f"fund-{rid}", rid, 1_000, T0 - 60)
    out: list[object] = []
    for channel, rid, cert, key, copies, method, now, site in steps:
        try:
            if channel == "kiosk":
                kiosks[site].refill()
                doc = kiosks[site].request(_login(rid, now), cert, now, rng, request_key=key, copies=copies,
                                           method=method)
            else:
                doc = counters[site].request(_login(rid, now), cert, now, request_key=key, window=0,
                                             copies=copies, method=method)
            out.append(doc)
        except TwinError as err:
            out.append((type(err).__name__, str(err)))
    return out


def _events(svc: CertificateService) -> list[object]:
    return [e for e in svc.events if not isinstance(e, PaymentsCommitted)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batched_issues_give_the_same_answers_book_and_events_as_one_transaction_each(
        small_city, monkeypatch, seed):
    monkeypatch.setattr(certificate_batch, "FLUSH_EVERY", 7)  # several batches in one day
    params = CertificateParams(kiosk_p_network_down=0.05, kiosk_p_paper_out=0.05)
    steps = _script(small_city, 160, seed)
    one = CertificateService(small_city.residents, params=params)
    many = CertificateService(small_city.residents, params=params)
    expected = _play(one, steps, seed)
    with many.batched():
        got = _play(many, steps, seed)
        assert many._pending is not None and many._pending.issued  # it did batch
    assert got == expected
    assert snapshot(many.ledger.store, TABLES) == snapshot(one.ledger.store, TABLES)
    assert _events(many) == _events(one)
    assert many.documents().equals(one.documents())
    assert len(many.events.of(PaymentsCommitted)) < len(one.events.of(PaymentsCommitted))
    assert many.ledger.reconcile().ok
    kinds = {a[0] if isinstance(a, tuple) else ("replayed" if a.replayed else a.status) for a in expected}
    assert kinds >= {"issued", "replayed", "PaperOut", "NotEligible", "InsufficientFunds", "Conflict"}
    assert "voided" in set(one.documents()["status"])


def test_a_register_that_already_holds_documents_is_written_at_once(small_city):
    svc = CertificateService(small_city.residents)
    rid = int(small_city.residents.filter(pl.col("has_card"))["resident_id"][0])
    svc.counter(0).request(_login(rid, T0), "residence_record", T0, request_key="before", window=0)
    with svc.batched():
        svc.counter(0).request(_login(rid, T0 + 1), "residence_record", T0 + 1, request_key="during", window=0)
        assert svc._pending is None
        assert svc.documents()["request_key"].to_list() == ["before", "during"]


def test_reading_the_register_in_a_batch_sees_every_issue_so_far(small_city):
    svc = CertificateService(small_city.residents)
    rid = int(small_city.residents.filter(pl.col("has_card"))["resident_id"][0])
    with svc.batched():
        doc = svc.counter(1).request(_login(rid, T0), "residence_record", T0, request_key="a", window=0)
        assert svc.document(doc.doc_no) == doc
        assert svc.ledger.balance("cash:counter:1") == doc.fee_yen


def test_a_fee_waits_for_the_batch_exactly_when_the_ledger_would_take_it_as_given(small_city):
    svc = CertificateService(small_city.residents)
    with svc.batched():
        pending = svc._pending
        good = ("cert:k1", 7, "residence_record", 300, "kiosk", "cash", 3)
        odd = [("cert:k2", 7, "residence_record", 300, "kiosk", "wallet", 3),
               ("cert:" + "x" * 200, 7, "residence_record", 300, "kiosk", "cash", 3),
               ("cert:k\n3", 7, "residence_record", 300, "kiosk", "cash", 3),
               ("cert:k4", -7, "residence_record", 300, "kiosk", "cash", 3),
               ("cert:k5", True, "residence_record", 300, "kiosk", "cash", 3),
               ("cert:k6", 7, "no_such_fee", 300, "kiosk", "cash", 3),
               ("cert:k7", 7, "residence_record", 0, "kiosk", "cash", 3),
               ("cert:k8", 7, "residence_record", 300, "kiosk", "card", 3),
               ("cert:k9", 7, "residence_record", 300, "kiosk", "cash", -3),
               ("", 7, "residence_record", 300, "kiosk", "cash", 3),
               ("cert:k10", 7, "residence_record", 300_001, "kiosk", "cash", 3),
               ("cert:k11", 7, "residence_record", 300, "kiosk", "cash", 3.0),
               ("cert:k12", 7, "residence_record", 300.0, "kiosk", "cash", 3),
               (b"cert:k13", 7, "residence_record", 300, "kiosk", "cash", 3)]
        alike = [good[:1] + (8,) + good[2:], good[:3] + (1,) + good[4:], good[:3] + (300_000,) + good[4:],
                 good[:6] + (0,), good[:6] + (99,), ("cert:other",) + good[1:]]
        for fields in [good, *odd, *alike]:
            req = FeePayment(*fields)
            want = fields[5] != "wallet" and fee_columns([req], svc.ledger.params) is not None
            assert pending.accepts(req) == want, fields
        assert pending.accepts(FeePayment(*good)) and not any(pending.accepts(FeePayment(*f)) for f in odd)
        assert all(pending.accepts(FeePayment(*f)) for f in alike)
        assert not pending.accepts(FeePayment("cert:k14", 7, "residence_record", 300, "kiosk", ["cash"], 3))


def test_the_batch_register_reads_its_documents_in_sequence_order_whatever_order_they_were_noted_in(small_city):
    svc = CertificateService(small_city.residents)
    with svc.batched():
        pending = svc._pending
        rid = int(small_city.residents["resident_id"][0])
        for key in ("a", "b", "c"):
            svc.counter(0).request(Identity(rid, "counter_photo_id", Assurance.HIGH, T0), "residence_record", T0,
                                   request_key=key, window=0)
        pending.seq_of["a"] = 9  # as if "a" had been written later, under a later number
        seqs, docs = pending.register()
        keys = [d[1] if type(d) is tuple else d.request_key for d in docs]  # a document, or its register row
        assert seqs == [2, 3, 9] and keys == ["b", "c", "a"]
