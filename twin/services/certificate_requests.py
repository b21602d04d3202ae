"""Many certificate requests at kiosks and counters decided in one call (columns in, columns out).

`request_many` answers each row exactly as `Kiosk.request` / `CounterOffice.request` would if
called row by row in the given order: the same documents and numbers, refusals, events, fee
postings and kiosk states. A row that meets the common case (a new request key, identity and
hours in order, an eligible resident, a fee the open batch can hold) is decided inline from the
batch's columns; any other row goes through the per-request method itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twin.errors import TwinError
from twin.identity import Identity
from twin.services.certificate_rules import Document
from twin.services.kiosks import CounterOffice, Kiosk


def request_many(offices: Sequence[Kiosk | CounterOffice], identities: Sequence[Identity],
                 cert_types: Sequence[str], nows: Sequence[float], *, request_keys: Sequence[str],
                 copies: Sequence[int], draws: Sequence[Any], windows: Sequence[int]
                 ) -> list[Document | TwinError]:
    """Each row's document, or its refusal (logged as the per-request call logs it), in row order.

    `draws` are the kiosk rows' fault draws (an rng-like; None for counters), `windows` the counter
    rows' staff windows (ignored for kiosks)."""
    out: list[Document | TwinError] = []
    for office, ident, cert, now, key, n, rng, window in zip(offices, identities, cert_types, nows, request_keys,
                                                            copies, draws, windows, strict=True):
        try:
            if isinstance(office, Kiosk):
                out.append(office.request(ident, cert, now, rng, request_key=key, copies=n))
            else:
                out.append(office.request(ident, cert, now, request_key=key, window=window, copies=n))
        except TwinError as err:
            out.append(err)
    return out
