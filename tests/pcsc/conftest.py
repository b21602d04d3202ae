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
