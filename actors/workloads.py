"""Workloads for the load tester: each scenario's requests, built from the service's own city and credentials.

A workload is an iterator of `Op`s: one HTTP request each (method, path, JSON, the calling
device's headers), with the key that makes a retry safe. `disaster` sends shelter check-ins
(single taps or batches of queued taps) with a few check-outs; `certificates` sends a kiosk
card authentication and then the certificate request resting on it; `payments` sends cash
fees, wallet top-ups and point grants at kiosks and counters. Cards sign with the same
deterministic keys the service's authority issued, so kiosk authentications verify.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from devices import contract
from twin.errors import ValidationError

SCENARIOS = ("disaster", "certificates", "payments")
# HTTP requests one started operation sends at most, before retries (a kiosk authentication is
# followed by the certificate request resting on it).
REQUESTS_PER_OP = {"disaster": 1, "certificates": 2, "payments": 1}


@dataclass(frozen=True)
class Op:
    """One request: what to send, as whom, and the key a retry keeps."""

    kind: str  # e.g. checkin, checkin_batch, kiosk_auth, certificate, fee
    method: str
    path: str
    body: dict[str, Any] | None
    headers: dict[str, str]
    key: str
    count: int = 1  # domain operations carried (taps in a batch)
    then: Callable[[dict[str, Any]], Op | None] | None = field(default=None, compare=False)  # a follow-up


@dataclass
class Target:
    """What the load tester knows of the service: its spec, device credentials, and which card holders
    (positions start:stop in the city's list of holders) its requests may name."""

    spec: Any
    creds: dict[str, Any]
    pool: tuple[int, int | None] = (0, None)

    @classmethod
    def from_folder(cls, folder: str | Path, pool: tuple[int, int | None] = (0, None)) -> Target:
        """Read the service's data folder (service.json and credentials.json)."""
        from actors.spec import MANIFEST, ServiceSpec

        folder = Path(folder).expanduser()
        for name in (MANIFEST, "credentials.json"):
            if not (folder / name).is_file():
                raise ValidationError(f"{folder} has no {name}: give --data the folder `run.py serve` uses")
        layout = json.loads((folder / MANIFEST).read_text())
        layout.pop("store_kind", None)
        spec = ServiceSpec(data_dir=str(folder), **layout)
        return cls(spec, json.loads((folder / "credentials.json").read_text()), pool)

    def devices(self, role: str) -> list[dict[str, Any]]:
        """Every device of a role."""
        return [d for d in self.creds["devices"] if d["role"] == role]

    def holders(self) -> pl.DataFrame:
        """The card holders the workload may use (resident_id, card_serial)."""
        from actors import world

        held = world.city(self.spec).residents.filter(pl.col("has_card")).select("resident_id", "card_serial")
        start, stop = self.pool
        out = held.slice(start, None if stop is None else max(stop - start, 0))
        if out.height == 0:
            raise ValidationError(f"no card holders at positions {start}:{'' if stop is None else stop} "
                                  f"(the city has {held.height})")
        return out


def headers(device: dict[str, Any]) -> dict[str, str]:
    """A device's credential headers."""
    return {"Authorization": f"Bearer {device['token']}", "X-Device-Id": device["device_id"]}


def _tap(device: dict[str, Any], serial: int, kind: str, at: float) -> dict[str, Any]:
    return {"tap_id": uuid.uuid4().hex, "device_id": device["device_id"], "site_id": device["site_id"],
            "kind": kind, "at": round(at, 3), "card": {"card_serial": int(serial)}}


def disaster(t: Target, rng: np.random.Generator, clock: Callable[[], float], batch: int = 1,
             checkout_share: float = 0.05) -> Iterator[Op]:
    """Evacuees tap shelter readers: check-ins (batched when `batch` > 1) and some check-outs."""
    readers = t.devices("shelter")
    if not readers:
        raise ValidationError("the service has no shelter readers (design safety.readers_per_shelter = 0?)")
    held = t.holders()
    serials = held["card_serial"].to_numpy()[rng.permutation(held.height)]
    i = 0
    while True:
        dev = readers[int(rng.integers(len(readers)))]
        if batch > 1:
            taps = [_tap(dev, serials[(i + k) % serials.size], "checkin", clock()) for k in range(batch)]
            i += batch
            yield Op("checkin_batch", "POST", contract.BATCH_PATH, {"taps": taps}, headers(dev),
                     taps[0]["tap_id"], batch)
            continue
        kind = "checkout" if i and rng.random() < checkout_share else "checkin"
        serial = serials[int(rng.integers(i)) if kind == "checkout" else i % serials.size]
        i += kind == "checkin"
        tap = _tap(dev, serial, kind, clock())
        yield Op(kind, "POST", contract.TAPS_PATH, tap, headers(dev), tap["tap_id"])


def certificates(t: Target, rng: np.random.Generator, clock: Callable[[], float]) -> Iterator[Op]:
    """Residents authenticate at a kiosk with card and PIN, then ask for a residence record."""
    from actors.hosts_trust import authority

    kiosks = t.devices("kiosk")
    if not kiosks:
        raise ValidationError("the service has no kiosks")
    _, registry = authority(t.spec)
    serials = t.holders()["card_serial"].to_numpy()
    while True:
        dev, serial = kiosks[int(rng.integers(len(kiosks)))], int(serials[int(rng.integers(serials.size))])
        tap = _signed_tap(registry, dev, serial, clock())
        yield Op("kiosk_auth", "POST", contract.TAPS_PATH, tap, headers(dev), tap["tap_id"],
                 then=lambda answer, dev=dev, tap=tap: _certificate(dev, tap, answer))


def _signed_tap(registry: Any, dev: dict[str, Any], serial: int, at: float) -> dict[str, Any]:
    card, tap = registry.card(serial), _tap(dev, serial, "kiosk_auth", at)
    nonce = uuid.uuid4().hex
    card.verify_pin("user", registry.pins(serial).user, at)
    sig = card.sign(contract.challenge(tap["tap_id"], dev["device_id"], dev["site_id"], tap["at"], nonce), at)
    tap["auth"] = {"certificate": base64.b64encode(card.certificate()).decode(), "nonce": nonce,
                   "signature": base64.b64encode(sig).decode()}
    return tap


def _certificate(dev: dict[str, Any], tap: dict[str, Any], answer: dict[str, Any]) -> Op | None:
    if answer.get("status") not in ("recorded", "duplicate"):
        return None
    key = tap["tap_id"][:24]
    body = {"request_key": key, "auth_tap_id": tap["tap_id"], "certificate": "residence_record"}
    return Op("certificate", "POST", "/v1/kiosks/certificates", body, headers(dev), key)


def payments(t: Target, rng: np.random.Generator, clock: Callable[[], float]) -> Iterator[Op]:
    """Cash fees and wallet top-ups at kiosks and counters; point grants at counters."""
    kiosks, counters = t.devices("kiosk"), t.devices("counter")
    if not counters:
        raise ValidationError("the service has no counters")
    residents = t.holders()["resident_id"].to_numpy()
    while True:
        rid, key = int(residents[int(rng.integers(residents.size))]), uuid.uuid4().hex[:24]
        u = rng.random()
        dev = (kiosks or counters)[int(rng.integers(len(kiosks or counters)))] if u < 0.5 else \
            counters[int(rng.integers(len(counters)))]
        if u < 0.45:
            yield Op("fee", "POST", "/v1/payments/fees", {"key": key, "resident_id": rid, "fee_type": "residence_record",
                                                          "amount": 300}, headers(dev), key)
        elif u < 0.8:
            yield Op("top_up", "POST", "/v1/payments/top-ups", {"key": key, "resident_id": rid, "amount": 1000},
                     headers(dev), key)
        else:
            yield Op("grant", "POST", "/v1/points/grants", {"key": key, "resident_id": rid, "points": 100,
                                                            "activity": "volunteering"}, headers(dev), key)


def workload(name: str, t: Target, rng: np.random.Generator, clock: Callable[[], float], batch: int = 1,
             checkout_share: float = 0.05) -> Iterator[Op]:
    """The ops of scenario `name`."""
    if name == "disaster":
        return disaster(t, rng, clock, batch, checkout_share)
    if batch != 1:
        raise ValidationError(f"--batch applies to the disaster scenario only, not {name}")
    if name == "certificates":
        return certificates(t, rng, clock)
    if name == "payments":
        return payments(t, rng, clock)
    raise ValidationError(f"scenario must be one of {', '.join(SCENARIOS)}, got {name!r}")


def parse_pool(text: str) -> tuple[int, int | None]:
    """'START:STOP' (either may be empty) as holder positions."""
    start, sep, stop = text.partition(":")
    try:
        if not sep:
            raise ValueError
        a = int(start) if start else 0
        b = int(stop) if stop else None
    except ValueError:
        raise ValidationError(f"--pool must be START:STOP holder positions (e.g. 1000: or 0:500), got {text!r}") from None
    if a < 0 or (b is not None and b <= a):
        raise ValidationError(f"--pool needs 0 <= START < STOP, got {text!r}")
    return a, b
