"""Fixtures for the trust core: an authority, a small city's card registry, readers."""

from __future__ import annotations

import pytest

from twin.card import CardRegistry
from twin.clock import jst
from twin.pki import CertificateAuthority
from twin.reader import Reader

NOW = jst(2026, 4, 1, 10)


@pytest.fixture
def now():
    """The snapshot instant: 1 April 2026, 10:00 JST."""
    return NOW


@pytest.fixture
def ca():
    """A fast (Ed25519) authority."""
    return CertificateAuthority(seed=7, algorithm="ed25519")


@pytest.fixture
def registry(small_city, ca):
    """Kumamoto at 1 % with every card holder's card valid at NOW."""
    return CardRegistry.from_city(small_city, ca, NOW, ordinances=("library", "points"))


@pytest.fixture
def reader(ca, registry):
    """An online kiosk reader relying on the daily revocation list."""
    return Reader(ca, registry, reader_id="kiosk-1")


@pytest.fixture
def adult_serial(registry):
    """The serial of a card held by an adult (with a signing certificate)."""
    import numpy as np

    from twin.card.rules import age_on, day_of

    rows = np.arange(len(registry))
    ages = age_on(registry.birth[registry.resident[rows]].astype(np.int64), np.full(rows.size, day_of(NOW)))
    return int(registry.serial[rows[ages >= 30][0]])
