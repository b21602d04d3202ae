"""Card readers (カードリーダー) at kiosks, payment points, shelters and schools.

Two ways to establish an identity:
- `authenticate`: JPKI user-certificate authentication (Assurance.HIGH): the PIN to the card,
  a fresh challenge signed by the card's key, the signature, the chain to the authority, the
  validity at `now`, and revocation (the last list held, or online status);
- `read_serial`: a PIN-less read of the serial number (製造番号) and the sealed face data
  (Assurance.MEDIUM), as the report proposes for shelter check-in; the My Number is never read.
Offline, a reader relies on its cached list and queues its taps; `sync` delivers them once.
"""

from __future__ import annotations

import os
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from twin.clock import DAY
from twin.errors import ValidationError
from twin.events import EventLog
from twin.identity import Assurance, Identity
from twin.pki import SIGNING, USER, CertificateAuthority
from twin.trust_errors import (
    CardExpired,
    ForgedData,
    ReplayedChallenge,
    TrustError,
    UnknownCard,
    WrongHolder,
)
from twin.trust_events import Authenticated, TapsSynced, refuse
from twin.verifier import CertificateVerifier, CheckedCertificate

CHALLENGE_BYTES = 32
_SEEN_SIGNATURES = 100_000  # accepted signatures remembered to name replays
_MAX_OUTSTANDING = 4096  # unanswered challenges a reader keeps (the oldest are dropped first)


class ChallengeStream:
    """Challenges from one generator, drawn in blocks: the same bytes in the same order as one
    `rng.bytes(n)` per challenge, at a fraction of the cost (numpy draws bytes as whole 64-bit
    words, so for `n` a multiple of 8 a block is the concatenation of single draws). Own the
    generator: nothing else may draw from it (the block is drawn ahead)."""

    __slots__ = ("rng", "_buf", "_pos", "_block")

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng, self._buf, self._pos, self._block = rng, b"", 0, 256

    def bytes(self, n: int) -> bytes:
        """The next `n` bytes (a positive multiple of 8) of the stream."""
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0 or n % 8:
            raise ValidationError(f"a challenge stream serves a positive multiple of 8 bytes, got {n!r}")
        pos = self._pos
        if pos + n > len(self._buf):
            self._buf, pos = self._buf[pos:] + self.rng.bytes(self._block * n), 0
            self._block = min(self._block * 2, 4096)
        self._pos = pos + n
        return self._buf[pos:pos + n]


class Chip(Protocol):
    """What a reader talks to: the card's chip (a `twin.card.Card`, or a hostile stand-in in tests)."""

    serial: int

    def verify_pin(self, app: str, pin: str, now: float, where: str = ...) -> None: ...
    def sign(self, message: bytes, now: float, purpose: int = ..., where: str = ...) -> bytes: ...
    def certificate(self, purpose: int = ...) -> bytes: ...
    def read_face(self): ...


@dataclass(frozen=True, slots=True)
class Tap:
    """One identity established at a reader, as delivered to the service behind it."""

    tap_id: str
    reader: str
    serial: int
    resident_id: int
    method: str
    at: float
    offline: bool


class TapInbox:
    """The receiving end of taps: accepts each tap id once, so redelivery after a lost ack is harmless."""

    def __init__(self) -> None:
        self.taps: list[Tap] = []
        self._ids: set[str] = set()

    def accept(self, tap: Tap) -> bool:
        """Store a tap; False (and nothing stored) when its id was already accepted."""
        if tap.tap_id in self._ids:
            return False
        self._ids.add(tap.tap_id)
        self.taps.append(tap)
        return True

    def __call__(self, tap: Tap) -> None:
        self.accept(tap)


