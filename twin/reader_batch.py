"""Many card authentications at one reader in one call (columns in, columns out).

`authenticate_many` answers each row exactly as `Reader.authenticate` would if called row by row
in the given order: the same challenges drawn, PIN counters, refusals and events, replay and
revocation decisions. A row in the common case (a known, active card; the right PIN on an unlocked
counter; a MAC credential whose chain checks, valid now and neither on the held list nor revoked)
is decided inline by the reader's own steps, with nothing that could refuse it checked twice; any
other row, and every row at a reader outside that case (offline, with a tap sink, checking status
online, trusting drill cards, X.509 key modes), goes through `Reader.authenticate` itself. The
common case is tested before a row changes anything, so a row that leaves it has changed nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from twin.card.rules import ACTIVE, MAX_TRIES
from twin.identity import Assurance, Identity
from twin.pki import USER
from twin.trust_errors import TrustError, UnknownCard

if TYPE_CHECKING:
    from twin.reader import ChallengeStream, Reader

Row = Callable[[object, object, float, object], "Identity | TrustError | None"]


def authenticate_many(reader: Reader, cards: Sequence[int], pins: Sequence[str], nows: Sequence[float],
                      challenge_source: ChallengeStream | None = None) -> list[Identity | TrustError]:
    """Each row's identity, or its refusal (recorded as `authenticate` records it), in row order."""
    fast = _common_case(reader, cards)
    out: list[Identity | TrustError] = []
    for card, pin, now in zip(cards, pins, nows, strict=True):
        answer = fast(card, pin, now, challenge_source) if fast is not None else None
        if answer is None:
            try:
                answer = reader.authenticate(card, pin, now, challenge_source)
            except TrustError as err:
                answer = err.with_traceback(None)  # an answer, not a raise: no frames kept alive in a cycle
        out.append(answer)
    return out


def _common_case(reader: Reader, cards: Sequence[object]) -> Row | None:
    """The inline path for one row (None where a row must take `authenticate`), or None for this reader.

    The user certificates on the batch's active cards are read as columns first (nothing in a batch
    changes a card's certificate): the bytes `Card.certificate(USER)` gives, with the certificate's
    generation and the card's holder."""
    ver, reg, ca = reader.verifier, reader.registry, reader.ca
    if not (reader.online and reader.sink is None and ver.revocation == "list" and ver.drill is None
            and ver.virtual and ca.mac_secret is not None):
        return None
    status, tries, user_gen, resident = reg.status, reg.tries, reg.user_gen, reg.resident
    row_of, pin_of, checked = reg.row_of, reg.pin_of, ver.checked
    known = set()  # the batch's cards' rows, by the registry's row cache (a caller that remembered them)
    for card in cards:
        if type(card) is int:
            try:
                known.add(row_of(card))
            except UnknownCard:
                continue
    rows = np.array(sorted(known), dtype=np.int64)
    rows = rows[status[rows] == ACTIVE]
    # per active row: its user certificate, generation and holder (no row of a batch changes them), read as columns
    facts = dict(zip(rows.tolist(), zip(reg.user_certificates(rows.tolist()), user_gen[rows].tolist(),
                                        resident[rows].tolist(), strict=True), strict=True))
    signer, revocation_of, full = ca.card_signer, ca.revocation_of, MAX_TRIES[0]

    def row(card: object, pin: object, now: float, source: object) -> Identity | TrustError | None:
        if type(card) is not int or type(pin) is not str:
            return None
        try:
            r = row_of(card)
        except UnknownCard:
            return None
        if status[r] != ACTIVE or tries[r, 0] <= 0 or pin != pin_of(r, 0):
            return None
        fact = facts.get(r)
        if fact is None:  # not active when the batch began
            return None
        der, gen, holder = fact
        cc = checked(der)
        held = ver.held
        if (cc is None or cc.resident >= 0 or cc.purpose != USER or cc.card_serial != card
                or not cc.not_before <= now <= cc.not_after or held is None or now >= held.next_update
                or cc.cert_serial in held.revoked or revocation_of(cc.cert_serial) is not None):
            return None
        # the steps of `authenticate` that can change state, in its order
        nonce = reader.challenge(now, source)
        tries[r, 0] = full  # the right PIN resets the counter
        signature = signer(card, USER, gen)(nonce)
        try:
            reader._consume(nonce, card, now)
            reader._check_signature(cc, nonce, signature, now)
        except TrustError as err:
            return err.with_traceback(None)
        return reader._record(Identity(holder, "jpki_user_cert", Assurance.HIGH, now, card), now)

    return row
