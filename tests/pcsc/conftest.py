"""Fixtures for the real PC/SC stack: pcscd + vsmartcard's vpcd + pyscard, and virtual cards."""

from __future__ import annotations

import importlib.util
import time

import numpy as np
import pytest

from tests.conftest import require
from twin.apdu.backend import CardChip
from twin.card import CardRegistry
from twin.card.rules import age_on, day_of
from twin.clock import jst
from twin.pki import CertificateAuthority


@pytest.fixture(scope="session")
def pcsc_stack():
    """A PC/SC context on pcscd with the vpcd driver (started for the session, and stopped, if needed)."""
    from devices import pcscd

    require(importlib.util.find_spec("smartcard") is not None, "pyscard (uv sync --all-extras)")
    lack = pcscd.missing()
    require(lack is None, lack or "")
    try:
        with pcscd.pcscd_running():
            require(pcscd.ready(), "a ready pcscd with vpcd on port 35963 (.ci/start-pcsc.sh)")
            from devices.pcsc import PcscContext

            with PcscContext() as ctx:
                yield ctx
    except pcscd.PcscdUnavailable as exc:
        require(False, str(exc))


@pytest.fixture
def reader0(pcsc_stack) -> str:
    """The name of vpcd's first virtual reader, checked empty before the test."""
    names = [n for n in pcsc_stack.readers() if n.startswith("Virtual PCD")]
    require(len(names) >= 2, "vpcd's two virtual readers")
    name = sorted(names)[0]
    assert pcsc_stack.wait_for(name, present=False, timeout=15), f"{name} still holds a card from an earlier test"
    return name


NOW = jst(2026, 4, 1, 10)  # every card holder's card and certificates are valid then


@pytest.fixture(scope="session")
def ca():
    """A P-256 authority (the card signs digests over APDUs, which Ed25519 cannot)."""
    return CertificateAuthority(seed=11, algorithm="p256")


@pytest.fixture
def registry(small_city, ca):
    """Kumamoto at 1 %: every card holder's card is valid at NOW."""
    return CardRegistry.from_city(small_city, ca, NOW)


def _adult_serials(registry) -> list[int]:
    rows = np.arange(len(registry))
    ages = age_on(registry.birth[registry.resident[rows]].astype(np.int64), np.full(rows.size, day_of(NOW)))
    return [int(s) for s in registry.serial[rows[ages >= 30][:4]]]


@pytest.fixture
def serial(registry) -> int:
    """An adult's card (with a signing certificate)."""
    return _adult_serials(registry)[0]


@pytest.fixture
def other_serial(registry) -> int:
    """Another adult's card."""
    return _adult_serials(registry)[1]


@pytest.fixture
def pins(registry, serial):
    """The PINs the holder of `serial` set."""
    return registry.pins(serial)


def _wrong(pin: str) -> str:
    return "".join("1" if c == "0" else "0" for c in pin)


@pytest.fixture
def wrong_pin(pins) -> str:
    """A 4-digit PIN that is not the holder's user PIN."""
    return _wrong(pins.user)


@pytest.fixture
def chip_backend(registry, serial):
    """The real twin card `serial` as the APDU face's backend."""
    return CardChip(registry.card(serial))


def reader_name(slot: int) -> str:
    """vpcd's name for its virtual reader `slot`."""
    return f"Virtual PCD 00 {slot:02d}"


class AdvancingClock:
    """Wall-clock seconds since the test began, added to NOW (the cards' valid instant)."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def __call__(self) -> float:
        return NOW + (time.monotonic() - self.t0)


@pytest.fixture
def clock():
    return AdvancingClock()


@pytest.fixture
def insert_card(pcsc_stack, registry, clock):
    """insert_card(serial, slot=0, wrap=None): a twin card in a vpcd reader, removed after the test."""
    from devices.twin_card import TwinCardHandler
    from devices.vpcd import VirtualCard
    from twin.apdu.chip import ChipSession

    inserted = []

    def insert(serial: int, slot: int = 0, wrap=None):
        handler = TwinCardHandler(ChipSession(CardChip(registry.card(serial))), clock=clock)
        assert pcsc_stack.wait_for(reader_name(slot), present=False, timeout=15), "the reader is not empty"
        card = VirtualCard(wrap(handler) if wrap else handler, slot=slot).insert()
        inserted.append((card, slot))
        assert pcsc_stack.wait_for(reader_name(slot), present=True, timeout=15), "pcscd did not see the card"
        return card

    yield insert
    for card, _slot in inserted:
        card.remove()
    for slot in {slot for _card, slot in inserted}:
        pcsc_stack.wait_for(reader_name(slot), present=False, timeout=15)


@pytest.fixture
def devices_registered():
    """Registered devices: a shelter, a kiosk and a school reader, with fresh tokens."""
    import secrets

    from devices.reference_endpoint import Device

    return {"shelter": Device("shelter-7a", secrets.token_hex(16), "shelter", "shelter-07"),
            "kiosk": Device("kiosk-3a", secrets.token_hex(16), "kiosk", "kiosk-03"),
            "school": Device("school-2a", secrets.token_hex(16), "school", "school-02")}


@pytest.fixture
def endpoint(devices_registered, ca, registry):
    """The reference endpoint with the twin's trust checks, on a free 127.0.0.1 port; stopped after."""
    from devices.reference_endpoint import ReferenceEndpoint
    from devices.twin_judge import TwinJudge

    ep = ReferenceEndpoint(list(devices_registered.values()), judge=TwinJudge(ca, registry))
    ep.start()
    yield ep
    ep.stop()


@pytest.fixture
def make_client(tmp_path, devices_registered, endpoint, clock):
    """make_client(role, pin_source=None, url=None): a reader client with its own queue file."""
    from devices.reader_client import ReaderClient, ReaderSettings
    from devices.tap_queue import TapQueue
    from devices.uplink import Uplink

    made = []

    def make(role: str = "shelter", pin_source=None, url: str | None = None, events: list | None = None):
        d = devices_registered[role]
        settings = ReaderSettings(role, d.site_id, d.device_id, sync_interval=0.2, max_backoff=0.4, poll=0.1)
        queue = TapQueue(tmp_path / f"{d.device_id}.sqlite")
        uplink = Uplink(url or endpoint.url, d.device_id, d.token, timeout=2.0)
        client = ReaderClient(settings, queue, uplink, pin_source, clock=clock,
                              on_event=(events.append if events is not None else None))
        made.append(client)
        return client

    yield make
    for c in made:
        c.uplink.close()
        c.queue.close()
