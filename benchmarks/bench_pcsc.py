"""Card reads through the real PC/SC stack (pcscd + vpcd + pyscard) next to the same APDUs in process.

Shelter read: the PIN-less face record. Kiosk read: user certificate, PIN, signed challenge.
The in-process baseline sends the identical APDU sequence straight to the chip session, so the
ratio is what the PC/SC path (pcscd, the vpcd socket, pyscard) adds per tap.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from devices import pcscd
from devices.pcsc import CardConnection, PcscContext
from devices.twin_card import TwinCardHandler
from devices.vpcd import VirtualCard
from twin.apdu import terminal
from twin.apdu.backend import CardChip
from twin.apdu.chip import ChipSession
from twin.card import CardRegistry
from twin.clock import jst
from twin.pki import CertificateAuthority
from twin.population import build_city

NOW = jst(2026, 4, 1, 10)
READER = "Virtual PCD 00 00"


class Counting:
    """Counts the APDUs a sequence sends."""

    def __init__(self, transmit: Callable[[bytes], bytes]) -> None:
        self.transmit, self.n = transmit, 0

    def __call__(self, apdu: bytes) -> bytes:
        self.n += 1
        return self.transmit(apdu)


def _time(fn: Callable[[], object], reps: int) -> float:
    """Median seconds of `reps` calls."""
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def _reads(transmit: Callable[[bytes], bytes], pin: str) -> dict[str, Callable[[], object]]:
    return {"shelter read (face record, no PIN)": lambda: terminal.read_card_id(transmit),
            "kiosk read (certificate, PIN, signature)": lambda: terminal.sign_challenge(transmit, pin, b"n" * 32)}


def main(argv: list[str]) -> int:
    """Print per-tap milliseconds through pcscd beside the in-process baseline."""
    reps = 20 if "--quick" in argv else 100
    city = build_city("kumamoto", seed=1, scale=0.01)
    registry = CardRegistry.from_city(city, CertificateAuthority(seed=1, algorithm="p256"), NOW)
    serial = int(registry.serial[0])
    pin = registry.pins(serial).user
    session = ChipSession(CardChip(registry.card(serial)))
    direct = Counting(lambda apdu: session.respond(apdu, NOW))
    counts = {}
    for k, f in _reads(direct, pin).items():  # also warms the certificate and seal caches
        direct.n = 0
        f()
        counts[k] = direct.n
    base = {k: _time(f, reps) for k, f in _reads(direct, pin).items()}
    with pcscd.pcscd_running(), PcscContext() as ctx:
        card = VirtualCard(TwinCardHandler(ChipSession(CardChip(registry.card(serial))), lambda: NOW)).insert()
        try:
            ctx.wait_for(READER, present=True)
            with CardConnection(READER) as conn:
                real = {k: _time(f, reps) for k, f in _reads(conn.transmit, pin).items()}
        finally:
            card.remove()
    for k in base:
        print(f"   {k}: {counts[k]} APDUs; pcscd+vpcd {real[k] * 1e3:.2f} ms, in process {base[k] * 1e3:.2f} ms "
              f"(x{real[k] / base[k]:.1f}); per APDU through pcscd {real[k] / counts[k] * 1e3:.3f} ms")
    print("   (published check-in times with a card, for scale: 9-30 s per person, FACTS.md)")
    return 0
