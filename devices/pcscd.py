"""The machine's PC/SC daemon (pcscd) with vsmartcard's vpcd driver: is it ready, and start one."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devices.vpcd import VPCD_PORT
from twin.errors import TwinError

SOCKET = Path("/run/pcscd/pcscd.comm")
VPCD_CONF = Path("/etc/reader.conf.d/vpcd")


class PcscdUnavailable(TwinError):
    """pcscd or the vpcd driver is missing, or pcscd would not start."""

    code = "pcscd_unavailable"
    status = 503


def vpcd_listening(port: int = VPCD_PORT) -> bool:
    """Whether vpcd (inside pcscd) accepts virtual cards on `port` (a LISTEN row in /proc/net/tcp)."""
    needle = f":{port:04X} "
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        if any(needle in f" {r.split()[1]} " and r.split()[3] == "0A" for r in rows if len(r.split()) > 3):
            return True
    return False


def ready() -> bool:
    """Whether pcscd answers on its socket with vpcd listening."""
    return SOCKET.is_socket() and vpcd_listening()


def running() -> bool:
    """Whether a pcscd process exists (one per machine)."""
    return subprocess.run(["pidof", "pcscd"], capture_output=True).returncode == 0


def missing() -> str | None:
    """What this machine lacks to run pcscd with vpcd, or None."""
    if shutil.which("pcscd") is None:
        return "pcscd (Debian package pcscd)"
    if not VPCD_CONF.exists():
        return "the vpcd driver (Debian package vsmartcard-vpcd)"
    return None


@contextmanager
def pcscd_running(timeout: float = 10.0) -> Iterator[bool]:
    """Use the machine's pcscd, or start one for the block and stop it after; yields whether we started it."""
    if running():
        yield False
        return
    lack = missing()
    if lack:
        raise PcscdUnavailable(f"cannot start pcscd: {lack} is not installed (see .ci/system-packages.sh)")
    SOCKET.unlink(missing_ok=True)
    proc = subprocess.Popen(["pcscd", "--foreground"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise PcscdUnavailable(f"pcscd did not become ready within {timeout:.0f} s "
                                       f"(exit code {proc.poll()}; starting it needs write access to /run)")
            time.sleep(0.05)
        yield True
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
