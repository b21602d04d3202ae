"""Trust parameters: validated when built, unknown keys named, wiring built from them."""

from __future__ import annotations

import pytest

from twin.clock import DAY
from twin.errors import ValidationError
from twin.trust_params import TrustParams


def test_unknown_keys_are_named():
    with pytest.raises(ValidationError, match="crl_every"):
        TrustParams.from_dict({"crl_every": 3600})


@pytest.mark.parametrize("bad,match", [({"algorithm": "dsa"}, "unknown algorithm"),
                                       ({"revocation": "ocsp"}, "revocation must be"),
                                       ({"list_interval": 0}, "list_interval"),
                                       ({"ordinances": ["karaoke"]}, "karaoke")])
def test_bad_values_are_refused_when_built(bad, match):
    with pytest.raises(ValidationError, match=match):
        TrustParams.from_dict(bad)


def test_the_wiring_follows_the_parameters(small_city, now):
    p = TrustParams.from_dict({"algorithm": "p256", "list_interval": DAY / 2, "revocation": "online",
                               "ordinances": ["library"]})
    ca = p.authority(seed=4)
    reg = p.registry(small_city, ca, now)
    reader = p.reader(ca, reg, "kiosk-p")
    assert (ca.algorithm.value, ca.list_interval, reader.verifier.revocation) == ("p256", DAY / 2, "online")
    assert reg.ordinances == {"library"}
    s = int(reg.serial[0])
    assert reader.authenticate(s, reg.pins(s).user, now).card_serial == s
