"""Certificate issues decided one by one and written together (一括記帳): one transaction per batch.

While a `PendingIssues` is open on a `CertificateService`, an issue whose fee the ledger cannot
refuse (a valid cash payment with a new key) is decided at once, exactly as the immediate path
decides it (eligibility, fee, the next document number), and its fee posting and audit row wait
in memory; so does the void of a waiting document (its audit row is written voided, and the full
refund of its waiting fee, which the ledger cannot refuse either, waits in its place in the order).
`flush` writes everything waiting in one transaction, each posting dated at its own instant, in
order. Anything else (a wallet payment, a void of a written document) flushes first, and so does
any other transaction or read on the store (the waiting rows are the store's write-behind), so
everyone sees the book as the immediate path would have left it. The register itself is known
in memory (`register`) while the batch is open or its rows still wait. Open only on a store this
service is the only writer of while the batch is open, and whose register held no document and
the ledger no certificate fee or void refund when it opened (a scenario's own store): then a
request key is new exactly when this batch has not issued it, and no refusal can come from the store.
An issue may wait as its register row (`add_row`: a tuple of the document's fields) rather than as a
`Document`, and its fee as the fields of its `FeePayment`; each object is made only when someone reads it
(`document`, a void, a replay; the flush).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from twin.errors import TwinError
from twin.services import certificate_register as register
from twin.services.certificate_rules import Document
from twin.services.ledger_fast import fee_columns, fee_shape
from twin.services.ledger_requests import FeePayment, Refund
from twin.services.payments import Ledger

FLUSH_EVERY = 4096  # waiting issues written at most this many at a time (bounded memory)


class DeferredWriteRefused(RuntimeError):
    """The store refused a batch this service had already decided (another writer broke the rule)."""


@dataclass(slots=True)
class PendingIssues:
    """Issues decided but not yet written: their documents, fee requests and times, in order."""

    ledger: Ledger
    next_seq: int
    issued: dict[str, Document | tuple] = field(default_factory=dict)  # every key this batch issued (doc or row)
    seq_of: dict[str, int] = field(default_factory=dict)  # each issued key's sequence number
    docs: list[tuple[int, Document | tuple]] = field(default_factory=list)
    fees: list[FeePayment | tuple | Refund] = field(default_factory=list)  # a fee as a request or its fields
    times: list[float] = field(default_factory=list)
    verdicts: dict[tuple, bool] = field(default_factory=dict)  # the ledger's verdict per request shape
    waiting: dict[str, int] = field(default_factory=dict)  # key -> index in `docs` of a document not yet written
    limit: int | None = FLUSH_EVERY  # waiting issues written at most this many at a time (None: no bound)

    @classmethod
    def open(cls, ledger: Ledger) -> PendingIssues | None:
        """A batch on this ledger, or None if its store already holds certificates or their fees."""
        if ledger.store.untouched:  # an in-memory store never used: its tables are empty
            return cls(ledger, 1, limit=None)
        with ledger.store.reading() as tx:
            docs = tx.scalar("SELECT COUNT(*) FROM certificate_documents")
            fees = tx.scalar("SELECT COUNT(*) FROM ledger_postings WHERE idem_key LIKE 'cert:%' "
                             "OR idem_key LIKE 'void:%'")
        if docs or fees:
            return None
        return cls(ledger, 1, limit=FLUSH_EVERY if ledger.store.durable else None)

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

    def document(self, key: str) -> Document | None:
        """The document this batch issued for a request key (made from its row if it waits as one), or None."""
        doc = self.issued.get(key)
        if type(doc) is tuple:
            doc = self.issued[key] = Document(*doc)
        return doc

    def add(self, doc: Document, fee_req: FeePayment | None, now: float) -> None:
        """Keep a decided issue until the next flush (flushing when enough are waiting)."""
        self.add_row(doc.request_key, doc, fee_req, now)

    def add_row(self, key: str, doc: Document | tuple, fee_req: FeePayment | tuple | None, now: float) -> None:
        """`add` of an issue given as its document or its register row (the document's fields, in order), its fee
        as a request or the request's fields (in order; one the batch accepts)."""
        docs, seq = self.docs, self.next_seq
        self.issued[key] = doc
        self.seq_of[key] = seq
        self.waiting[key] = waiting = len(docs)
        docs.append((seq, doc))
        self.next_seq = seq + 1
        if fee_req is not None:
            self.fees.append(fee_req)
            self.times.append(now)
        if not waiting:
            self.ledger.store.write_behind(self.flush)  # any other access to the store writes them first
        if self.limit is not None and waiting >= self.limit - 1:
            self.flush()

    def void_waiting(self, voided: Document, now: float) -> bool:
        """Void a document that still waits (its row is written voided, its fee's full refund waits in
        order); False if it does not wait or its refund is not one the ledger takes as given."""
        key = voided.request_key
        at = self.waiting.get(key)
        if at is None:
            return False
        refund = Refund(f"void:{key}", voided.fee_key) if voided.fee_key else None
        if refund is not None:
            try:
                refund.row(self.ledger.params)  # the ledger's own validation of the request
            except TwinError:
                return False
            self.fees.append(refund)
            self.times.append(now)
        seq, _ = self.docs[at]
        self.docs[at] = (seq, voided)
        self.issued[key] = voided
        return True

    def written(self, doc: Document, seq: int | None = None) -> None:
        """Note a document the immediate path wrote (or voided) while this batch is open."""
        self.issued[doc.request_key] = doc
        if seq is not None:
            self.seq_of[doc.request_key] = seq
            self.next_seq = seq + 1

    def register(self) -> tuple[list[int], list[Document | tuple]]:
        """The register as the store holds it once everything waiting is written, as two columns: the
        sequence numbers and the documents (or their rows), in sequence order."""
        seqs, docs = list(map(self.seq_of.__getitem__, self.issued)), list(self.issued.values())
        ordered = sorted(seqs)
        if seqs != ordered:  # issued in sequence order, unless told otherwise (`written`)
            at = sorted(range(len(seqs)), key=seqs.__getitem__)
            seqs, docs = ordered, [docs[j] for j in at]
        return seqs, docs

    def flush(self) -> None:
        """Write every waiting posting and audit row in one transaction, in order."""
        if not self.docs:
            return
        store = self.ledger.store
        if store.behind == self.flush:
            store.write_behind(None)
        fees, times = [FeePayment(*f) if type(f) is tuple else f for f in self.fees], self.times  # rows made requests
        with self.ledger.transaction() as tx:
            results = _post_in_order(self.ledger, tx, fees, times)
            refused = [r for r in results if isinstance(r, TwinError) or r.replayed]
            if refused:
                raise DeferredWriteRefused(f"the ledger refused {len(refused)} fee(s) of issues already "
                                           f"decided (first: {refused[0]}); another writer used this "
                                           "store while certificates were batched")
            register.add_many(tx, self.docs)
        if fees:
            self.ledger.record(fees, results, times[-1])
        self.docs, self.fees, self.times = [], [], []
        self.waiting.clear()

    @property
    def holds_back(self) -> bool:
        """Whether rows wait unwritten (then the store has not been used since: `register` is its register)."""
        return bool(self.docs)


def _post_in_order(ledger: Ledger, tx: object, requests: list[FeePayment | Refund], times: list[float]) -> list:
    """Post the waiting requests in order inside `tx`: each run of fees together, each refund alone."""
    results: list = []
    start = 0
    for end in [i for i, r in enumerate(requests) if type(r) is Refund] + [len(requests)]:
        for lo, hi in ((start, end), (end, end + 1)):
            part = requests[lo:hi]
            if part:
                results += ledger.post_in(tx, part, times[hi - 1], times=times[lo:hi])
        start = end + 1
    return results
