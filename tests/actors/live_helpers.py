"""Helpers for the live-endpoint tests: a running service, its credentials, cards that sign (not a test module)."""

from __future__ import annotations

import base64
import json
import random
import socket
import time
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx
import polars as pl

from devices import contract
from twin.clock import jst

T_LIVE = jst(2026, 4, 6, 10)  # Monday 6 April 2026, 10:00 JST: kiosks and counters are open


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, from 20000-29999: above Ray's worker ports
    (10002-19999) and below the kernel's ephemeral ones (32768+), which Ray's processes take while
    a service starts (a port the kernel handed out once went to one of them before the service
    bound it: "Address already in use")."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20_000, 30_000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free TCP port in 20000-29999 on 127.0.0.1")


def tap_id() -> str:
    """A fresh reader tap id."""
    return uuid.uuid4().hex


@dataclass
class Live:
    """A running service as a client sees it."""

    url: str
    spec: Any
    service: Any = None
    http: httpx.Client = field(default=None)  # type: ignore[assignment]
    drill: Any = None  # the shared service's drill cards (tests/actors/live_drill.py)

    def __post_init__(self) -> None:
        if self.http is None:
            self.http = httpx.Client(base_url=self.url, timeout=60)

    @cached_property
    def creds(self) -> dict[str, Any]:
        """The credentials file the service issued."""
        return json.loads((Path(self.spec.data_dir) / "credentials.json").read_text())

    def device(self, role: str, n: int = 0, **where: Any) -> dict[str, Any]:
        """The n-th device of a role (optionally with matching fields, e.g. group=1)."""
        found = [d for d in self.creds["devices"] if d["role"] == role and all(d[k] == v for k, v in where.items())]
        return found[n]

    def headers(self, device: dict[str, Any]) -> dict[str, str]:
        """The reader contract's credential headers of a device."""
        return {"Authorization": f"Bearer {device['token']}", "X-Device-Id": device["device_id"]}

    def agency_headers(self, agency: str) -> dict[str, str]:
        """An agency's credential headers."""
        token = next(a["token"] for a in self.creds["agencies"] if a["agency"] == agency)
        return {"Authorization": f"Bearer {token}", "X-Agency-Id": agency}

    def now(self) -> float:
        """The service's clock."""
        return self.spec.now()

    @cached_property
    def city(self):
        """The service's city."""
        from actors import world

        return world.city(self.spec)

    @cached_property
    def trust(self):
        """The same authority and registry as the service's (deterministic from the spec)."""
        from actors.hosts_trust import authority

        return authority(self.spec)

    def holders(self, n: int, skip: int = 0, **where: Any) -> pl.DataFrame:
        """n card holders (resident_id, card_serial, household_id, ward, age), optionally filtered."""
        r = self.city.residents.filter(pl.col("has_card"))
        for k, v in where.items():
            r = r.filter(pl.col(k) == v)
        return r.slice(skip, n).select("resident_id", "card_serial", "household_id", "ward", "age")

    def tap(self, device: dict[str, Any], serial: int, kind: str = "checkin", at: float | None = None,
            face: bool = False, tid: str | None = None) -> dict[str, Any]:
        """A reader tap from `device` of card `serial` (with its sealed face record if asked)."""
        card: dict[str, Any] = {"card_serial": int(serial)}
        if face:
            card["face"] = face_json(self.trust[1].card(int(serial)).read_face())
        return {"tap_id": tid or tap_id(), "device_id": device["device_id"], "site_id": device["site_id"],
                "kind": kind, "at": round(self.now() if at is None else at, 3), "card": card}

    def kiosk_tap(self, device: dict[str, Any], serial: int, at: float | None = None) -> dict[str, Any]:
        """A kiosk_auth tap: the card signs the tap's challenge after its PIN."""
        reg = self.trust[1]
        card, tid, when = reg.card(int(serial)), tap_id(), round(self.now() if at is None else at, 3)
        nonce = uuid.uuid4().hex
        card.verify_pin("user", reg.pins(int(serial)).user, when)
        sig = card.sign(contract.challenge(tid, device["device_id"], device["site_id"], when, nonce), when)
        return {"tap_id": tid, "device_id": device["device_id"], "site_id": device["site_id"], "kind": "kiosk_auth",
                "at": when, "card": {"card_serial": int(serial)},
                "auth": {"certificate": b64(card.certificate()), "nonce": nonce, "signature": b64(sig)}}

    def login(self, serial: int) -> dict[str, str]:
        """Log in with card `serial` (challenge, PIN, signature); the resident's auth header."""
        reg = self.trust[1]
        chal = self.http.get("/v1/residents/challenge").json()["challenge"]
        card, now = reg.card(int(serial)), self.now()
        card.verify_pin("user", reg.pins(int(serial)).user, now)
        sig = card.sign(bytes.fromhex(chal), now)
        r = self.http.post("/v1/residents/sessions", json={"certificate": b64(card.certificate()),
                                                           "challenge": chal, "signature": b64(sig)})
        assert r.status_code == 201, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}


def b64(raw: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(raw).decode()


def face_json(face: Any) -> dict[str, Any]:
    """A sealed face record in the contract's JSON form."""
    f = face.face
    return {"name": f.name, "address": f.address, "birth_date": f.birth_date.strftime("%Y%m%d"), "sex": str(f.sex),
            "expires_at": int(face.expires_at), "seal": b64(face.signature)}


def wait_until(check, timeout: float = 60.0, step: float = 0.2) -> Any:
    """Poll `check()` until it returns something truthy (or fail after `timeout` s)."""
    end = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > end:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(step)
