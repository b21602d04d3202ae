"""Certificate issues decided one by one and written together (一括記帳): one transaction per batch.

While a `PendingIssues` is open on a `CertificateService`, an issue whose fee the ledger cannot
refuse (a valid cash payment with a new key) is decided at once, exactly as the immediate path
decides it (eligibility, fee, the next document number), and its fee posting and audit row wait
in memory; `flush` writes every waiting issue in one transaction, each posting dated at its own
instant, in issue order. Anything else (a wallet payment, a void, a read of the register) flushes
first, so it sees the book as the immediate path would have left it. Open only on a store this
service is the only writer of while the batch is open, and whose register held no document and
the ledger no certificate fee when it opened (a scenario's own store): then a request key is new
exactly when this batch has not issued it, and no refusal can come from the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from twin.errors import TwinError
from twin.services import certificate_register as register
from twin.services.certificate_rules import Document
from twin.services.ledger_fast import fee_columns, fee_shape
from twin.services.ledger_requests import FeePayment
from twin.services.payments import Ledger

FLUSH_EVERY = 4096  # waiting issues written at most this many at a time (bounded memory)


class DeferredWriteRefused(RuntimeError):
    """The store refused a batch this service had already decided (another writer broke the rule)."""


@dataclass(slots=True)
class PendingIssues:
    """Issues decided but not yet written: their documents, fee requests and times, in order."""

    ledger: Ledger
    next_seq: int
    issued: dict[str, Document] = field(default_factory=dict)  # every key this batch issued
    docs: list[tuple[int, Document]] = field(default_factory=list)
    fees: list[FeePayment] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    verdicts: dict[tuple, bool] = field(default_factory=dict)  # the ledger's verdict per request shape

    @classmethod
    def open(cls, ledger: Ledger) -> PendingIssues | None:
        """A batch on this ledger, or None if its store already holds certificates or their fees."""
        with ledger.store.reading() as tx:
            docs = tx.scalar("SELECT COUNT(*) FROM certificate_documents")
            fees = tx.scalar("SELECT COUNT(*) FROM ledger_postings WHERE idem_key LIKE 'cert:%'")
        return cls(ledger, 1) if not docs and not fees else None

    def accepts(self, fee_req: FeePayment | None) -> bool:
        """Whether this issue's fee can wait: none, or a valid non-wallet payment (never refused).

        Validity is the ledger's own check (`fee_columns`), remembered per `fee_shape`."""
        if fee_req is None:
            return True
        shape = fee_shape(fee_req, self.ledger.params)
        try:
            verdict = self.verdicts.get(shape)
        except TypeError:  # an unhashable field: the immediate path gives the ledger's own answer
            return False
        if verdict is None:
            verdict = self.verdicts[shape] = (fee_req.method != "wallet" and
                                              fee_columns([fee_req], self.ledger.params) is not None)
        return verdict

    def add(self, doc: Document, fee_req: FeePayment | None, now: float) -> None:
        """Keep a decided issue until the next flush (flushing when enough are waiting)."""
        self.issued[doc.request_key] = doc
        self.docs.append((self.next_seq, doc))
        self.next_seq += 1
        if fee_req is not None:
            self.fees.append(fee_req)
            self.times.append(now)
        if len(self.docs) >= FLUSH_EVERY:
            self.flush()

    def written(self, doc: Document, seq: int | None = None) -> None:
        """Note a document the immediate path wrote (or voided) while this batch is open."""
        self.issued[doc.request_key] = doc
        if seq is not None:
            self.next_seq = seq + 1

    def flush(self) -> None:
        """Write every waiting fee and audit row in one transaction, in issue order."""
        if not self.docs:
            return
        fees, times = self.fees, self.times
        with self.ledger.transaction() as tx:
            results = self.ledger.post_in(tx, fees, times[-1], times=times) if fees else []
            refused = [r for r in results if isinstance(r, TwinError) or r.replayed]
            if refused:
                raise DeferredWriteRefused(f"the ledger refused {len(refused)} fee(s) of issues already "
                                           f"decided (first: {refused[0]}); another writer used this "
                                           "store while certificates were batched")
            register.add_many(tx, self.docs)
        if fees:
            self.ledger.record(fees, results, times[-1])
        self.docs, self.fees, self.times = [], [], []
