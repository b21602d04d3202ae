"""Kiosks (キオスク端末, in stores and public buildings) and ward counters (窓口) that issue certificates.

A kiosk needs full card authentication (JPKI user certificate + PIN, Assurance.HIGH, fresh),
checks its hours, may lose the network or run out of paper (rates in CertificateParams, the
rng passed in), and takes the fee (cash into the store's clearing, or the wallet). A counter
checks identity to the configured level, serves at one of its staff windows in office hours,
and takes the fee in cash into the ward's drawer (or from the wallet).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from twin.errors import TwinError, ValidationError
from twin.identity import Assurance, Identity
from twin.services.certificate_rules import (
    LowAssurance,
    NetworkDown,
    PaperOut,
    ServiceClosed,
    type_of,
)
from twin.services.certificates import CertificateService, Document
from twin.services.param_dicts import require_int

_COPIES = [f.name for f in dataclasses.fields(Document)].index("copies")  # where a register row holds them

KIOSK_METHOD = "jpki_user_cert"  # the only identity a kiosk accepts
SITE_KINDS = ("store", "public")


def _identity(identity: object) -> Identity:
    if not isinstance(identity, Identity):
        raise ValidationError(f"an established Identity is required, got {type(identity).__name__}")
    return identity


class Kiosk:
    """One kiosk: card-authenticated requests, hours, faults, fee, printing."""

    def __init__(self, kiosk_id: int, ward: int, service: CertificateService, site_kind: str = "store") -> None:
        require_int("kiosk_id", kiosk_id, 0)
        require_int("ward", ward, 0)
        if site_kind not in SITE_KINDS:
            raise ValidationError(f"site_kind must be one of {SITE_KINDS}, got {site_kind!r}")
        self.kiosk_id, self.ward, self.site_kind, self.service = kiosk_id, ward, site_kind, service
        self.paper_out = False
        self.printed = 0

    def request(self, identity: Identity, cert_type: str, now: float, rng: np.random.Generator, *,
                request_key: str, copies: int = 1, method: str = "cash") -> Document:
        """Issue a certificate, or raise the refusal (logged; no fee kept, no document issued)."""
        try:
            ident = _identity(identity)
            first = self.service.replay(request_key, ident, cert_type, copies, "kiosk", self.kiosk_id)
            if first is not None:
                return first
            self._admit(ident, cert_type, now, rng)
            doc = self.service.issue(ident, cert_type, now, request_key=request_key, channel="kiosk",
                                     site=self.kiosk_id, copies=copies, method=method)
            return self._print(doc, now, rng)
        except TwinError as err:
            raise self.service.refused(identity, cert_type, "kiosk", self.kiosk_id, err, now) from None

    def _admit(self, ident: Identity, cert_type: str, now: float, rng: np.random.Generator) -> None:
        """Everything checked before the fee: authentication, offer, hours, paper, network."""
        p = self.service.params
        t = type_of(cert_type)
        if ident.assurance < Assurance.HIGH or ident.method != KIOSK_METHOD:
            raise LowAssurance(f"a kiosk needs card authentication with the user certificate and PIN "
                               f"(assurance HIGH); got {ident.method} at {ident.assurance.name}")
        if ident.at > now:
            raise LowAssurance(f"the card authentication is dated {ident.at - now:.0f} s after this request; "
                               "refused")
        if now - ident.at > p.kiosk_session_s:
            raise LowAssurance(f"the card authentication is {now - ident.at:.0f} s old; a kiosk accepts one "
                               f"from the last {p.kiosk_session_s:.0f} s; authenticate again")
        if t.name not in p.kiosk_certificate_types:
            raise ValidationError(f"{t.name} ({t.name_ja}) is not offered at this city's kiosks; "
                                  "ask at a ward counter")
        windows = p.windows()
        for key in ("kiosk", "kiosk_family_register") if t.family_register else ("kiosk",):
            reason = windows[key].closed_reason(now)
            if reason:
                raise ServiceClosed(reason)
        if self.paper_out:
            raise PaperOut(f"kiosk {self.kiosk_id} is out of paper and out of service until refilled")
        self._reach_server(rng)

    def _reach_server(self, rng: np.random.Generator) -> None:
        """The kiosk reaches the issuance server, or NetworkDown (one draw)."""
        if rng.random() < self.service.params.kiosk_p_network_down:
            raise NetworkDown(f"kiosk {self.kiosk_id} could not reach the issuance server; nothing was "
                              "charged; try again or use another kiosk")

    def _print(self, doc: Document | tuple, now: float, rng: np.random.Generator) -> Document | tuple:
        """Print (a document, or its register row); if the paper runs out the document is voided and its fee
        refunded."""
        if rng.random() < self.service.params.kiosk_p_paper_out:
            if type(doc) is tuple:  # a row: its document is made only to be voided
                doc = Document(*doc)
            self.paper_out = True
            self.service.void(doc, "paper out", now)
            raise PaperOut(f"kiosk {self.kiosk_id} ran out of paper printing {doc.doc_no}; the document is "
                           f"voided and the fee of ¥{doc.fee_yen:,} refunded")
        self.printed += doc[_COPIES] if type(doc) is tuple else doc.copies
        return doc

    def refill(self) -> None:
        """Staff refill the paper; the kiosk serves again."""
        self.paper_out = False

    def service_times(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """`n` service durations in seconds (exponential around the configured mean)."""
        return rng.exponential(self.service.params.kiosk_service_mean_s, n)


class CounterOffice:
    """A ward office's certificate counter: staff windows, office hours, identity check, fee."""

    def __init__(self, ward: int, service: CertificateService) -> None:
        require_int("ward", ward, 0)
        self.ward, self.service = ward, service
        self.windows = service.params.counter_windows_per_ward

    def request(self, identity: Identity, cert_type: str, now: float, *, request_key: str, window: int,
                copies: int = 1, method: str = "cash") -> Document:
        """Issue a certificate at a staff window, or raise the refusal (logged; nothing changed)."""
        try:
            ident = _identity(identity)
            first = self.service.replay(request_key, ident, cert_type, copies, "counter", self.ward)
            if first is not None:
                return first
            self._admit(ident, cert_type, now, window)
            return self.service.issue(ident, cert_type, now, request_key=request_key, channel="counter",
                                      site=self.ward, window=window, copies=copies, method=method)
        except TwinError as err:
            raise self.service.refused(identity, cert_type, "counter", self.ward, err, now) from None

    def _admit(self, ident: Identity, cert_type: str, now: float, window: int) -> None:
        p = self.service.params
        type_of(cert_type)
        if isinstance(window, bool) or not isinstance(window, int) or not 0 <= window < self.windows:
            raise ValidationError(f"ward {self.ward} has staff windows 0..{self.windows - 1}, got {window!r}")
        reason = p.windows()["counter"].closed_reason(now)
        if reason:
            raise ServiceClosed(reason)
        if ident.assurance < p.counter_min_assurance:
            raise LowAssurance(f"the counter needs identity checked to {Assurance(p.counter_min_assurance).name} "
                               f"(e.g. photo ID); got {ident.method} at {ident.assurance.name}")

    def service_times(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """`n` service durations in seconds at one window (exponential around the configured mean)."""
        return rng.exponential(self.service.params.counter_service_mean_s, n)
