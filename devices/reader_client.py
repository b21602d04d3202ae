"""The card-reader client (カード読取端末): watch PC/SC readers, read each card, queue, sync.

Shelter and school roles: a PIN-less read (the twin card's sealed face record — serial and 4 basic items,
never the My Number — or a real card's user certificate) becomes a check-in or check-out at a
shelter, or a child-watch tap at a school or cram school (the guardian is notified).
Kiosk role: the user-authentication PIN and a signature over a fresh challenge that binds the
device, site, tap id and time. Every complete read is stored in the durable queue first, then
sent; offline, taps wait and are sent when the endpoint is back, each recorded exactly once
(the endpoint is idempotent by tap id).
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from devices import contract
from devices.pcsc import CardConnection, CardGone, PcscContext, PcscUnavailable
from devices.tap_queue import TapQueue
from devices.uplink import CredentialsRefused, EndpointUnavailable, Uplink
from twin.apdu import terminal
from twin.apdu.terminal import CardRefused, PinBlocked, PinRejected, Transmit
from twin.errors import ValidationError
from twin.events import Event

PinSource = Callable[[str], str | None]  # reader name -> PIN, or None when nobody entered one
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass(frozen=True, slots=True)
class ReaderSettings:
    """Who this reader is and how it behaves; validated when built."""

    role: str  # shelter | school | kiosk
    site_id: str
    device_id: str
    kind: str = ""  # checkin/checkout (shelter) or kiosk_auth; empty: the role's first kind
    batch_size: int = 100
    sync_interval: float = 5.0  # seconds between sync attempts while taps are pending
    max_backoff: float = 60.0  # longest wait after the endpoint was unreachable
    poll: float = 0.25  # seconds to wait for a reader change per loop
    reader_filter: str = ""  # only readers whose name contains this

    def __post_init__(self) -> None:
        if self.role not in contract.ROLE_KINDS:
            raise ValidationError(f"role must be one of {', '.join(contract.ROLE_KINDS)}, not {self.role!r}")
        kinds = contract.ROLE_KINDS[self.role]
        if not self.kind:
            object.__setattr__(self, "kind", kinds[0])
        if self.kind not in kinds:
            raise ValidationError(f"a {self.role} reader records {' or '.join(kinds)}, not {self.kind!r}")
        for name in ("site_id", "device_id"):
            if not _ID.match(getattr(self, name)):
                raise ValidationError(f"{name} must be 1-64 of A-Z a-z 0-9 . _ : -, not {getattr(self, name)!r}")
        if not 1 <= self.batch_size <= contract.MAX_BATCH:
            raise ValidationError(f"batch_size must be 1..{contract.MAX_BATCH}, not {self.batch_size}")
        if self.sync_interval <= 0 or self.poll <= 0 or self.max_backoff < self.sync_interval:
            raise ValidationError("sync_interval and poll must be > 0 and max_backoff >= sync_interval")


@dataclass(frozen=True, slots=True)
class ReaderEvent(Event):
    """Something the reader did or saw, for the operator's screen and the log."""

    what: str  # tap_queued read_aborted read_refused synced tap_rejected offline credentials_refused pcsc_lost
    reader: str = ""
    tap_id: str = ""
    detail: str = ""
    kind: ClassVar[str] = "reader_event"


@dataclass(frozen=True, slots=True)
class SyncReport:
    """One sync pass: what was sent and answered, what is left, and whether the endpoint was reached."""

    recorded: int
    duplicate: int
    rejected: int
    pending: int
    reachable: bool


