"""Many card authentications at one reader in one call (columns in, columns out).

`authenticate_many` answers each row exactly as `Reader.authenticate` would if called row by row
in the given order: the same challenges drawn, PIN counters, refusals and events, replay and
revocation decisions. A row in the common case (a known, active card; the right PIN on an unlocked
counter; a MAC credential whose chain checks, valid now and neither on the held list nor revoked)
is decided inline by the reader's own steps, with nothing that could refuse it checked twice; any
other row, and every row at a reader outside that case (offline, with a tap sink, checking status
online, trusting drill cards, X.509 key modes), goes through `Reader.authenticate` itself. The
common case is tested before a row changes anything, so a row that leaves it has changed nothing.

The common case's facts are read for the whole batch first, as columns (`_plan`: the cards' rows,
statuses, PIN counters, PINs, checked certificates and signers, validity and revocation), from
the state the batch starts in. A row may use its planned facts only while nothing outside the
inline steps has touched them: a row that takes another path marks its card (a chip object, which
may stand for any card, marks them all), a renewed held list voids every plan, and such rows are
tested against the live state instead (`_common_case`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from twin.card.rules import ACTIVE, MAX_TRIES
from twin.card_mac import MacKey
from twin.identity import Assurance, Identity
from twin.pki import USER
from twin.reader import _MAX_OUTSTANDING, CHALLENGE_BYTES
from twin.trust_errors import TrustError, UnknownCard
from twin.trust_events import Authenticated

if TYPE_CHECKING:
    from twin.reader import ChallengeStream, Reader

Row = Callable[[object, object, float, object], "Identity | TrustError | None"]
# card row, checked certificate, card signer, holder, whether the signer's key is the certificate check's (`_same_key`)
Plan = tuple[int, object, Callable[[bytes], bytes], int, bool]
_CHUNK = 256  # rows planned at a time (a renewed list or a chip plans again from the next row)
_FACTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # authority -> its cards' facts (`_facts`)
_FACTS_LIMIT = 1 << 20  # cards' facts kept per authority (all forgotten when more would be)
_SERIAL_LIMIT = 1 << 62  # serials the vectorised row lookup takes (larger ones take `row_of`)


def authenticate_many(reader: Reader, cards: Sequence[int], pins: Sequence[str], nows: Sequence[float],
                      challenge_source: ChallengeStream | None = None) -> list[Identity | TrustError]:
    """Each row's identity, or its refusal (recorded as `authenticate` records it), in row order."""
    fast = _common_case(reader, cards)
    if fast is None:
        return [_slow(reader, None, card, pin, now, challenge_source)
                for card, pin, now in zip(cards, pins, nows, strict=True)]
    plans: list[Plan | None] = []  # the plans of rows lo, lo + 1, ... (planned a chunk at a time, as reached)
    lo = 0
    ver, reg = reader.verifier, reader.registry
    held0, status, tries, full = ver.held, reg.status, reg.tries, MAX_TRIES[0]
    out_, used, used_set = reader._outstanding, reader._used, reader._used_set
    seen, seen_set, append_event = reader._seen, reader._seen_set, reader.events.append_fields
    where, high, method = reader.reader_id, Assurance.HIGH, "jpki_user_cert"
    draw = challenge_source.bytes if challenge_source is not None else None
    first_tries = tries[:, 0]  # a view: the user app's PIN counters
    # card rows a row outside the inline steps may have changed since the plan: only their status and PIN
    # counter can have changed (a card's certificate, PIN and holder, the authority's revocations do not)
    touched: set[int] = set()
    out: list[Identity | TrustError] = []
    for j, (card, pin, now) in enumerate(zip(cards, pins, nows, strict=True)):
        if j - lo >= len(plans):
            lo, plans = j, _plan(reader, cards[j:j + _CHUNK], pins[j:j + _CHUNK], nows[j:j + _CHUNK])
        plan = plans[j - lo]
        if plan is None or (plan[0] in touched and (status[plan[0]] != ACTIVE or tries[plan[0], 0] <= 0)):
            out.append(_slow(reader, fast, card, pin, now, challenge_source))
            if type(card) is not int or ver.held is not held0:  # a chip may be any card; a new list: plan again
                lo, plans = j + 1, []
                held0 = ver.held
                touched.clear()
            elif plan is not None:
                touched.add(plan[0])
            else:
                try:
                    touched.add(reg.row_of(card))
                except UnknownCard:
                    pass
            continue
        r, cc, sign, holder, same = plan
        # `challenge`: a fresh nonce, the expired or excess outstanding ones dropped first
        nonce = draw(CHALLENGE_BYTES) if draw is not None else reader.challenge(now, None)
        if draw is not None:
            while out_:
                _, expiry = next(iter(out_.items()))
                if len(out_) < _MAX_OUTSTANDING and expiry >= now:
                    break
                out_.popitem(last=False)
            fresh = nonce not in out_ and nonce not in used_set
            if not fresh:
                out_[nonce] = now + reader.challenge_ttl
        else:
            fresh = False
        first_tries[r] = full  # the right PIN resets the counter
        signature = sign(nonce)
        if fresh and signature not in seen_set and (same or cc.check(signature, nonce)):  # same key: it checks
            # `_consume` of a nonce issued just now and never used, `_check_signature` of a new,
            # valid signature: each remembered, as the reader remembers them
            if len(used) == used.maxlen:
                used_set.discard(used[0])
            used.append(nonce)
            used_set.add(nonce)
            if len(seen) == seen.maxlen:
                seen_set.discard(seen[0])
            seen.append(signature)
            seen_set.add(signature)
            reader._seq += 1
            append_event(Authenticated, now, card, holder, method, where, False)
            out.append(Identity(holder, method, high, now, card))
            continue
        if fresh:  # outstanding since `challenge`, as the reader keeps it (nothing was added since)
            out_[nonce] = now + reader.challenge_ttl
        try:  # a replayed or unknown challenge, a seen or forged signature: the reader's own steps decide
            reader._consume(nonce, card, now)
            reader._check_signature(cc, nonce, signature, now)
        except TrustError as err:
            out.append(err.with_traceback(None))
            continue
        out.append(reader._record(Identity(holder, method, high, now, card), now))
    return out


