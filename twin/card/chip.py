"""A card as its chip answers a reader (ICチップ): PIN-guarded JPKI apps, input support, free area.

`Card` is a thin view over one registry row: PIN counters, status and apps live in the
registry's arrays, so every view of the same card shares them.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from twin.card.freearea import CATALOGUE, FREE_AREA_SLOTS, app_bit, names_in
from twin.card.rules import (
    APP_SIGNING,
    APP_SUPPORT,
    APP_USER,
    APPLIED,
    MAX_TRIES,
    PIN_APPS,
    app_index,
    normalise_pin,
)
from twin.errors import ValidationError
from twin.ids import format_my_number
from twin.keys import digest_signer
from twin.pki import SIGNING, USER, FaceData
from twin.trust_errors import (
    AppNotInstalled,
    CardNotIssued,
    FreeAreaFull,
    OrdinanceMissing,
    PinLocked,
    PinRequired,
    WrongPin,
)
from twin.trust_events import AppChanged, PinLockedEvent, PinRejected, refuse


@dataclass(frozen=True, slots=True)
class SignedFace:
    """The card-face record a PIN-less read returns: serial, 4 basic items, validity, the authority's seal."""

    serial: int
    face: FaceData
    expires_at: float
    signature: bytes = field(repr=False)

    def payload(self) -> bytes:
        """The bytes the authority sealed."""
        return b"face|%d|%s|%d" % (self.serial, self.face.encode(), int(self.expires_at))


@dataclass(frozen=True, slots=True)
class InputSupportData:
    """What the input-support app (券面事項入力補助AP) returns after its PIN: My Number and the 4 items."""

    serial: int
    my_number: str
    face: FaceData
    signature: bytes = field(repr=False)

    def payload(self) -> bytes:
        """The bytes the authority sealed."""
        return b"support|%d|%s|%s" % (self.serial, self.my_number.encode(), self.face.encode())


