"""Fixtures for the real PC/SC stack: pcscd + vsmartcard's vpcd + pyscard, and virtual cards."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import require
from twin.apdu.backend import CardChip
from twin.card import CardRegistry
from twin.card.rules import age_on, day_of
from twin.clock import jst
from twin.pki import CertificateAuthority

SOCKET = Path("/run/pcscd/pcscd.comm")
VPCD_CONF = Path("/etc/reader.conf.d/vpcd")
VPCD_PORT = 35963


def _vpcd_listening() -> bool:
    out = subprocess.run(["ss", "-ltn", f"sport = :{VPCD_PORT}"], capture_output=True, text=True)
    return "LISTEN" in out.stdout


def _pcscd_ready() -> bool:
    return SOCKET.is_socket() and _vpcd_listening()


def _pcscd_running() -> bool:
    return subprocess.run(["pidof", "pcscd"], capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def pcsc_stack():
    """pcscd with the vpcd driver, running for the session; started here (and stopped) if needed."""
    require(importlib.util.find_spec("smartcard") is not None, "pyscard (uv sync --all-extras)")
    require(shutil.which("pcscd") is not None, "pcscd (Debian package pcscd)")
    require(VPCD_CONF.exists(), "the vpcd driver (Debian package vsmartcard-vpcd)")
    proc = None
    if not _pcscd_running():
        require(os.geteuid() == 0 or os.access("/run", os.W_OK), "permission to start pcscd")
        SOCKET.unlink(missing_ok=True)
        proc = subprocess.Popen(["pcscd", "--foreground"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not _pcscd_ready() and time.monotonic() < deadline:
        time.sleep(0.05)
    require(_pcscd_ready(), "a ready pcscd with vpcd on port 35963 (.ci/start-pcsc.sh)")
    from devices.pcsc import PcscContext

    with PcscContext() as ctx:
        yield ctx
    if proc is not None:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def reader0(pcsc_stack) -> str:
    """The name of vpcd's first virtual reader, checked empty before the test."""
    names = [n for n in pcsc_stack.readers() if n.startswith("Virtual PCD")]
    require(len(names) >= 2, "vpcd's two virtual readers")
    name = sorted(names)[0]
    assert pcsc_stack.wait_for(name, present=False), f"{name} still holds a card from an earlier test"
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