def _slow(reader: Reader, fast: Row | None, card: object, pin: object, now: float,
          source: ChallengeStream | None) -> Identity | TrustError:
    """One row tested against the live state: inline if in the common case, else `authenticate`."""
    answer = fast(card, pin, now, source) if fast is not None else None
    if answer is None:
        try:
            answer = reader.authenticate(card, pin, now, source)
        except TrustError as err:
            answer = err.with_traceback(None)  # an answer, not a raise: no frames kept alive in a cycle
    return answer


def _plan(reader: Reader, cards: Sequence[object], pins: Sequence[object], nows: Sequence[float]
          ) -> list[Plan | None]:
    """Each row's common-case facts as the batch starts (None: the row is outside the common case then)."""
    ver, reg, ca = reader.verifier, reader.registry, reader.ca
    n = len(cards)
    ints = [type(c) is int and 0 <= c < _SERIAL_LIMIT for c in cards]
    rows = np.full(n, -1, dtype=np.int64)
    at = [j for j, fine in enumerate(ints) if fine]
    if at:
        rows[at] = reg.rows_of_ints([cards[j] for j in at])
    r = np.maximum(rows, 0)
    ok = (rows >= 0) & (reg.status[r] == ACTIVE) & (reg.tries[r, 0] > 0)
    cand = np.flatnonzero(ok)
    if not cand.size:
        return [None] * n
    rr = r[cand]
    rows_, gens = rr.tolist(), reg.user_gen[rr].tolist()
    serials, firsts, lasts = reg.serial[rr].tolist(), reg.user_from[rr].tolist(), reg.user_until[rr].tolist()
    known, anchor, checked = _facts(ca), (ver.mac_anchor, ver.issuer), ver.checked
    facts = [known.get(s) for s in serials]
    missing = [m for m, f in enumerate(facts)
               if f is None or f[0] != gens[m] or f[1] != firsts[m] or f[2] != lasts[m] or f[5] != anchor]
    if missing:  # each card's certificate (as `Card.certificate(USER)` reads it), signer and check, once per authority
        if len(known) + len(missing) > _FACTS_LIMIT:
            known.clear()
        for m, der in zip(missing, reg.user_certificates([rows_[m] for m in missing]), strict=True):
            sign, cc = ca.card_signer(serials[m], USER, gens[m]), checked(der)
            facts[m] = known[serials[m]] = (gens[m], firsts[m], lasts[m], der, sign, anchor, cc, _same_key(sign, cc),
                                            _user_span(cc, serials[m]))
    held, revocation_of, any_revoked = ver.held, ca.revocation_of, ca.revoked_count > 0
    # no held list: no row is in the common case (every instant is past the update of a list that is not there)
    next_update, revoked = (held.next_update, held.revoked) if held is not None else (-np.inf, frozenset())
    plans: list[Plan | None] = [None] * n
    for j, row, fact, holder, right in zip(cand.tolist(), rows_, facts, reg.resident[rr].tolist(),
                                           reg.pins_of(rows_, 0), strict=True):
        now, span = nows[j], fact[8]  # the row's card is the fact's (the row was found by its serial)
        if (type(pins[j]) is not str or pins[j] != right or span is None or not span[0] <= now <= span[1]
                or now >= next_update or span[2] in revoked or (any_revoked and revocation_of(span[2]) is not None)):
            continue
        plans[j] = (row, fact[6], fact[4], holder, fact[7])
    return plans


