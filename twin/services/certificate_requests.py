"""Many certificate requests at kiosks and counters decided in one call (columns in, columns out).

`request_many` answers each row exactly as `Kiosk.request` / `CounterOffice.request` would if
called row by row in the given order: the same documents and numbers, refusals, events, fee
postings and kiosk states. What no row of a batch can change is read for the whole batch first:
who may have which certificate (at once), whether the row's own windows are open at its instant
(`Window.is_open`, which answers most instants from the span it knows is open), and whether
the open batch of issues can hold each row's fee (the ledger's own check on all the fees at
once, else row by row). A row in the common case (an open batch of issues, a new request key, an
identity strong and fresh enough, the type offered, hours open, an eligible resident, a fee the
batch can hold) is then decided inline by the offices' own steps; only the steps that can still
refuse it (the kiosk's network and paper draws) are left to raise. Every other row, and every row
of a call whose offices do not share one service, goes through the per-request method itself.
The common case is tested before a row changes anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from operator import attrgetter
from typing import Any

from twin.errors import TwinError
from twin.identity import Assurance, Identity
from twin.services.certificate_batch import PendingIssues
from twin.services.certificate_rules import CERTIFICATE_TYPES, CertificateParams, Document
from twin.services.certificates import CertificateService
from twin.services.kiosks import KIOSK_METHOD, CounterOffice, Kiosk
from twin.services.ledger_fast import valid_fee_columns
from twin.services.ledger_requests import FeePayment

_KEY_CHARS = 100  # `CertificateService.issue` takes request keys of 1..100 characters
_SERVICE = attrgetter("service")
_RID = attrgetter("resident_id")
_HIGH = Assurance.HIGH


# what the inline path needs of one row, read for the whole batch: the fee, its request's fields (`FeePayment`'s,
# in order; None: no fee; the request is made only if the ledger is to see it), and whether the row's channel
# (and family-register hours at a kiosk) is open at its instant
_Row = tuple[int, tuple | None, bool]


def request_many(offices: Sequence[Kiosk | CounterOffice], identities: Sequence[Identity],
                 cert_types: Sequence[str], nows: Sequence[float], *, request_keys: Sequence[str],
                 copies: Sequence[int], draws: Sequence[Any], windows: Sequence[int],
                 methods: Sequence[str] | None = None, documents: bool = True) -> list[Document | int | TwinError]:
    """Each row's document, or its refusal (logged as the per-request call logs it), in row order.

    `draws` are the kiosk rows' fault draws (an rng-like; None for counters), `windows` the counter
    rows' staff windows (ignored for kiosks), `methods` how each pays (default: cash). `documents` False:
    an issued row's answer is its document's fee (the document is in the register; none is made for it)."""
    pays = list(methods) if methods is not None else ["cash"] * len(offices)
    rows = _columns(offices, identities, cert_types, nows, request_keys, copies, pays)
    svc = next((o.service for o, r in zip(offices, rows, strict=True) if r is not None), None)  # one, if any
    decide = partial(_inline, svc, svc._pending, svc.params, documents) if svc is not None else None
    out: list[Document | int | TwinError] = []
    for office, ident, cert, now, key, n, rng, window, pay, row in zip(
            offices, identities, cert_types, nows, request_keys, copies, draws, windows, pays, rows, strict=True):
        answer = decide(office, ident, cert, now, key, n, rng, window, row) if row is not None else None
        if answer is None:
            try:
                if isinstance(office, Kiosk):
                    answer = office.request(ident, cert, now, rng, request_key=key, copies=n, method=pay)
                else:
                    answer = office.request(ident, cert, now, request_key=key, window=window, copies=n,
                                            method=pay)
            except TwinError as err:
                answer = err.with_traceback(None)  # an answer, not a raise: no frames kept alive in a cycle
            if not documents and type(answer) is Document:
                answer = answer.fee_yen
        out.append(answer)
    return out


def _columns(offices: Sequence[Kiosk | CounterOffice], identities: Sequence[Identity], cert_types: Sequence[str],
             nows: Sequence[float], keys: Sequence[str], copies: Sequence[int], pays: list[str]
             ) -> list[_Row | None]:
    """Each row's fee, fee request and hours, or None where the row is outside the common case."""
    services = set(map(_SERVICE, offices))  # (a service compares by identity)
    svc: CertificateService | None = next(iter(services)) if len(services) == 1 else None
    if svc is None or svc._pending is None:
        return [None] * len(offices)
    at = _plain(identities, cert_types, keys, copies)
    if not at:
        return [None] * len(offices)
    p = svc.params
    rids = [identities[j].resident_id for j in at]
    ok = svc.server.eligible_rows(rids, [cert_types[j] for j in at])
    windows = p.windows()
    kiosk_open, family_open, counter_open = (windows[k].is_open for k in ("kiosk", "kiosk_family_register", "counter"))
    rows: list[_Row | None] = [None] * len(offices)
    fees: list[tuple] = []
    units: tuple[dict, dict] = ({}, {})  # at counters, at kiosks: per type, one copy's fee and family-register hours
    for j, rid, fine in zip(at, rids, ok, strict=True):
        if not fine:
            continue
        office, cert = offices[j], cert_types[j]
        kiosk = isinstance(office, Kiosk)
        known = units[kiosk].get(cert)
        if known is None:
            known = units[kiosk][cert] = (p.fee(cert, "kiosk" if kiosk else "counter"),
                                          CERTIFICATE_TYPES[cert].family_register)
        fee = known[0] * copies[j]
        now = nows[j]
        if kiosk:
            fee_req = (f"cert:{keys[j]}", rid, cert, fee, "kiosk", pays[j], office.kiosk_id) if fee else None
            open_now = kiosk_open(now) and (not known[1] or family_open(now))
        else:
            fee_req = (f"cert:{keys[j]}", rid, cert, fee, "counter", pays[j], office.ward) if fee else None
            open_now = counter_open(now)
        rows[j] = (fee, fee_req, open_now)
        if fee_req is not None:
            fees.append(fee_req)
    return _held(svc, rows, fees)


