"""Convenience-store / kiosk issuance and ward counters (コンビニ交付・キオスク端末・窓口交付).

`CertificateService` is the city's side: the issuance server's eligibility check, the fee
through the ledger, and a durable audit record per document, committed together. Kiosks
and counters (`Kiosk`, `CounterOffice` in `twin.services.kiosks`) add their own checks:
card authentication, hours, faults, staff windows. Every refusal is logged as an event and
changes no balance and no record.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from twin.errors import Conflict, TwinError, ValidationError
from twin.events import EventLog
from twin.identity import Identity
from twin.services import certificate_register as register
from twin.services.certificate_batch import PendingIssues
from twin.services.certificate_rules import (
    CERTIFICATE_TYPES,
    CertificateIssued,
    CertificateParams,
    CertificateRefused,
    CertificateType,
    CertificateVoided,
    Document,
    IssuanceServer,
    KioskFault,
    LowAssurance,
    NetworkDown,
    NotEligible,
    PaperOut,
    ServiceClosed,
    refusal_event,
    type_of,
)
from twin.services.param_dicts import require_int
from twin.services.payments import FeePayment, Ledger, Refund

if TYPE_CHECKING:
    from twin.population import City
    from twin.services.kiosks import CounterOffice, Kiosk

__all__ = [
    "CERTIFICATE_TYPES", "CertificateType", "CertificateParams", "CertificateService", "Document",
    "IssuanceServer", "NotEligible", "LowAssurance", "ServiceClosed", "KioskFault", "NetworkDown",
    "PaperOut", "CertificateIssued", "CertificateRefused", "CertificateVoided", "type_of",
]


def _same_request(doc: Document, rid: int, cert_type: str, copies: int, channel: str, site: int) -> None:
    """Refuse a reused request key whose request differs from the first one."""
    first = (doc.resident_id, doc.cert_type, doc.copies, doc.channel, doc.site)
    if first != (rid, cert_type, copies, channel, site):
        raise Conflict(f"request key {doc.request_key!r} already issued document {doc.doc_no} "
                       f"(resident {doc.resident_id}, {doc.cert_type} x{doc.copies} at {doc.channel} "
                       f"{doc.site}); this request differs; refused, nothing issued")


class CertificateService:
    """The city's issuance server and document register, on the ledger's store."""

    def __init__(self, residents: pl.DataFrame, ledger: Ledger | None = None,
                 params: CertificateParams | None = None, events: EventLog | None = None,
                 server: IssuanceServer | None = None) -> None:
        self.events = events if events is not None else EventLog()
        self.ledger = ledger if ledger is not None else Ledger.in_memory(events=self.events)
        self.params = params or CertificateParams()
        # `server`: the residents' issuance server already built (a copy of a template), else built here
        self.server = server if server is not None else IssuanceServer(residents)
        self.ledger.store.ensure_schema("certificates", register.SCHEMA)
        self._pending: PendingIssues | None = None
        self._held: PendingIssues | None = None  # a closed batch whose rows the store holds back

    @classmethod
    def from_city(cls, city: City, path: str | Path | None = None, params: CertificateParams | None = None,
                  events: EventLog | None = None) -> CertificateService:
        """A service for a built city: durable in a SQLite file at `path`, else in memory."""
        events = events if events is not None else EventLog()
        ledger = Ledger.open(path, events=events) if path is not None else Ledger.in_memory(events=events)
        return cls(city.residents, ledger, params, events)

    def kiosk(self, kiosk_id: int, ward: int, site_kind: str = "store") -> Kiosk:
        """A kiosk in a convenience store or a public building."""
        from twin.services.kiosks import Kiosk

        return Kiosk(kiosk_id, ward, self, site_kind)

    def counter(self, ward: int) -> CounterOffice:
        """The certificate counter of a ward office, with the configured staff windows."""
        from twin.services.kiosks import CounterOffice

        return CounterOffice(ward, self)

    def refused(self, identity: object, cert_type: object, channel: str, site: int, err: TwinError,
                now: float) -> TwinError:
        """Log a refusal and hand the error back for raising."""
        self.events.append(refusal_event(identity if isinstance(identity, Identity) else None,
                                         cert_type, channel, site, err, now))
        return err

    @contextmanager
    def batched(self) -> Iterator[CertificateService]:
        """Write issues in batches while open (see `certificate_batch`); everything is written on exit.

        Outcomes, documents and postings are those of the immediate path; only the number of
        transactions (and the PaymentsCommitted events, one per batch) differ. A store that
        already holds certificates is written immediately, as without this. On an in-memory
        store (a simulation's own) what waits at the end stays in memory until the store is next
        used (`Store.write_behind`): a run that never reads its book back never writes it."""
        if self._pending is not None:
            yield self
            return
        self._pending = PendingIssues.open(self.ledger)
        self._held = None
        try:
            yield self
            if self.ledger.store.durable:
                self.flush()
            elif self._pending is not None and self._pending.holds_back:
                self._held = self._pending
        finally:
            self._pending = None

    def flush(self) -> None:
        """Write the issues waiting in a batch, open or closed (nothing if none)."""
        for batch in (self._pending, self._held):
            if batch is not None:
                batch.flush()

    def find(self, request_key: str) -> Document | None:
        """The document a request key produced, or None."""
        if self._pending is not None:  # the store holds only what this batch issued
            return self._pending.document(request_key)
        with self.ledger.store.reading() as tx:
            return register.find(tx, request_key)

    def replay(self, request_key: str, identity: Identity, cert_type: str, copies: int, channel: str,
               site: int) -> Document | None:
        """The first answer to a repeated request key (or a Conflict if it differs); None if new."""
        doc = self.find(request_key)
        if doc is None:
            return None
        _same_request(doc, identity.resident_id, cert_type, copies, channel, site)
        return _replayed(doc)

    def issue(self, identity: Identity, cert_type: str, now: float, *, request_key: str, channel: str,
              site: int, window: int = -1, copies: int = 1, method: str = "cash") -> Document:
        """Check eligibility, take the fee and record the document in one transaction."""
        if not isinstance(request_key, str) or not request_key or len(request_key) > 100:
            raise ValidationError(f"request_key must be 1..100 characters, got {request_key!r}")
        require_int("copies", copies, 1, self.params.max_copies)
        rid = identity.resident_id
        self.server.check(rid, cert_type)
        fee = self.params.fee(cert_type, channel) * copies
        fee_req = FeePayment(f"cert:{request_key}", rid, cert_type, fee, channel, method, site) if fee else None
        pending = self._pending
        if pending is not None:
            if pending.accepts(fee_req):
                return self._issue_later(pending, identity, cert_type, now, request_key, channel, site,
                                         window, copies, fee, fee_req)
            pending.flush()  # a payment the ledger may refuse: the book first, then this one
        with self.ledger.transaction() as tx:
            first = register.find(tx, request_key)
            if first is not None:
                _same_request(first, rid, cert_type, copies, channel, site)
                return _replayed(first)
            results = self.ledger.post_in(tx, [fee_req], now) if fee_req else []
            if results and isinstance(results[0], TwinError):
                raise results[0]
            seq, doc_no = register.number(tx, channel, now)
            doc = Document(doc_no, request_key, rid, cert_type, copies, channel, site, window, fee,
                           fee_req.key if fee_req else "", identity.method, int(identity.assurance),
                           "issued", "", now)
            register.add(tx, seq, doc)
        if pending is not None:
            pending.written(doc, seq)
        if fee_req:
            self.ledger.record([fee_req], results, now)
        self.events.append(CertificateIssued(now, doc_no, rid, cert_type, channel, site, fee))
        return doc

    def _issue_later(self, pending: PendingIssues, identity: Identity, cert_type: str, now: float,
                     request_key: str, channel: str, site: int, window: int, copies: int, fee: int,
                     fee_req: FeePayment | None, new: bool = False) -> Document:
        """The immediate path's decision, with its fee and audit row left to the batch's flush (`new`: the
        caller found the key not yet issued in this batch, nothing having been issued since)."""
        first = None if new else pending.document(request_key)
        if first is not None:
            _same_request(first, identity.resident_id, cert_type, copies, channel, site)
            return _replayed(first)
        return Document(*self._issue_row(pending, identity, cert_type, now, request_key, channel, site, window,
                                         copies, fee, fee_req))

    def _issue_row(self, pending: PendingIssues, identity: Identity, cert_type: str, now: float, request_key: str,
                   channel: str, site: int, window: int, copies: int, fee: int, fee_req: FeePayment | tuple | None
                   ) -> tuple:
        """Issue a new request key in the batch: its register row (the new document's fields), kept by the batch
        (`fee_req`: the fee's request, or its fields in order)."""
        doc_no = register.doc_no(pending.next_seq, channel, now)
        rid = identity.resident_id
        fee_key = "" if not fee_req else fee_req[0] if type(fee_req) is tuple else fee_req.key  # (fields: the key first)
        row = (doc_no, request_key, rid, cert_type, copies, channel, site, window, fee, fee_key, identity.method,
               int(identity.assurance), "issued", "", now)
        pending.add_row(request_key, row, fee_req, now)
        self.events.append_fields(CertificateIssued, now, doc_no, rid, cert_type, channel, site, fee)
        return row

    def void(self, doc: Document, reason: str, now: float) -> Document:
        """Void a document that did not print and refund its fee, in one transaction."""
        pending = self._pending
        if pending is not None and pending.document(doc.request_key) == doc:
            voided = dataclasses.replace(doc, status="voided", reason=reason, replayed=False)
            if pending.void_waiting(voided, now):  # its row and fee still wait: so does the void
                self.events.append(CertificateVoided(now, doc.doc_no, doc.resident_id, reason))
                return dataclasses.replace(voided, replayed=doc.replayed)
        self.flush()
        refund = Refund(f"void:{doc.request_key}", doc.fee_key) if doc.fee_key else None
        with self.ledger.transaction() as tx:
            results = self.ledger.post_in(tx, [refund], now) if refund else []
            if results and isinstance(results[0], TwinError):
                raise results[0]
            register.void(tx, doc.doc_no, reason)
        if refund:
            self.ledger.record([refund], results, now)
        self.events.append(CertificateVoided(now, doc.doc_no, doc.resident_id, reason))
        voided = dataclasses.replace(doc, status="voided", reason=reason, replayed=False)
        if self._pending is not None:
            self._pending.written(voided)
        return dataclasses.replace(voided, replayed=doc.replayed)

    def document(self, doc_no: str) -> Document | None:
        """A document by number, or None."""
        self.flush()
        with self.ledger.store.reading() as tx:
            return register.get(tx, doc_no)

    def documents(self) -> pl.DataFrame:
        """The audit register, one row per document, in issue order."""
        known = self._pending if self._pending is not None else self._held
        if known is not None and (known is self._pending or known.holds_back):
            return register.columns_frame(*known.register())  # the batch knows the whole register (none when it opened)
        self.flush()
        with self.ledger.store.reading() as tx:
            return register.frame(tx)


def _replayed(doc: Document) -> Document:
    return dataclasses.replace(doc, replayed=True)
