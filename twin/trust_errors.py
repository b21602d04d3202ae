"""Refusals of the trust core (cards, JPKI certificates, readers): each says what happened and what remains."""

from __future__ import annotations

from twin.clock import to_jst
from twin.errors import Conflict, Forbidden, NotFound, TwinError, ValidationError


def when(t: float) -> str:
    """A POSIX instant as a readable JST time."""
    return to_jst(t).strftime("%Y-%m-%d %H:%M JST")


class TrustError(TwinError):
    """Marker base: every refusal raised by cards, the authority or readers."""

    code = "trust_error"


class UnknownCard(TrustError, NotFound):
    """No card with this serial number (製造番号) is registered."""

    code = "unknown_card"


class CardNotIssued(TrustError, Conflict):
    """The card was applied for but has not been handed over yet."""

    code = "card_not_issued"


class CardStateConflict(TrustError, Conflict):
    """A lifecycle step the card's current state does not allow (e.g. reissuing a retired card)."""

    code = "card_state"


class CardSuspended(TrustError, Forbidden):
    """The card was reported lost (一時停止) and is suspended."""

    code = "card_suspended"

    def __init__(self, serial: int, since: float) -> None:
        self.serial, self.since = serial, since
        super().__init__(f"card {serial} is suspended since {when(since)} (reported lost); "
                         "the holder can report it found or ask for a reissue at a city counter")


class CardRevoked(TrustError, Forbidden):
    """The card or its certificate was revoked (失効)."""

    code = "card_revoked"

    def __init__(self, serial: int, since: float, reason: str, what: str = "card") -> None:
        self.serial, self.since, self.reason = serial, since, reason
        subject = f"card {serial}" if what == "card" else f"the {what} of card {serial}"
        super().__init__(f"{subject} was revoked on {when(since)} ({reason.replace('_', ' ')}); "
                         "it cannot be used again")


class CardExpired(TrustError, Forbidden):
    """The card is past its validity date (有効期限)."""

    code = "card_expired"

    def __init__(self, serial: int, expired_at: float) -> None:
        self.serial, self.expired_at = serial, expired_at
        super().__init__(f"card {serial} expired on {when(expired_at)}; the holder must renew it at a city counter")


class CertificateExpired(TrustError, Forbidden):
    """A JPKI certificate is outside its validity period."""

    code = "certificate_expired"

    def __init__(self, cert_serial: int, not_after: float, purpose: str) -> None:
        self.cert_serial, self.not_after = cert_serial, not_after
        super().__init__(f"the {purpose} certificate {cert_serial:#x} is valid only until {when(not_after)}; "
                         "renew it at a city counter")


class WrongCertificate(TrustError, Forbidden):
    """A genuine certificate of the wrong kind (a signing certificate offered for log-in, say)."""

    code = "wrong_certificate"


class CertificateNotYetValid(TrustError, Forbidden):
    """A JPKI certificate whose validity has not started."""

    code = "certificate_not_yet_valid"


class WrongPin(TrustError, Forbidden):
    """A wrong PIN or password; the retry counter went down."""

    code = "wrong_pin"

    def __init__(self, serial: int, app: str, tries_left: int) -> None:
        self.serial, self.app, self.tries_left = serial, app, tries_left
        tail = ("the app is now locked; unlock it at a city counter" if tries_left == 0
                else f"{tries_left} tr{'y' if tries_left == 1 else 'ies'} left before the app locks")
        super().__init__(f"wrong {app} PIN for card {serial}: {tail}")


class PinLocked(TrustError, Forbidden):
    """An app whose retry counter reached zero; only a city counter can unlock it."""

    code = "pin_locked"

    def __init__(self, serial: int, app: str) -> None:
        self.serial, self.app = serial, app
        super().__init__(f"the {app} app of card {serial} is locked after too many wrong entries; "
                         "only a city counter can unlock it (no entry, even the right one, is accepted)")


class PinRequired(TrustError):
    """A PIN-guarded operation attempted without its PIN in this session."""

    code = "pin_required"
    status = 401


class UnknownIssuer(TrustError, Forbidden):
    """A certificate from an issuer the verifier does not trust."""

    code = "unknown_issuer"


class ForgedData(TrustError, Forbidden):
    """A signature that does not verify: forged or tampered data, or another card's key."""

    code = "forged"


class ReplayedChallenge(TrustError, Forbidden):
    """A signed response to a challenge that was already used, expired or never issued."""

    code = "replay"


class WrongHolder(TrustError, Forbidden):
    """The card or certificate belongs to someone other than the person expected."""

    code = "wrong_holder"


class NoSigningCertificate(TrustError, Forbidden):
    """The card carries no valid signing certificate (under 15, or revoked after a move)."""

    code = "no_signing_certificate"


class OrdinanceMissing(TrustError, Forbidden):
    """A free-area app (空き領域) the city has not enacted an ordinance for (My Number Act Art. 18)."""

    code = "ordinance_missing"


class AppNotInstalled(TrustError, NotFound):
    """A free-area app that is not installed on this card."""

    code = "app_not_installed"


class FreeAreaFull(TrustError, Conflict):
    """No free slot left in the card's free area."""

    code = "free_area_full"


class CounterOnly(TrustError, Forbidden):
    """An operation only a city counter may do (unlock, PIN reset) attempted elsewhere."""

    code = "counter_only"


class RevocationUnavailable(TrustError):
    """The verifier cannot check revocation (no list cached, list too old, or offline)."""

    code = "revocation_unavailable"
    status = 503


class PinFormatError(TrustError, ValidationError):
    """A PIN or password of the wrong shape; refused before it reaches the card (no try used)."""

    code = "pin_format"