class Card:
    """One card's chip: apps behind PINs, signatures with the card's keys, free-area slots."""

    __slots__ = ("registry", "row", "serial", "_open")

    def __init__(self, registry, row: int, serial: int | None = None) -> None:
        self.registry = registry
        self.row = int(row)
        self.serial = int(registry.serial[self.row]) if serial is None else serial
        self._open: set[int] = set()  # apps whose PIN was verified in this session

    def __repr__(self) -> str:
        return f"Card(serial={self.serial}, resident={self.resident_id})"

    @property
    def resident_id(self) -> int:
        """The resident the card was issued to."""
        return int(self.registry.resident[self.row])

    @property
    def expires_at(self) -> float:
        """When the card stops being valid."""
        return self.registry.expires_at(self.row)

    @property
    def face(self) -> FaceData:
        """The 4 basic items printed on the card (as updated on its back after moves)."""
        return self.registry.face_of_resident(self.resident_id)

    def status(self, now: float) -> str:
        """applied, active, suspended, retired or expired at `now`."""
        return self.registry.status_name(self.row, now)

    def tries_left(self, app: str) -> int:
        """Wrong entries left before `app` (user, signing, support) locks."""
        return int(self.registry.tries[self.row, app_index(app)])

    def is_locked(self, app: str) -> bool:
        """Whether `app` is locked (only a counter can unlock it)."""
        return self.tries_left(app) == 0

    def _in_hand(self, now: float, where: str) -> None:
        if int(self.registry.status[self.row]) == APPLIED:
            raise refuse(self.registry.events, CardNotIssued(f"card {self.serial} has not been handed over yet"),
                         self.serial, where, now)

    # -- PINs ---------------------------------------------------------------------------------

    def verify_pin(self, app: str, pin: str, now: float, where: str = "card") -> None:
        """Check a PIN against the chip: a wrong one uses a try, a right one resets the counter."""
        a = app_index(app)
        self._in_hand(now, where)
        entered = normalise_pin(a, pin)
        reg, ev = self.registry, self.registry.events
        if reg.tries[self.row, a] <= 0:
            raise refuse(ev, PinLocked(self.serial, PIN_APPS[a]), self.serial, where, now)
        if hmac.compare_digest(entered, reg.pin_of(self.row, a)):
            reg.tries[self.row, a] = MAX_TRIES[a]
            self._open.add(a)
            return
        left = int(reg.tries[self.row, a]) - 1
        reg.tries[self.row, a] = left
        self._open.discard(a)
        ev.append(PinRejected(now, self.serial, PIN_APPS[a], left))
        if left == 0:
            ev.append(PinLockedEvent(now, self.serial, PIN_APPS[a]))
        raise refuse(ev, WrongPin(self.serial, PIN_APPS[a], left), self.serial, where, now)

    # -- JPKI apps ----------------------------------------------------------------------------

    def certificate(self, purpose: int = USER) -> bytes:
        """The DER certificate of `purpose` (readable without a PIN, as on the real chip)."""
        reg, row = self.registry, self.row
        if int(reg.status[row]) == APPLIED:
            raise CardNotIssued(f"card {self.serial} has not been handed over yet")
        gen = int(reg.user_gen[row] if purpose == USER else reg.sign_gen[row])
        return reg.cert_der.get((row, purpose, gen), lambda: reg.ca.certificate(reg.cert_request(row, purpose)))

    def sign(self, message: bytes, now: float, purpose: int = USER, where: str = "card") -> bytes:
        """Sign `message` with the card's key; needs this session's PIN for the app, used once."""
        gen = self._unlock(purpose, now, where)
        return self.registry.ca.card_signer(self.serial, purpose, gen)(message)

    def _unlock(self, purpose: int, now: float, where: str) -> int:
        """The key generation behind `purpose`, usable once per PIN verification in this session."""
        a = APP_USER if purpose == USER else APP_SIGNING
        if a not in self._open:
            raise refuse(self.registry.events, PinRequired(f"the {PIN_APPS[a]} key of card {self.serial} "
                                                           "signs only after its PIN in this session"),
                         self.serial, where, now)
        self._open.discard(a)
        reg = self.registry
        return int(reg.user_gen[self.row] if purpose == USER else reg.sign_gen[self.row])

    def sign_digest(self, digest: bytes, now: float, purpose: int = USER, where: str = "card") -> bytes:
        """Sign a SHA-256 digest made outside the card (the APDU path); same PIN rule as `sign`."""
        if len(digest) != 32:
            raise ValidationError(f"a SHA-256 digest has 32 bytes, got {len(digest)}")
        gen = self._unlock(purpose, now, where)
        return digest_signer(self.registry.ca.card_private_key(self.serial, purpose, gen))(digest)

    def sign_document(self, password: str, data: bytes, now: float, where: str = "card") -> bytes:
        """Sign a document with the signing key (署名用), behind the 6–16 character password."""
        self.registry.cert_request(self.row, SIGNING)  # raises when the card has no signing certificate
        self.verify_pin("signing", password, now, where)
        return self.sign(data, now, SIGNING, where)

    # -- PIN-less face read and the input-support app -----------------------------------------

    def read_face(self) -> SignedFace:
        """Serial number, 4 basic items and validity with the authority's seal (no PIN, no My Number)."""
        unsigned = SignedFace(self.serial, self.face, self.expires_at, b"")
        payload = unsigned.payload()
        sig = self.registry.seals.get(payload, lambda: self.registry.ca.seal(payload))
        return SignedFace(self.serial, unsigned.face, unsigned.expires_at, sig)

    def read_input_support(self, pin: str, now: float, where: str = "card") -> InputSupportData:
        """My Number and the 4 basic items, behind the input-support PIN (3 tries)."""
        self.verify_pin("support", pin, now, where)
        self._open.discard(APP_SUPPORT)
        number = format_my_number(int(self.registry.my_number[self.resident_id]))
        unsigned = InputSupportData(self.serial, number, self.face, b"")
        return InputSupportData(self.serial, number, unsigned.face, self.registry.ca.seal(unsigned.payload()))

    # -- free area ----------------------------------------------------------------------------

    @property
    def apps(self) -> tuple[str, ...]:
        """Free-area apps installed on this card."""
        return names_in(int(self.registry.apps[self.row]))

    def install_app(self, app: str, now: float, where: str = "counter") -> None:
        """Install a municipal app in the free area: needs the city's ordinance and a free slot."""
        bit, reg = app_bit(app), self.registry
        reg.check_usable(self.row, now, where)
        if app not in reg.ordinances:
            raise refuse(reg.events, OrdinanceMissing(
                f"{app!r} cannot be installed: {reg.city_ja} has no ordinance for it under Art. 18 of the "
                f"My Number Act (enacted: {', '.join(sorted(reg.ordinances)) or 'none'})"), self.serial, where, now)
        mask = int(reg.apps[self.row])
        if mask >> bit & 1:
            return
        if len(names_in(mask)) >= FREE_AREA_SLOTS:
            raise refuse(reg.events, FreeAreaFull(f"card {self.serial} already holds {FREE_AREA_SLOTS} apps "
                                                  f"({', '.join(names_in(mask))}); remove one first"),
                         self.serial, where, now)
        reg.apps[self.row] = mask | (1 << bit)
        reg.events.append(AppChanged(now, self.serial, app, True))

    def remove_app(self, app: str, now: float) -> None:
        """Remove a municipal app from the free area."""
        bit, reg = app_bit(app), self.registry
        if not int(reg.apps[self.row]) >> bit & 1:
            raise refuse(reg.events, AppNotInstalled(f"{app!r} is not installed on card {self.serial}"),
                         self.serial, "counter", now)
        reg.apps[self.row] = int(reg.apps[self.row]) & ~(1 << bit)
        reg.events.append(AppChanged(now, self.serial, app, False))

    def use_app(self, app: str, now: float, pin: str | None = None, where: str = "app") -> int:
        """Open a free-area app (library desk, hospital reception …); returns the holder's resident id."""
        bit, reg = app_bit(app), self.registry
        reg.check_usable(self.row, now, where)
        if not int(reg.apps[self.row]) >> bit & 1:
            raise refuse(reg.events, AppNotInstalled(f"{app!r} is not installed on card {self.serial}"),
                         self.serial, where, now)
        if CATALOGUE[bit].needs_pin:
            if pin is None:
                raise refuse(reg.events, PinRequired(f"the {app} app opens only with the user PIN"),
                             self.serial, where, now)
            self.verify_pin("user", pin, now, where)
            self._open.discard(APP_USER)
        return self.resident_id