class Reader:
    """A card reader bound to one authority (pinned) and one city's card registry."""

    def __init__(self, ca: CertificateAuthority, registry, *, reader_id: str = "reader",
                 revocation: str = "list", online: bool = True, events: EventLog | None = None,
                 sink: Callable[[Tap], object] | None = None, rng: np.random.Generator | None = None,
                 challenge_ttl: float = 60.0, max_list_age: float = 7 * DAY) -> None:
        if not challenge_ttl > 0:
            raise ValidationError(f"challenge_ttl must be > 0 seconds, got {challenge_ttl!r}")
        self.ca, self.registry, self.reader_id = ca, registry, str(reader_id)
        self.events = events if events is not None else registry.events
        self.verifier = CertificateVerifier(ca, where=self.reader_id, events=self.events,
                                            revocation=revocation, max_list_age=max_list_age)
        self.online, self.sink, self.rng = bool(online), sink, rng
        self.challenge_ttl = float(challenge_ttl)
        self._outstanding: OrderedDict[bytes, float] = OrderedDict()  # challenge -> expiry
        self._used_until: OrderedDict[bytes, float] = OrderedDict()  # admitted challenges -> expiry
        self._used: deque[bytes] = deque(maxlen=_SEEN_SIGNATURES)
        self._used_set: set[bytes] = set()
        self._seen: deque[bytes] = deque(maxlen=_SEEN_SIGNATURES)
        self._seen_set: set[bytes] = set()
        self._pending: deque[Tap] = deque()
        self._seq = 0
        # a per-instance boot id keeps tap ids unique when a restarted reader counts from 1 again
        self._boot = (rng.bytes(4) if rng is not None else os.urandom(4)).hex()

    def _refuse(self, err: TrustError, serial: int, now: float) -> TrustError:
        return refuse(self.events, err, serial, self.reader_id, now)

    # -- connectivity -------------------------------------------------------------------------

    def refresh(self, now: float) -> None:
        """Fetch the latest revocation list now (a reader does this before going into the field)."""
        if not self.online:
            raise ValidationError(f"reader {self.reader_id} is offline and cannot fetch a revocation list")
        self.verifier.refresh(now)

    def go_offline(self, now: float) -> None:
        """Lose the network: keep the cached list, queue taps."""
        self.online = False

    def go_online(self, now: float) -> int:
        """Regain the network: refresh the list and deliver queued taps (returns how many)."""
        self.online = True
        self.verifier.refresh(now)
        return self.sync(now) if self.sink is not None else 0

    @property
    def pending(self) -> tuple[Tap, ...]:
        """Taps waiting to be delivered."""
        return tuple(self._pending)

    def sync(self, now: float, sink: Callable[[Tap], object] | None = None) -> int:
        """Deliver queued taps in order, each exactly once; a failing sink keeps the rest queued."""
        target = sink if sink is not None else self.sink
        if target is None:
            raise ValidationError(f"reader {self.reader_id} has no sink to deliver taps to")
        if not self.online:
            raise ValidationError(f"reader {self.reader_id} is offline; {len(self._pending)} taps stay queued")
        delivered = 0
        try:
            while self._pending:
                target(self._pending[0])
                self._pending.popleft()
                delivered += 1
        finally:
            self.events.append(TapsSynced(now, self.reader_id, delivered, len(self._pending)))
        return delivered

    def _record(self, ident: Identity, now: float) -> Identity:
        self._seq += 1
        offline = not self.online
        self.events.append_fields(Authenticated, now, ident.card_serial, ident.resident_id, ident.method,
                                  self.reader_id, offline)
        if offline or self.sink is not None:
            tap = Tap(f"{self.reader_id}:{self._boot}:{self._seq}", self.reader_id, int(ident.card_serial), ident.resident_id,
                      ident.method, now, offline)
            if offline:
                self._pending.append(tap)
            else:
                self.sink(tap)
        return ident

    # -- challenge-response -------------------------------------------------------------------

    def challenge(self, now: float, challenge_source: np.random.Generator | ChallengeStream | None = None) -> bytes:
        """A fresh challenge, valid once and for `challenge_ttl` seconds."""
        src = challenge_source if challenge_source is not None else self.rng
        nonce = src.bytes(CHALLENGE_BYTES) if src is not None else os.urandom(CHALLENGE_BYTES)
        out = self._outstanding  # insertion order is expiry order: drop expired and excess from the front
        while out:
            _, expiry = next(iter(out.items()))
            if len(out) < _MAX_OUTSTANDING and expiry >= now:
                break
            out.popitem(last=False)
        out[nonce] = now + self.challenge_ttl
        return nonce

    def admit(self, challenge: bytes, expiry: float, now: float) -> None:
        """Take a challenge issued elsewhere (signed and checked statelessly by a service) as outstanding until
        `expiry`; a used one stays used (the replay set keeps it until it would have expired anyway)."""
        if not hasattr(self, "_used_until"):  # a reader restored from a snapshot taken before admit existed
            self._used_until = OrderedDict()
        self._forget_used(now)
        if challenge not in self._used_set:
            self._outstanding[challenge] = float(expiry)
            self._used_until[challenge] = float(expiry)

    def _forget_used(self, now: float) -> None:
        """Drop used admitted challenges past their expiry (they can no longer be answered anyway)."""
        gone = self._used_until
        while gone:
            challenge, expiry = next(iter(gone.items()))
            if expiry >= now:
                break
            gone.popitem(last=False)
            if challenge in self._used_set and challenge not in self._outstanding:
                self._used_set.discard(challenge)

    def _consume(self, challenge: bytes, serial: int, now: float) -> None:
        if challenge in self._used_set:
            raise self._refuse(ReplayedChallenge("this challenge was already answered: a replayed response"),
                               serial, now)
        expiry = self._outstanding.pop(challenge, None)
        if expiry is None:
            raise self._refuse(ReplayedChallenge("a response to a challenge this reader never issued"), serial, now)
        if len(self._used) == self._used.maxlen:
            self._used_set.discard(self._used[0])
        self._used.append(challenge)
        self._used_set.add(challenge)
        if now > expiry:
            raise self._refuse(ReplayedChallenge(f"the challenge expired {now - expiry:.0f} s ago"), serial, now)

    def verify_response(self, certificate: bytes, challenge: bytes, signature: bytes, now: float, *,
                        chip_serial: int | None = None, expected_resident: int | None = None) -> Identity:
        """Check a card's signed answer to this reader's challenge; the identity, or a recorded refusal."""
        hint = int(chip_serial or 0)
        self._consume(challenge, hint, now)
        cc = self.verifier.certificate(certificate, USER, now, hint)
        if chip_serial is not None and int(chip_serial) != cc.card_serial:
            raise self._refuse(WrongHolder(f"card {chip_serial} presented the certificate of card "
                                           f"{cc.card_serial}"), hint, now)
        self._check_signature(cc, challenge, signature, now)
        self.verifier.check_revocation(cc, now, self.online)
        resident = self._holder(cc.card_serial, now)
        self._expect(resident, expected_resident, cc.card_serial, now)
        return self._record(Identity(resident, "jpki_user_cert", Assurance.HIGH, now, cc.card_serial), now)

    def _check_signature(self, cc: CheckedCertificate, challenge: bytes, signature: bytes, now: float) -> None:
        """The signature is new to this reader and verifies under the certificate's key (then remembered)."""
        if signature in self._seen_set:
            raise self._refuse(ReplayedChallenge("this signature was already accepted once: a replayed "
                                                 "response"), cc.card_serial, now)
        if not cc.check(signature, challenge):
            raise self._refuse(ForgedData(f"the signature does not verify with card {cc.card_serial}'s "
                                          "certificate: another card's key or tampered data"), cc.card_serial, now)
        self._remember(signature)

    def _remember(self, signature: bytes) -> None:
        if len(self._seen) == self._seen.maxlen:
            self._seen_set.discard(self._seen[0])
        self._seen.append(signature)
        self._seen_set.add(signature)

    def _holder(self, card_serial: int, now: float) -> int:
        try:
            return self.registry.holder_of(card_serial)
        except UnknownCard as err:
            raise self._refuse(err, card_serial, now) from None

    def _expect(self, resident: int, expected: int | None, serial: int, now: float) -> None:
        if expected is not None and int(expected) != resident:
            raise self._refuse(WrongHolder(f"card {serial} belongs to another resident than the one expected "
                                           f"({expected})"), serial, now)

    def _chip(self, card, now: float) -> Chip:
        if type(card) is int or isinstance(card, np.integer):
            try:
                return self.registry.card(int(card))
            except UnknownCard as err:
                raise self._refuse(err, int(card), now) from None
        return card

    # -- the two reads ------------------------------------------------------------------------

    def authenticate(self, card, pin: str, now: float, challenge_source: np.random.Generator | ChallengeStream | None = None, *,
                     expected_resident: int | None = None) -> Identity:
        """Full JPKI user authentication (Assurance.HIGH): PIN, signed challenge, chain, validity, revocation."""
        chip = self._chip(card, now)
        nonce = self.challenge(now, challenge_source)
        try:
            chip.verify_pin("user", pin, now, self.reader_id)
            signature = chip.sign(nonce, now, USER, self.reader_id)
        except Exception:
            self._outstanding.pop(nonce, None)
            raise
        return self.verify_response(chip.certificate(USER), nonce, signature, now, chip_serial=chip.serial,
                                    expected_resident=expected_resident)

    def authenticate_many(self, cards, pins, nows, challenge_source: ChallengeStream | None = None
                          ) -> list[Identity | TrustError]:
        """`authenticate` for many rows in order (see `twin.reader_batch`): each identity or refusal."""
        from twin.reader_batch import authenticate_many

        return authenticate_many(self, cards, pins, nows, challenge_source)

    def read_serial(self, card, now: float, *, expected_resident: int | None = None) -> Identity:
        """PIN-less read of serial and face data (Assurance.MEDIUM); the My Number is never read."""
        chip = self._chip(card, now)
        face = chip.read_face()
        if not self.verifier.anchor_check(face.signature, face.payload()):
            raise self._refuse(ForgedData("the card-face data does not match the authority's seal: tampered"),
                               int(face.serial), now)
        if int(chip.serial) != int(face.serial):
            raise self._refuse(WrongHolder(f"card {chip.serial} answered with the face record of card "
                                           f"{face.serial}"), int(chip.serial), now)
        if now >= face.expires_at:
            raise self._refuse(CardExpired(face.serial, face.expires_at), face.serial, now)
        if self.online:
            try:
                row = self.registry.row_of(face.serial)
            except UnknownCard as err:
                raise self._refuse(err, face.serial, now) from None
            self.registry.check_usable(row, now, self.reader_id)
            resident = int(self.registry.resident[row])
        else:
            resident = self._holder(face.serial, now)
            if self.verifier.held is not None:  # with no list cached, a MEDIUM check-in still proceeds
                cc = self.verifier.chain(chip.certificate(USER), now, face.serial)
                self.verifier.check_revocation(cc, now, online=False)
        self._expect(resident, expected_resident, face.serial, now)
        return self._record(Identity(resident, "card_serial", Assurance.MEDIUM, now, int(face.serial)), now)

    def verify_document(self, certificate: bytes, data: bytes, signature: bytes, now: float) -> Identity:
        """Check a document signed with a signing certificate (署名用): chain, validity, revocation."""
        cc = self.verifier.certificate(certificate, SIGNING, now)
        if not cc.check(signature, data):
            raise self._refuse(ForgedData(f"the document signature does not verify with card {cc.card_serial}'s "
                                          "signing certificate: altered document or another key"), cc.card_serial, now)
        self.verifier.check_revocation(cc, now, self.online, what="signing certificate")
        resident = self._holder(cc.card_serial, now)
        return Identity(resident, "jpki_signing_cert", Assurance.HIGH, now, cc.card_serial)