def _plain(identities: Sequence[Identity], cert_types: Sequence[str], keys: Sequence[str], copies: Sequence[int]
           ) -> Sequence[int]:
    """The rows whose identity, certificate type, request key and copies are of the common case's kinds: every
    row's at once when they all are (one pass per column), else row by row."""
    try:
        if (identities and set(map(type, identities)) == {Identity} and set(map(type, map(_RID, identities))) == {int}
                and set(cert_types) <= CERTIFICATE_TYPES.keys() and set(map(type, keys)) == {str}
                and min(map(len, keys)) > 0 and max(map(len, keys)) <= _KEY_CHARS and set(map(type, copies)) == {int}):
            return range(len(identities))
    except TypeError:  # an unhashable type name: row by row (a row whose identity fails first tests no name)
        pass
    plain = [type(i) is Identity and type(i.resident_id) is int and c in CERTIFICATE_TYPES and type(k) is str
             and 0 < len(k) <= _KEY_CHARS and type(n) is int
             for i, c, k, n in zip(identities, cert_types, keys, copies, strict=True)]
    return [j for j, fine in enumerate(plain) if fine]


def _held(svc: CertificateService, rows: list[_Row | None], fees: list[tuple]) -> list[_Row | None]:
    """Rows whose fee the open batch can hold (`PendingIssues.accepts`): the ledger's check on every fee
    at once when they all pass it (then each passes alone), else row by row (a fee given as its request's fields)."""
    pending = svc._pending
    together = (all(f[5] != "wallet" for f in fees)
                and (not fees or valid_fee_columns(tuple(zip(*fees, strict=True)), svc.ledger.params) is not None))
    return [r if r is not None and (r[1] is None or together or pending.accepts(FeePayment(*r[1]))) else None
            for r in rows]


def _inline(svc: CertificateService, pending: PendingIssues, p: CertificateParams, documents: bool,
            office: Kiosk | CounterOffice, ident: Identity, cert: str, now: float, key: str, n: int, rng: Any,
            window: int, row: _Row) -> Document | int | TwinError | None:
    """The row decided by the office's own steps, or None where it must take the per-request method (`svc`: the
    batch's one service, its open batch of issues and its parameters, which no row changes; `documents` False:
    the issued row's fee in place of its document, which the batch keeps as its register row)."""
    if key in pending.issued or not 1 <= n <= p.max_copies or not row[2]:
        return None
    kiosk = isinstance(office, Kiosk)
    if kiosk:
        if (ident.assurance < _HIGH or ident.method != KIOSK_METHOD or not 0 <= now - ident.at
                <= p.kiosk_session_s or cert not in p.kiosk_certificate_types or office.paper_out):
            return None
        channel, site = "kiosk", office.kiosk_id
    else:
        if type(window) is not int or not 0 <= window < office.windows or ident.assurance < p.counter_min_assurance:
            return None
        channel, site = "counter", office.ward
    # the steps of `request` that can change state, in its order
    try:
        if kiosk:
            office._reach_server(rng)
        # the key was tested new above; a network draw issues nothing
        issued = svc._issue_row(pending, ident, cert, now, key, channel, site, -1 if kiosk else window, n, row[0],
                                row[1])
        if kiosk:
            office._print(issued, now, rng)
        return Document(*issued) if documents else row[0]
    except TwinError as err:
        return svc.refused(ident, cert, channel, site, err.with_traceback(None), now)
