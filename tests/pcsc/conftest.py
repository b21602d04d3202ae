"""Fixtures for the real PC/SC stack: pcscd + vsmartcard's vpcd + pyscard, and virtual cards."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import require

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


# --- TEMPORARY: a minimal chip backend until twin/card.py lands; replaced by the real Card ---
class FakeChip:
    """Card logic with the published PIN rules (3 tries; only a correct entry resets)."""

    def __init__(self, serial: int = 123456789012) -> None:
        import datetime as dt

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.hazmat.primitives.serialization import Encoding
        from cryptography.x509.oid import NameOID

        from twin.apdu.layout import (
            BasicItems,
            Content,
            FaceRecord,
            PinRef,
            encode_basic_items,
            encode_face,
            encode_my_number,
            encode_token,
        )

        self.serial = serial
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "twin user")])
        now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self.key.public_key()).serial_number(serial << 10)
                .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1800))
                .sign(self.key, hashes.SHA256()))
        self.cert = cert.public_bytes(Encoding.DER)
        items = BasicItems("山田 花子", "熊本市中央区手取本町1-1", "19900401", "2")
        self.files = {Content.AUTH_CERT: self.cert, Content.BASIC_ITEMS: encode_basic_items(items),
                      Content.MY_NUMBER: encode_my_number("123456789018"), Content.TOKEN: encode_token(),
                      Content.FACE: encode_face(FaceRecord(serial, items, 2_000_000_000, b"seal"))}
        self.pins = {PinRef.AUTH: "1234", PinRef.INPUT_SUPPORT: "1234", PinRef.SIGN: "ABC123"}
        self.tries = {PinRef.AUTH: 3, PinRef.INPUT_SUPPORT: 3, PinRef.SIGN: 5}
        self.max_tries = dict(self.tries)

    def tries_left(self, pin, now):
        return self.tries[pin]

    def verify(self, pin, value, now):
        from twin.apdu.chip import PinCheck

        if self.tries[pin] == 0:
            return PinCheck(False, 0)
        if value == self.pins[pin]:
            self.tries[pin] = self.max_tries[pin]
            return PinCheck(True, self.tries[pin])
        self.tries[pin] -= 1
        return PinCheck(False, self.tries[pin])

    def content(self, what, now):
        return self.files.get(what)

    def sign(self, key, pin, info, now):
        from cryptography.hazmat.primitives.asymmetric import padding, utils

        from twin.apdu import digest_info

        name, digest = digest_info.decode(info)
        from cryptography.hazmat.primitives import hashes

        algo = {"sha1": hashes.SHA1(), "sha256": hashes.SHA256(), "sha384": hashes.SHA384(),
                "sha512": hashes.SHA512()}[name]
        return self.key.sign(digest, padding.PKCS1v15(), utils.Prehashed(algo))


@pytest.fixture
def chip_backend():
    """A card's chip logic (TEMPORARY fake until twin/card.py lands)."""
    return FakeChip()
