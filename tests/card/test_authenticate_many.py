"""Many authentications in one call decide exactly as one `authenticate` call per row in the same
order: the same identities and refusals, events, PIN counters and reader state, in hostile cases."""

from __future__ import annotations

import numpy as np
import pytest

from tests.card.conftest import NOW
from tests.card.test_hostile import HostileChip
from twin import reader_batch
from twin.card import CardRegistry, mistype
from twin.card_mac import MacKey
from twin.clock import HOUR
from twin.pki import USER, CertificateAuthority
from twin.reader import ChallengeStream, Reader
from twin.trust_errors import TrustError

CARDS = 12


class StuckSource:
    """A challenge source that hands out the same bytes every time (a broken or replaying reader)."""

    def bytes(self, n: int) -> bytes:
        return b"\x07" * n


def _world(city, key_mode: str, revocation: str) -> tuple[CardRegistry, Reader, list[int]]:
    ca = CertificateAuthority.for_key_mode(7, key_mode)
    registry = CardRegistry.from_city(city, ca, NOW)
    reader = Reader(ca, registry, reader_id="kiosk-1", revocation=revocation)
    serials = [int(s) for s in registry.serial[: len(registry)][:CARDS]]
    registry.report_loss(serials[4], NOW + 5 * HOUR)  # revoked between its early and late rows
    return registry, reader, serials


def _rows(registry: CardRegistry, serials: list[int]) -> tuple[list, list[str], list[float]]:
    """Rows spanning two days (the held list renews): typos, a PIN locked part-way, the same cards
    again and again, an unknown card, and a chip presenting another card's certificate."""
    rng = np.random.default_rng(5)
    cards, pins, nows = [], [], []
    for k in range(8 * CARDS):
        serial = serials[k % CARDS]
        pin = registry.pins(serial).user
        typo = rng.random() < 0.25 or serial == serials[5]  # card 5 is locked on its third row
        cards.append(serial)
        pins.append(mistype(pin, rng) if typo else pin)
        nows.append(NOW + 1200.0 * k)
    cards[10], pins[10] = 10**12 + 3, "1234"  # no such card
    mask = HostileChip(registry.card(serials[1]))
    mask.serial = serials[2]  # claims to be another card
    cards[20], pins[20] = mask, registry.pins(serials[1]).user
    return cards, pins, nows


def _answers(reader, cards, pins, nows, source, batched: bool) -> list:
    """Each row's identity, or its refusal as (kind, message): in one call, or one call per row."""
    if batched:
        got = reader.authenticate_many(cards, pins, nows, source)
    else:
        got = []
        for card, pin, now in zip(cards, pins, nows, strict=True):
            try:
                got.append(reader.authenticate(card, pin, now, source))
            except TrustError as err:
                got.append(err)
    return [a if not isinstance(a, TrustError) else (type(a).__name__, str(a)) for a in got]


def _decide(city, key_mode: str, revocation: str, batched: bool, source_kind: str) -> tuple:
    registry, reader, serials = _world(city, key_mode, revocation)
    cards, pins, nows = _rows(registry, serials)
    source = StuckSource() if source_kind == "stuck" else ChallengeStream(np.random.default_rng(6))
    shown = _answers(reader, cards, pins, nows, source, batched)
    state = (registry.tries[: len(registry)].tolist(), sorted(reader._used_set), sorted(reader._seen_set),
             list(reader._outstanding.items()), reader.verifier.held)
    return shown, [repr(e) for e in registry.events], state


@pytest.mark.parametrize(("key_mode", "revocation"), [("hmac", "list"), ("hmac", "online"), ("ed25519", "list")])
def test_many_authentications_in_one_call_decide_as_one_call_each(small_city, key_mode, revocation, monkeypatch):
    one_by_one = _decide(small_city, key_mode, revocation, False, "stream")
    per_row = []
    real = Reader.authenticate
    monkeypatch.setattr(Reader, "authenticate", lambda self, *a, **k: per_row.append(1) or real(self, *a, **k))
    assert _decide(small_city, key_mode, revocation, True, "stream") == one_by_one
    inline = key_mode == "hmac" and revocation == "list"  # the other readers take `authenticate` for every row
    assert (len(per_row) < len(one_by_one[0]) / 2) if inline else len(per_row) == len(one_by_one[0])
    kinds = {a[0] for a in one_by_one[0] if isinstance(a, tuple)}
    assert {"WrongPin", "PinLocked", "UnknownCard", "WrongHolder", "CardRevoked"} <= kinds
    assert sum(1 for a in one_by_one[0] if not isinstance(a, tuple)) > 40  # most rows are the common case
    if revocation == "list":
        assert any("RevokedAcceptedInWindow" in e for e in one_by_one[1])


def test_a_challenge_source_that_repeats_itself_is_refused_as_a_replay_alike(small_city):
    one_by_one = _decide(small_city, "hmac", "list", False, "stuck")
    assert _decide(small_city, "hmac", "list", True, "stuck") == one_by_one
    assert sum(1 for a in one_by_one[0] if isinstance(a, tuple) and a[0] == "ReplayedChallenge") > 40


def test_a_card_signing_with_another_key_than_its_certificate_names_is_refused_in_a_batch_too(small_city):
    """The batch leaves a signature unchecked only when the card's signer and its certificate's check share one
    HMAC key (`_same_key`); a card whose key differs is checked, and refused, as `authenticate` refuses it."""
    answers = []
    for batched in (False, True):
        registry, reader, serials = _world(small_city, "hmac", "list")
        ca, other = reader.ca, MacKey(b"not the card's key")
        real = ca.card_signer
        ca.card_signer = (lambda serial, purpose, gen, _r=real, _o=other, _s=serials[3]:
                          _o if serial == _s else _r(serial, purpose, gen))
        cards = [serials[0], serials[3], serials[6]]
        pins = [registry.pins(s).user for s in cards]
        nows = [NOW + 60.0 * k for k in range(3)]
        answers.append(_answers(reader, cards, pins, nows, ChallengeStream(np.random.default_rng(6)), batched))
        plans = reader_batch._plan(reader, cards, pins, nows)
        assert [p[4] for p in plans] == [True, False, True]  # the other key is not the certificate's
    assert answers[0] == answers[1] and answers[0][1][0] == "ForgedData"
    assert not reader_batch._same_key(real(serials[0], USER, 0), None)
