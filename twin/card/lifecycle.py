"""Counter operations on cards (窓口): application, hand-over, loss, reissue, renewal, moves, death, unlock."""

from __future__ import annotations

import numpy as np

from twin.card.rules import (
    ACTIVE,
    APPLIED,
    EXPIRED,
    MAX_TRIES,
    NO_DAY,
    PIN_APPS,
    RETIRED,
    SIGNING_MIN_AGE,
    STATUS_NAMES,
    SUSPENDED,
    age_on,
    app_index,
    card_expiry_day,
    cert_expiry_day,
    day_of,
    day_start,
    normalise_pin,
)
from twin.clock import DAY
from twin.errors import NotFound
from twin.identity import Identity
from twin.pki import SIGNING, USER, CertRequest, cert_serial_of
from twin.trust_errors import (
    CardStateConflict,
    CounterOnly,
    NoSigningCertificate,
    TrustError,
    WrongHolder,
)
from twin.trust_events import CardLifecycle, PinUnlocked, refuse

RENEWAL_WINDOW = 90 * DAY  # renewal accepted from 3 months before expiry (assumption per J-LIS notices)


class LifecycleMixin:
    """Card lifecycle steps a city counter performs; mixed into CardRegistry."""

    def _step(self, row: int, now: float, step: str, detail: str = "") -> None:
        self.events.append(CardLifecycle(now, int(self.serial[row]), int(self.resident[row]), step, detail))

    def _refuse(self, err: TrustError, row: int, now: float) -> TrustError:
        return refuse(self.events, err, int(self.serial[row]), "counter", now)

    def _require(self, row: int, allowed: tuple[int, ...], now: float, doing: str) -> None:
        st = int(self.status[row])
        if st not in allowed:
            names = STATUS_NAMES
            raise self._refuse(CardStateConflict(f"cannot {doing} card {int(self.serial[row])}: it is {names[st]} "
                                              f"(needs {' or '.join(names[a] for a in allowed)})"), row, now)

    # -- certificates -------------------------------------------------------------------------

    def cert_request(self, row: int, purpose: int) -> CertRequest:
        """What the authority needs for the card's current certificate of `purpose`."""
        if purpose == USER:
            gen, start, until, holder = self.user_gen[row], self.user_from[row], self.user_until[row], None
        else:
            gen, start, until = self.sign_gen[row], self.sign_from[row], self.sign_until[row]
            if start == NO_DAY:
                raise NoSigningCertificate(f"card {int(self.serial[row])} carries no signing certificate "
                                           f"(not issued under age {SIGNING_MIN_AGE} or not requested)")
            holder = self.sign_holder.get(row) or self.face_of_resident(int(self.resident[row]))
        return CertRequest(int(self.serial[row]), purpose, int(gen), float(day_start(int(start))),
                           float(day_start(int(until) + 1)) - 1.0, holder)

    def user_certificates(self, rows: list[int]) -> list[bytes]:
        """The user certificate on each row's chip, as `Card.certificate(USER)` reads it, for many rows at
        once: the requests' fields read as columns, the authority's cache asked directly."""
        r = np.asarray(rows, dtype=np.int64)
        return self.ca.user_certificates(
            self.serial[r].tolist(), self.user_gen[r].tolist(), day_start(self.user_from[r].astype(np.int64)).tolist(),
            (day_start(self.user_until[r].astype(np.int64) + 1) - 1.0).tolist())

    def _issue_certs(self, row: int, now: float, signing: bool = True) -> None:
        """New user (and signing, if 15+) certificates from today to the 5th birthday (or the card's end)."""
        today, birth = day_of(now), int(self.birth[int(self.resident[row])])
        until = min(int(cert_expiry_day(np.array([today]), np.array([birth]))[0]), int(self.expiry[row]))
        self.user_from[row], self.user_until[row] = today, until
        self.ca.issue(self.cert_request(row, USER), now)
        if signing and int(age_on(np.array([birth]), np.array([today]))[0]) >= SIGNING_MIN_AGE:
            self.sign_from[row], self.sign_until[row] = today, until
            self.sign_holder[row] = self.face_of_resident(int(self.resident[row]))
            self.ca.issue(self.cert_request(row, SIGNING), now)

    def _revoke_certs(self, row: int, now: float, reason: str, user: bool = True,
                      recorded_at: float | None = None) -> None:
        serial = int(self.serial[row])
        if user:
            self.ca.revoke(cert_serial_of(serial, USER, int(self.user_gen[row])), now, reason, recorded_at)
        if self.sign_from[row] != NO_DAY:
            self.ca.revoke(cert_serial_of(serial, SIGNING, int(self.sign_gen[row])), now, reason, recorded_at)

    def has_signing_certificate(self, row: int, now: float) -> bool:
        """Whether the card holds an unrevoked signing certificate."""
        if self.sign_from[row] == NO_DAY:
            return False
        rec = self.ca.revocation_of(cert_serial_of(int(self.serial[row]), SIGNING, int(self.sign_gen[row])))
        return rec is None or rec.revoked_at > now

    # -- application and hand-over ------------------------------------------------------------

    def apply(self, resident_id: int, now: float) -> int:
        """A resident applies for a card; returns the new card's serial, ready after the lead time."""
        rid = int(resident_id)
        if not 0 <= rid < self.population:
            raise NotFound(f"resident {rid} is not registered in {self.city_ja}")
        current = int(self.card_row[rid])
        if current >= 0:
            st, held = int(self.status[current]), int(self.serial[current])
            why = {APPLIED: f"already applied for card {held}",
                   ACTIVE: f"already holds valid card {held}; renew or reissue it instead",
                   SUSPENDED: f"holds suspended card {held}; report it found or reissue it"}.get(st)
            if why and not (st == ACTIVE and now >= self.expires_at(current)):
                raise self._refuse(CardStateConflict(f"resident {rid} {why}"), current, now)
        return self._new_card(rid, now, "applied")

    def _new_card(self, rid: int, now: float, detail: str) -> int:
        serial = self._next_serial
        self._next_serial += 7
        row = int(self._append(np.array([serial], dtype=np.int64), np.array([rid], dtype=np.int64), APPLIED)[0])
        self._extra[serial] = row
        self.sign_from[row] = self.sign_until[row] = NO_DAY
        self.ready_at[row] = now + self.lead_time
        self.card_row[rid] = row
        self._step(row, now, "applied", detail)
        return serial

    def issue(self, serial: int, now: float) -> None:
        """Hand over an applied card once its lead time has passed (交付); any older card is retired."""
        row = self.row_of(serial)
        self._require(row, (APPLIED,), now, "hand over")
        if now < self.ready_at[row]:
            raise self._refuse(CardStateConflict(f"card {int(serial)} is not ready: it can be handed over "
                                              f"{(self.ready_at[row] - now) / DAY:.1f} days from now"), row, now)
        rid = int(self.resident[row])
        for old in self._cards_of(rid):
            if old != row and int(self.status[old]) in (ACTIVE, SUSPENDED, EXPIRED):
                self._retire(old, now, "returned")
        today = day_of(now)
        self.issued[row] = today
        self.expiry[row] = int(card_expiry_day(np.array([today]), np.array([int(self.birth[rid])]))[0])
        self.status[row] = ACTIVE
        self.tries[row] = MAX_TRIES
        del self.ready_at[row]
        self._issue_certs(row, now)
        self._step(row, now, "issued")

    def _cards_of(self, rid: int) -> np.ndarray:
        return np.flatnonzero(self.resident[: self._n] == rid)

    def _retire(self, row: int, now: float, reason: str) -> None:
        if int(self.status[row]) != SUSPENDED:  # a lost card's certificates were revoked already
            self._revoke_certs(row, now, reason)
        self.status[row] = RETIRED
        self.since[row] = (now, reason)
        self._step(row, now, "retired", reason)

    # -- loss, reissue, renewal ---------------------------------------------------------------

    def report_loss(self, serial: int, now: float, recorded_at: float | None = None) -> None:
        """The holder reports the card lost (紛失届): suspend it and revoke both certificates, all or nothing.

        Every check comes first; `recorded_at` is when the authority learns of it (a report dated
        before the newest revocation list is effective from `now` and carried by the next list)."""
        row = self.row_of(serial)
        self._require(row, (ACTIVE, EXPIRED), now, "report lost")
        self._revoke_certs(row, now, "loss", recorded_at=recorded_at)
        self.status[row] = SUSPENDED
        self.since[row] = (now, "loss")
        self._step(row, now, "suspended", "loss")

    def report_found(self, serial: int, now: float) -> None:
        """A lost card is found: lift the suspension and issue new certificates (the old ones stay revoked)."""
        row = self.row_of(serial)
        self._require(row, (SUSPENDED,), now, "restore")
        self.status[row] = ACTIVE
        del self.since[row]
        self.user_gen[row] += 1
        had_signing = self.sign_from[row] != NO_DAY
        if had_signing:
            self.sign_gen[row] += 1
        self._issue_certs(row, now, signing=had_signing)
        self._step(row, now, "found")

    def reissue(self, serial: int, now: float) -> int:
        """Apply for a replacement of a lost or damaged card (再交付); the old card is retired now."""
        row = self.row_of(serial)
        self._require(row, (ACTIVE, SUSPENDED, EXPIRED), now, "reissue")
        self._retire(row, now, "reissue")
        return self._new_card(int(self.resident[row]), now, f"reissue of {int(serial)}")

    def renew_card(self, serial: int, now: float) -> int:
        """Apply for a new card near or after expiry (更新); the old one works until the new is handed over."""
        row = self.row_of(serial)
        self._require(row, (ACTIVE, EXPIRED), now, "renew")
        if now < self.expires_at(row) - RENEWAL_WINDOW:
            raise self._refuse(CardStateConflict(f"card {int(serial)} can be renewed only from 3 months before it "
                                              f"expires; {(self.expires_at(row) - RENEWAL_WINDOW - now) / DAY:.0f} "
                                              "days to go"), row, now)
        return self._new_card(int(self.resident[row]), now, f"renewal of {int(serial)}")

    def renew_certificates(self, serial: int, now: float) -> None:
        """Issue new certificates on the same card (電子証明書の更新); the old ones are revoked."""
        row = self.row_of(serial)
        self.check_usable(row, now, "counter")
        had_signing = self.sign_from[row] != NO_DAY
        self._revoke_certs(row, now, "renewal")
        self.user_gen[row] += 1
        if had_signing:
            self.sign_gen[row] += 1
        self._issue_certs(row, now)
        self._step(row, now, "certificates_renewed")

    def sweep_expired(self, now: float) -> int:
        """Mark active cards past their validity as expired (one event each); returns how many."""
        n = self._n
        rows = np.flatnonzero((self.status[:n] == ACTIVE) & (self.expiry[:n] < day_of(now)))
        self.status[rows] = EXPIRED
        for row in rows:
            self._step(int(row), now, "expired")
        return int(rows.size)

    # -- changes of the holder ----------------------------------------------------------------

    def _active_row_of_resident(self, resident_id: int, now: float) -> int:
        row = int(self.card_row[int(resident_id)])
        if row < 0 or int(self.status[row]) == APPLIED:
            older = [r for r in self._cards_of(int(resident_id)) if int(self.status[r]) == ACTIVE]
            row = older[-1] if older else -1
        return row

    def change_address(self, resident_id: int, now: float, ward: int | None = None) -> None:
        """A move (転居): the address changes and the signing certificate is revoked; the user one stays."""
        rid = int(resident_id)
        self._freeze_signing_holders(rid)
        if ward is not None:
            self.ward[rid] = int(ward)
        self.address_version[rid] = self.address_version.get(rid, 0) + 1
        self._holder_changed(rid, now, "address_change")

    def change_name(self, resident_id: int, now: float) -> None:
        """A name change: the signing certificate is revoked; the user certificate stays."""
        rid = int(resident_id)
        self._freeze_signing_holders(rid)
        self.name_version[rid] = self.name_version.get(rid, 0) + 1
        self._holder_changed(rid, now, "name_change")

    def _freeze_signing_holders(self, rid: int) -> None:
        """Keep the 4 items inside existing signing certificates as they were issued, before a change."""
        face = self.face_of_resident(rid)
        for row in self._cards_of(rid):
            if self.sign_from[row] != NO_DAY:
                self.sign_holder.setdefault(int(row), face)

    def _holder_changed(self, rid: int, now: float, reason: str) -> None:
        row = self._active_row_of_resident(rid, now)
        if row < 0:
            return
        if self.has_signing_certificate(row, now):
            self.ca.revoke(cert_serial_of(int(self.serial[row]), SIGNING, int(self.sign_gen[row])), now, reason)
        self._step(row, now, reason)

    def issue_signing_certificate(self, serial: int, now: float) -> None:
        """Issue a new signing certificate (after a move, or on turning 15)."""
        row = self.row_of(serial)
        self.check_usable(row, now, "counter")
        birth = int(self.birth[int(self.resident[row])])
        if int(age_on(np.array([birth]), np.array([day_of(now)]))[0]) < SIGNING_MIN_AGE:
            raise self._refuse(NoSigningCertificate(f"no signing certificate is issued under age "
                                                    f"{SIGNING_MIN_AGE}"), row, now)
        if self.has_signing_certificate(row, now):
            self.ca.revoke(cert_serial_of(int(serial), SIGNING, int(self.sign_gen[row])), now, "renewal")
        if self.sign_from[row] != NO_DAY:
            self.sign_gen[row] += 1
        self.sign_from[row], self.sign_until[row] = day_of(now), self.user_until[row]
        self.sign_holder[row] = self.face_of_resident(int(self.resident[row]))
        self.ca.issue(self.cert_request(row, SIGNING), now)
        self._step(row, now, "signing_certificate_issued")

    def report_death(self, resident_id: int, now: float) -> None:
        """A death is registered: every card of the resident is retired and its certificates revoked."""
        for row in self._cards_of(int(resident_id)):
            if int(self.status[row]) != RETIRED:
                self._retire(int(row), now, "death")

    # -- counter-only PIN operations ----------------------------------------------------------

    def unlock_at_counter(self, serial: int, app: str, identity: Identity, now: float,
                          new_pin: str | None = None) -> None:
        """Reset a locked app's counter (and optionally its PIN) after a photo-ID check at a counter."""
        row = self.row_of(serial)
        a = app_index(app)
        if identity.method != "counter_photo_id":
            raise self._refuse(CounterOnly(f"the {PIN_APPS[a]} app can be unlocked only at a city counter after a "
                                           f"photo-ID check, not by {identity.method!r}"), row, now)
        if identity.resident_id != int(self.resident[row]):
            raise self._refuse(WrongHolder(f"card {int(serial)} belongs to another resident than the person "
                                           "checked at the counter"), row, now)
        if new_pin is not None:
            self.pin_override[(row, a)] = normalise_pin(a, new_pin)
        self.tries[row, a] = MAX_TRIES[a]
        self.events.append(PinUnlocked(now, int(serial), PIN_APPS[a], new_pin is not None))