class ReaderClient:
    """Reads cards into taps, keeps them in a durable queue and sends them to the endpoint."""

    def __init__(self, settings: ReaderSettings, queue: TapQueue, uplink: Uplink,
                 pin_source: PinSource | None = None, clock: Callable[[], float] = time.time,
                 on_event: Callable[[ReaderEvent], None] | None = None) -> None:
        if settings.role == "kiosk" and pin_source is None:
            raise ValidationError("a kiosk reader needs a PIN source (the keypad)")
        self.settings, self.queue, self.uplink = settings, queue, uplink
        self.pin_source, self.clock = pin_source, clock
        self.on_event = on_event or (lambda _e: None)
        self._next_sync = 0.0
        self._backoff = settings.sync_interval

    def _emit(self, what: str, reader: str = "", tap_id: str = "", detail: str = "") -> None:
        self.on_event(ReaderEvent(self.clock(), what, reader, tap_id, detail))

    # -- one card -----------------------------------------------------------------------------
    def read_tap(self, transmit: Transmit, reader: str) -> contract.Tap | None:
        """Read the card in `reader` into a tap (nothing is stored here); None if no PIN was given."""
        s = self.settings
        tap_id, at = uuid.uuid4().hex, round(self.clock(), 3)
        if s.role != "kiosk":  # shelter and school readers: a PIN-less read
            card = _card_of(terminal.read_card_id(transmit))
            return contract.Tap(tap_id, s.device_id, s.site_id, s.kind, at, card)
        pin = self.pin_source(reader)
        if not pin:
            return None
        nonce = os.urandom(16).hex()
        signed = terminal.sign_challenge(transmit, pin, contract.challenge(tap_id, s.device_id, s.site_id, at, nonce))
        cert_serial = terminal.CardId(None, signed.certificate).certificate_serial
        auth = contract.Auth(contract.b64(signed.certificate), nonce, contract.b64(signed.signature))
        return contract.Tap(tap_id, s.device_id, s.site_id, s.kind, at,
                            contract.Card(certificate_serial=f"{cert_serial:x}"), auth)

    def take(self, reader: str, transmit: Transmit) -> contract.Tap | None:
        """Read one presented card and queue its tap; a failed or interrupted read stores nothing."""
        try:
            tap = self.read_tap(transmit, reader)
        except CardGone as exc:
            self._emit("read_aborted", reader, detail=f"card removed before the read finished: {exc}")
            return None
        except PinRejected as exc:
            self._emit("read_refused", reader, detail=f"{exc}; remove the card and try again")
            return None
        except (PinBlocked, CardRefused, ValidationError) as exc:
            self._emit("read_refused", reader, detail=str(exc))
            return None
        if tap is None:
            self._emit("read_refused", reader, detail="no PIN entered")
            return None
        self.queue.add(tap)
        self._emit("tap_queued", reader, tap.tap_id, _describe(tap))
        self._next_sync = 0.0  # send it now
        return tap

    # -- the endpoint -------------------------------------------------------------------------
    def sync(self) -> SyncReport:
        """Send pending taps until none are left or the endpoint cannot be reached."""
        counts = {"recorded": 0, "duplicate": 0, "rejected": 0}
        reachable = True
        while True:
            batch = self.queue.pending(self.settings.batch_size)
            if not batch:
                break
            self.queue.attempted([t.tap_id for t in batch])
            try:
                results = self.uplink.send(batch)
            except EndpointUnavailable as exc:
                results = self._one_by_one(batch) if len(batch) > 1 else []
                if not results:
                    reachable = False
                    self._emit("offline", detail=f"{exc}; {len(batch)}+ taps stay queued")
                    break
            except CredentialsRefused as exc:
                reachable = False
                what = "credentials_refused" if isinstance(exc, CredentialsRefused) else "offline"
                self._emit(what, detail=f"{exc}; {len(batch)}+ taps stay queued")
                break
            self.queue.settle(results, self.clock())
            for r in results:
                counts[r.status] += 1
                self._emit("synced" if r.status != "rejected" else "tap_rejected", tap_id=r.tap_id,
                           detail=r.status if r.status != "rejected" else f"{r.error}: {r.detail}")
        self._schedule(reachable)
        return SyncReport(counts["recorded"], counts["duplicate"], counts["rejected"],
                          self.queue.counts().pending, reachable)

    def _one_by_one(self, batch: list[contract.Tap]) -> list[contract.TapResult]:
        """After a failed batch: each tap alone. A tap the endpoint fails on (5xx) while a later one is answered
        is parked as rejected (`server_error`: kept, reported, not resent), so it cannot block the queue; failed
        taps with no answer after them stay pending (the endpoint may be down)."""
        answered: list[contract.TapResult] = []
        failed: list[contract.Tap] = []
        for tap in batch:
            try:
                (result,) = self.uplink.send([tap])
            except CredentialsRefused:
                return answered  # the next batch says so
            except EndpointUnavailable:
                failed.append(tap)
                if len(failed) >= 3 and not answered:  # nothing answers: an outage, not one tap
                    return []
                continue
            answered.append(result)
            answered += [contract.TapResult(t.tap_id, "rejected", "server_error",
                                            "the endpoint failed on this tap alone (5xx) while the taps after it "
                                            "were answered; parked in the queue, not resent") for t in failed]
            failed = []
        return answered

    def _schedule(self, reachable: bool) -> None:
        s = self.settings
        self._backoff = s.sync_interval if reachable else min(self._backoff * 2, s.max_backoff)
        self._next_sync = self.clock() + self._backoff

    def sync_due(self) -> bool:
        """Whether pending taps should be sent now."""
        return self.clock() >= self._next_sync and self.queue.counts().pending > 0

    # -- the watch loop -----------------------------------------------------------------------
    def run(self, stop: threading.Event, max_taps: int | None = None, duration: float | None = None) -> int:
        """Watch the readers until `stop`, `max_taps` taps or `duration` seconds; the taps queued."""
        deadline = None if duration is None else time.monotonic() + duration
        taps, presence, ctx = 0, {}, None
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            if max_taps is not None and taps >= max_taps and self.queue.counts().pending == 0:
                break
            try:
                ctx = ctx or PcscContext()
                states = ctx.present(self.settings.poll)
            except PcscUnavailable as exc:
                self._emit("pcsc_lost", detail=str(exc))
                ctx = _release(ctx)
                stop.wait(1.0)
                continue
            for reader, here in sorted(states.items()):
                if here and not presence.get(reader) and self.settings.reader_filter in reader:
                    taps += self._take_from(reader)
                presence[reader] = here
            if self.sync_due():
                self.sync()
        _release(ctx)
        return taps

    def _take_from(self, reader: str) -> int:
        try:
            with CardConnection(reader) as conn:
                return int(self.take(reader, conn.transmit) is not None)
        except CardGone as exc:
            self._emit("read_aborted", reader, detail=str(exc))
            return 0


def _release(ctx: PcscContext | None) -> None:
    if ctx is not None:
        ctx.close()


def _card_of(card_id: terminal.CardId) -> contract.Card:
    cert_serial = card_id.certificate_serial
    face = None
    if card_id.face is not None:
        f = card_id.face
        face = contract.Face(f.items.name, f.items.address, f.items.birth_date, f.items.sex,
                             f.expires_at, contract.b64(f.seal))
    return contract.Card(card_id.card_serial, None if cert_serial is None else f"{cert_serial:x}", face)


def _describe(tap: contract.Tap) -> str:
    who = f"card {tap.card.card_serial}" if tap.card.card_serial is not None \
        else f"certificate {tap.card.certificate_serial}"
    return f"{tap.kind} at {tap.site_id}: {who}"
