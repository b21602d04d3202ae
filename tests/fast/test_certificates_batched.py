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
    over = {"scale": 0.01, "kiosk_p_paper_out": 0.05}  # paper outs: voids flush in the middle
    batched = [decided(engine, 4, **over) for engine in ("fast", "simpy")]
    monkeypatch.setattr(CertificateService, "batched", _one_transaction_each)
    each = [decided(engine, 4, **over) for engine in ("fast", "simpy")]
    for b, e in zip(batched, each, strict=True):
        assert b["counts"]["kiosk_faults"] > 0
        assert e["events"].pop(PaymentsCommitted.__name__) > b["events"].pop(PaymentsCommitted.__name__)
        assert (b["seats"], b["events"], b["counts"], b["decided"]) == (e["seats"], e["events"], e["counts"],
                                                                       e["decided"])
