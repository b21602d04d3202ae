"""Kiosk issuance with the real card reader: JPKI user authentication (certificate + PIN + signed
challenge) gives the HIGH identity a kiosk needs; a PIN-less read or a lost card does not."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tests.services.pay_helpers import T0
from twin.card import CardRegistry
from twin.pki import CertificateAuthority
from twin.reader import Reader
from twin.services.certificates import CertificateParams, CertificateService, LowAssurance
from twin.trust_errors import TrustError


@pytest.fixture(scope="module")
def setup(small_city):
    ca = CertificateAuthority(seed=11, algorithm="ed25519")
    registry = CardRegistry.from_city(small_city, ca, T0)
    reader = Reader(ca, registry, reader_id="kiosk-7")
    holder = small_city.residents.filter(pl.col("has_card") & pl.col("seal_registered") & (pl.col("age") >= 30))
    serial = int(holder["card_serial"][0])
    return registry, reader, serial


@pytest.fixture
def kiosk(small_city):
    svc = CertificateService(small_city.residents, params=CertificateParams(kiosk_p_network_down=0.0,
                                                                             kiosk_p_paper_out=0.0))
    return svc.kiosk(7, 0)


def test_a_card_authenticated_at_the_reader_gets_a_seal_certificate_at_the_kiosk(setup, kiosk):
    registry, reader, serial = setup
    ident = reader.authenticate(registry.card(serial), registry.pins(serial).user, T0)
    doc = kiosk.request(ident, "seal_registration", T0 + 30, np.random.default_rng(0), request_key="r1")
    assert (doc.resident_id, doc.identity_method, doc.assurance, doc.status) == (
        registry.holder_of(serial), "jpki_user_cert", 3, "issued")


def test_a_pinless_serial_read_is_not_enough_for_a_kiosk(setup, kiosk):
    registry, reader, serial = setup
    ident = reader.read_serial(registry.card(serial), T0)
    with pytest.raises(LowAssurance, match="got card_serial at MEDIUM"):
        kiosk.request(ident, "residence_record", T0, np.random.default_rng(0), request_key="r2")
    assert kiosk.service.documents().height == 0


def test_a_card_reported_lost_cannot_authenticate_for_a_kiosk_that_checks_status_online(small_city):
    ca = CertificateAuthority(seed=12, algorithm="ed25519")
    registry = CardRegistry.from_city(small_city, ca, T0)
    reader = Reader(ca, registry, reader_id="kiosk-8", revocation="online")
    serial = int(small_city.residents.filter(pl.col("has_card") & (pl.col("age") >= 30))["card_serial"][1])
    registry.report_loss(serial, T0)
    with pytest.raises(TrustError):
        reader.authenticate(registry.card(serial), registry.pins(serial).user, T0 + 60)
