"""The certificate peak decides the same with its issues written in batches as with one
transaction per issue: seats, KPIs, frames, documents and events (but PaymentsCommitted)."""

from __future__ import annotations

from contextlib import contextmanager

from tests.fast.test_certificates_engines import decided
from twin.services.certificates import CertificateService
from twin.services.payments import PaymentsCommitted


@contextmanager
def _one_transaction_each(self):
    yield self


def test_batched_issues_decide_exactly_as_one_transaction_per_issue(monkeypatch):
    over = {"scale": 0.01, "kiosk_p_paper_out": 0.05}  # paper outs: voids in the middle of a batch
    batched = [decided(engine, 4, **over) for engine in ("fast", "simpy")]
    monkeypatch.setattr(CertificateService, "batched", _one_transaction_each)
    each = [decided(engine, 4, **over) for engine in ("fast", "simpy")]
    for b, e in zip(batched, each, strict=True):
        assert b["counts"]["kiosk_faults"] > 0
        # the run never reads its book back: its rows are held back, unwritten (none committed)
        assert e["events"].pop(PaymentsCommitted.__name__) > b["events"].pop(PaymentsCommitted.__name__, 0)
        assert (b["seats"], b["events"], b["counts"], b["decided"]) == (e["seats"], e["events"], e["counts"],
                                                                       e["decided"])


def test_a_run_holds_its_book_back_and_writes_the_same_book_when_it_is_read(monkeypatch):
    from scenarios.certificates import simulate
    from scenarios.runner import make_params
    from tests.services.pay_helpers import snapshot
    from tests.services.test_certificate_batch import TABLES

    p = make_params("certificates", "full", overrides={"scale": 0.01, "city_seed": 1, "days": 1, "demand_share": 0.05,
                                                       "kiosk_p_paper_out": 0.05, "engine": "fast"})
    held, _, _ = simulate(p, 5)
    store = held.service.ledger.store
    assert store.behind is not None  # the run wrote nothing
    documents = held.service.documents()  # from memory
    assert store.behind is not None and "voided" in set(documents["status"])
    monkeypatch.setattr(CertificateService, "batched", _one_transaction_each)
    each, _, _ = simulate(p, 5)
    assert snapshot(store, TABLES) == snapshot(each.service.ledger.store, TABLES)  # written on this read
    assert documents.equals(each.service.documents()) and held.service.documents().equals(documents)
