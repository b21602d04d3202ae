"""A revocation list's signature is checked once per process (a pure function of the pinned
authority and the list's bytes): a later reader holds the same list, and a list another
authority signed is refused every time, the cache never turning a refusal into a pass."""

from __future__ import annotations

import pytest

from tests.card.conftest import NOW
from twin.clock import HOUR
from twin.events import EventLog
from twin.pki import CertificateAuthority
from twin.trust_errors import ForgedData
from twin.verifier import CertificateVerifier


def test_a_list_is_held_alike_by_every_reader_and_a_foreign_one_is_always_refused(registry, ca):
    serial = int(registry.serial[0])
    registry.report_loss(serial, NOW - 2 * 24 * HOUR)  # one revoked certificate on the list
    first = CertificateVerifier(ca, where="r1", events=EventLog())
    second = CertificateVerifier(ca, where="r2", events=EventLog())
    held = [v.refresh(NOW) or v.held for v in (first, second)]
    assert held[0] == held[1] and held[0].revoked and held[0].revoked is not held[1].revoked
    other = CertificateAuthority(seed=8, algorithm="ed25519")
    foreign = other.revocation_list(NOW)
    for v in (first, second, first):
        with pytest.raises(ForgedData):
            v._verify_list(foreign, NOW)
    assert sum(1 for e in first.events if "ForgedData" in repr(e) or "forged" in repr(e).lower()) == 2
