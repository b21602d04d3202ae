"""Many certificate requests at kiosks and counters decided in one call (columns in, columns out).

`request_many` answers each row exactly as `Kiosk.request` / `CounterOffice.request` would if
called row by row in the given order: the same documents and numbers, refusals, events, fee
postings and kiosk states. Eligibility is looked up for the whole batch at once (nothing in a batch
changes who lives here). A row in the common case (an open batch of issues, a new request key, an
identity strong and fresh enough, the type offered, hours open, an eligible resident, a fee the
batch can hold) is decided inline by the offices' own steps; only the steps that can still refuse
it (the kiosk's network and paper draws) are left to raise. Every other row goes through the
per-request method itself. The common case is tested before a row changes anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twin.errors import TwinError
from twin.identity import Assurance, Identity
from twin.services.certificate_rules import CERTIFICATE_TYPES, Document
from twin.services.kiosks import KIOSK_METHOD, CounterOffice, Kiosk
from twin.services.ledger_requests import FeePayment

_KEY_CHARS = 100  # `CertificateService.issue` takes request keys of 1..100 characters


def request_many(offices: Sequence[Kiosk | CounterOffice], identities: Sequence[Identity],
                 cert_types: Sequence[str], nows: Sequence[float], *, request_keys: Sequence[str],
                 copies: Sequence[int], draws: Sequence[Any], windows: Sequence[int],
                 methods: Sequence[str] | None = None) -> list[Document | TwinError]:
    """Each row's document, or its refusal (logged as the per-request call logs it), in row order.

    `draws` are the kiosk rows' fault draws (an rng-like; None for counters), `windows` the counter
    rows' staff windows (ignored for kiosks), `methods` how each pays (default: cash)."""
    eligible = _eligible(offices, identities, cert_types)
    pays = methods if methods is not None else ["cash"] * len(eligible)
    out: list[Document | TwinError] = []
    for office, ident, cert, now, key, n, rng, window, pay, ok in zip(
            offices, identities, cert_types, nows, request_keys, copies, draws, windows, pays, eligible, strict=True):
        answer = _inline(office, ident, cert, now, key, n, rng, window, pay) if ok else None
        if answer is None:
            try:
                if isinstance(office, Kiosk):
                    answer = office.request(ident, cert, now, rng, request_key=key, copies=n, method=pay)
                else:
                    answer = office.request(ident, cert, now, request_key=key, window=window, copies=n,
                                            method=pay)
            except TwinError as err:
                answer = err
        out.append(answer)
    return out


def _eligible(offices: Sequence[Kiosk | CounterOffice], identities: Sequence[Identity],
              cert_types: Sequence[str]) -> list[bool]:
    """Whether each row's resident may have its certificate (False also for rows outside the common case)."""
    servers = {id(o.service.server): o.service.server for o in offices}
    plain = [type(i) is Identity and type(i.resident_id) is int and c in CERTIFICATE_TYPES
             for i, c in zip(identities, cert_types, strict=True)]
    if len(servers) != 1 or not any(plain):
        return [False] * len(plain)
    server = next(iter(servers.values()))
    at = [j for j, fine in enumerate(plain) if fine]
    ok = server.eligible_rows([identities[j].resident_id for j in at], [cert_types[j] for j in at])
    for j, fine in zip(at, ok, strict=True):
        plain[j] = fine
    return plain


def _inline(office: Kiosk | CounterOffice, ident: Identity, cert: str, now: float, key: str, n: int,
            rng: Any, window: int, method: str) -> Document | TwinError | None:
    """The row decided by the office's own steps, or None where it must take the per-request method."""
    svc = office.service
    pending, p = svc._pending, svc.params
    if (pending is None or type(key) is not str or not 0 < len(key) <= _KEY_CHARS or key in pending.issued
            or type(n) is not int or not 1 <= n <= p.max_copies):
        return None
    kiosk = isinstance(office, Kiosk)
    channel, site = ("kiosk", office.kiosk_id) if kiosk else ("counter", office.ward)
    windows = p.windows()
    if kiosk:
        if (ident.assurance < Assurance.HIGH or ident.method != KIOSK_METHOD or not 0 <= now - ident.at
                <= p.kiosk_session_s or cert not in p.kiosk_certificate_types or office.paper_out
                or not windows["kiosk"].is_open(now)
                or (CERTIFICATE_TYPES[cert].family_register and not windows["kiosk_family_register"].is_open(now))):
            return None
    elif (type(window) is not int or not 0 <= window < office.windows or not windows["counter"].is_open(now)
          or ident.assurance < p.counter_min_assurance):
        return None
    fee = p.fee(cert, channel) * n
    fee_req = FeePayment(f"cert:{key}", ident.resident_id, cert, fee, channel, method, site) if fee else None
    if not pending.accepts(fee_req):
        return None
    # the steps of `request` that can change state, in its order
    try:
        if kiosk:
            office._reach_server(rng)
        doc = svc._issue_later(pending, ident, cert, now, key, channel, site, -1 if kiosk else window, n, fee,
                               fee_req)
        return office._print(doc, now, rng) if kiosk else doc
    except TwinError as err:
        return svc.refused(ident, cert, channel, site, err, now)
