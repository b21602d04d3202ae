"""Many certificate requests in one call decide exactly as one `request` per row in the same order:
the same documents and numbers, refusals, book and events, batched or not, in hostile cases."""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import pytest

from tests.services.pay_helpers import T0, snapshot
from tests.services.test_certificate_batch import TABLES, _events, _login, _script
from twin.errors import TwinError
from twin.identity import Assurance, Identity
from twin.services.certificate_requests import request_many
from twin.services.certificates import CertificateParams, CertificateService
from twin.services.kiosks import CounterOffice, Kiosk


def _rows(city, n: int, seed: int) -> list[tuple]:
    """The mixed day of `test_certificate_batch` with hostile identities, windows, copies and keys."""
    rows = []
    for j, (channel, rid, cert, key, copies, method, now, site) in enumerate(_script(city, n, seed)):
        ident = _login(rid, now)
        window = 0
        if j % 17 == 3:
            ident = Identity(rid, "card_serial", Assurance.MEDIUM, now, 1)  # PIN-less: not enough for a kiosk
        elif j % 17 == 5:
            ident = _login(rid, now - 3600)  # an authentication an hour old
        elif j % 17 == 7:
            window = 9  # no such staff window
        elif j % 17 == 9:
            copies = 0
        elif j % 17 == 11:
            key = ""
        rows.append((channel, ident, cert, key, copies, method, now, site, window))
    return rows


def _play(svc: CertificateService, rows: list[tuple], seed: int, batched_call: bool, documents: bool = True
          ) -> list[object]:
    rng = np.random.default_rng(seed)
    kiosks, counters = [svc.kiosk(k, k) for k in range(3)], [svc.counter(w) for w in range(3)]
    for rid in sorted({r[1].resident_id for r in rows})[::3]:
        svc.ledger.top_up(f"fund-{rid}", rid, 1_000, T0 - 60)
    offices = [kiosks[r[7]] if r[0] == "kiosk" else counters[r[7]] for r in rows]
    if batched_call:
        cols = list(zip(*rows, strict=True))
        answers = request_many(offices, cols[1], cols[2], cols[6], request_keys=cols[3], copies=cols[4],
                               draws=[rng if isinstance(o, Kiosk) else None for o in offices], windows=cols[8],
                               methods=cols[5], documents=documents)
    else:
        answers = []
        for office, (_c, ident, cert, key, copies, method, now, _s, window) in zip(offices, rows, strict=True):
            try:
                if isinstance(office, Kiosk):
                    answers.append(office.request(ident, cert, now, rng, request_key=key, copies=copies,
                                                  method=method))
                else:
                    answers.append(office.request(ident, cert, now, request_key=key, window=window,
                                                  copies=copies, method=method))
            except TwinError as err:
                answers.append(err)
    return [a if not isinstance(a, TwinError) else (type(a).__name__, str(a)) for a in answers]


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("documents", [True, False])
def test_many_requests_in_one_call_decide_as_one_request_each(small_city, seed, batched, documents, monkeypatch):
    params = CertificateParams(kiosk_p_network_down=0.05, kiosk_p_paper_out=0.05)
    rows = _rows(small_city, 200, seed)
    one, many = (CertificateService(small_city.residents, params=params) for _ in range(2))
    with one.batched() if batched else nullcontext(), many.batched() if batched else nullcontext():
        expected = _play(one, rows, seed, False)
        per_row = []
        for office in (Kiosk, CounterOffice):
            real = office.request
            monkeypatch.setattr(office, "request", lambda self, *a, _r=real, **k: per_row.append(1) or _r(self, *a, **k))
        got = _play(many, rows, seed, True, documents)
        monkeypatch.undo()
    # without documents, an issued row's answer is its document's fee (the register holds the document)
    assert got == (expected if documents else [a if isinstance(a, tuple) else a.fee_yen for a in expected])
    inline = len(rows) - len(per_row)  # rows decided without the per-request method (only in a batch)
    assert inline > 40 if batched else inline == 0
    assert snapshot(many.ledger.store, TABLES) == snapshot(one.ledger.store, TABLES)
    assert _events(many) == _events(one) and many.documents().equals(one.documents())
    kinds = {a[0] if isinstance(a, tuple) else ("replayed" if a.replayed else a.status) for a in expected}
    assert kinds >= {"issued", "replayed", "PaperOut", "NetworkDown", "NotEligible", "InsufficientFunds",
                     "Conflict", "LowAssurance", "ValidationError"}