def _user_span(cc: object, serial: int) -> tuple[float, float, int] | None:
    """A checked certificate's validity and serial (not_before, not_after, cert_serial) if it is this card's user
    certificate bound to no resident, else None (a pure function of the certificate and the card)."""
    if cc is None or cc.resident >= 0 or cc.purpose != USER or cc.card_serial != serial:
        return None
    return cc.not_before, cc.not_after, cc.cert_serial


def _same_key(sign: object, cc: object) -> bool:
    """Whether the card's signer and the checked certificate's signature check are HMAC under one key: then every
    signature the card makes checks (HMAC is a function of key and message), and checking it again is not needed."""
    mac = getattr(getattr(cc, "check", None), "__self__", None)
    return type(sign) is MacKey and type(mac) is MacKey and cc.check == mac.matches and sign.key == mac.key


def _facts(ca: object) -> dict[int, tuple]:
    """The authority's cards' user certificates by card serial: (generation, first day, last day, the certificate,
    its signer, the verifier's pinned (MAC secret, issuer), the check of the certificate under them, whether signer
    and check share one HMAC key, `_user_span`). Pure functions of the authority and those, so kept per authority
    across runs; an entry is used only when all of them match."""
    known = _FACTS.get(ca)
    if known is None:
        known = _FACTS[ca] = {}
    return known


def _common_case(reader: Reader, cards: Sequence[object]) -> Row | None:
    """The inline path for one row tested against the live state (None where a row must take
    `authenticate`), or None for this reader.

    The user certificates on the batch's active cards are read as columns first (nothing in a batch
    changes a card's certificate): the bytes `Card.certificate(USER)` gives, with the certificate's
    generation and the card's holder."""
    ver, reg, ca = reader.verifier, reader.registry, reader.ca
    if not (reader.online and reader.sink is None and ver.revocation == "list" and ver.drill is None
            and ver.virtual and ca.mac_secret is not None):
        return None
    status, tries, user_gen, resident = reg.status, reg.tries, reg.user_gen, reg.resident
    row_of, pin_of, checked = reg.row_of, reg.pin_of, ver.checked
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
        der, gen, holder = reg.card(card).certificate(USER), int(user_gen[r]), int(resident[r])
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
