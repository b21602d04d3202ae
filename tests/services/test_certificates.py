"""Certificates at kiosks and counters: eligibility, hours, faults, fees, numbered audit records,
and the hostile cases (ineligible, low assurance, stale, replayed or altered requests)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tests.services.pay_helpers import T0, snapshot
from twin.clock import jst
from twin.errors import Conflict, ValidationError
from twin.identity import Assurance, Identity
from twin.services.certificates import (
    CertificateIssued,
    CertificateParams,
    CertificateRefused,
    CertificateService,
    CertificateVoided,
    IssuanceServer,
    LowAssurance,
    NetworkDown,
    NotEligible,
    PaperOut,
    ServiceClosed,
)
from twin.services.ledger_rules import InsufficientFunds

ALL = ("ledger_accounts", "ledger_postings", "ledger_entries", "ledger_refunds", "certificate_documents")


def _resident(city, **want) -> int:
    r = city.residents.filter(pl.col("has_card"), *[pl.col(k) == v for k, v in want.items()])
    return int(r["resident_id"][0])


def card_login(rid: int, now: float = T0) -> Identity:
    """What a reader's JPKI user authentication gives (constructed; see test_cert_reader.py for the real one)."""
    return Identity(rid, "jpki_user_cert", Assurance.HIGH, now - 20, 10**9 + rid)


@pytest.fixture
def service(small_city, tmp_path):
    svc = CertificateService.from_city(small_city, tmp_path / "certs.db",
                                       CertificateParams(kiosk_p_network_down=0.0, kiosk_p_paper_out=0.0))
    yield svc
    svc.ledger.store.close()


@pytest.fixture
def everyone(small_city):
    """A card holder with a seal, a tax record and a family register here."""
    return _resident(small_city, seal_registered=True, tax_record=True, family_register_here=True)


def test_a_kiosk_issues_a_numbered_document_and_takes_the_kiosk_fee(service, everyone):
    doc = service.kiosk(3, ward=1).request(card_login(everyone), "residence_record", T0,
                                           np.random.default_rng(0), request_key="k-1")
    assert (doc.doc_no, doc.status, doc.fee_yen, doc.channel, doc.site) == ("2026-K000000001", "issued", 200, "kiosk", 3)
    assert service.ledger.balance("clearing:kiosk") == 200
    assert service.ledger.balance("revenue:residence_record") == 200
    assert service.events.of(CertificateIssued)[-1].doc_no == doc.doc_no
    assert service.ledger.reconcile().ok


def test_fees_follow_the_channel_the_type_and_the_copies(service, everyone):
    k, c = service.kiosk(1, 0), service.counter(0)
    rng = np.random.default_rng(0)
    fees = [k.request(card_login(everyone), "tax_certificate", T0, rng, request_key="a", copies=3).fee_yen,
            k.request(card_login(everyone), "family_register", T0, rng, request_key="b").fee_yen,
            c.request(card_login(everyone), "seal_registration", T0, request_key="c", window=0).fee_yen]
    assert fees == [600, 450, 300]
    assert service.ledger.balance("cash:counter:0") == 300


def test_every_document_number_is_unique_and_its_audit_record_survives_a_reopen(service, everyone, small_city, tmp_path):
    rng = np.random.default_rng(0)
    k1, k2, ctr = service.kiosk(1, 0), service.kiosk(2, 1), service.counter(2)
    docs = [k1.request(card_login(everyone), "residence_record", T0, rng, request_key=f"x{i}") for i in range(3)]
    docs += [k2.request(card_login(everyone), "residence_record_items", T0, rng, request_key="y")]
    docs += [ctr.request(card_login(everyone), "residence_record", T0, request_key="z", window=3)]
    assert len({d.doc_no for d in docs}) == 5
    again = CertificateService.from_city(small_city, tmp_path / "certs.db")
    audit = again.documents()
    assert audit["doc_no"].to_list() == [d.doc_no for d in docs]
    assert audit.row(4, named=True) | {"at": 0} == {
        "seq": 5, "doc_no": "2026-C000000005", "request_key": "z", "resident_id": everyone,
        "cert_type": "residence_record", "copies": 1, "channel": "counter", "site": 2, "window_no": 3,
        "fee_yen": 300, "fee_key": "cert:z", "identity_method": "jpki_user_cert", "assurance": 3,
        "status": "issued", "reason": "", "at": 0}
    again.ledger.store.close()


@pytest.mark.parametrize("want, cert, reason", [
    (dict(seal_registered=False), "seal_registration", "has no registered seal"),
    (dict(tax_record=False), "tax_certificate", "has no tax record in this city"),
    (dict(family_register_here=False), "family_register", "has no family register held in this city"),
    (dict(family_register_here=False), "family_register_attachment", "has no family register held in this city"),
])
def test_a_kiosk_request_for_an_ineligible_certificate_is_refused_logged_and_changes_nothing(
        service, small_city, want, cert, reason):
    rid = _resident(small_city, **want)
    before = snapshot(service.ledger.store, ALL)
    with pytest.raises(NotEligible, match=reason):
        service.kiosk(1, 0).request(card_login(rid), cert, T0, np.random.default_rng(0), request_key="k")
    assert snapshot(service.ledger.store, ALL) == before
    ev = service.events.of(CertificateRefused)[-1]
    assert (ev.resident_id, ev.cert_type, ev.channel, ev.reason) == (rid, cert, "kiosk", "not_eligible")


def test_someone_who_is_not_a_resident_of_this_city_gets_nothing(service, small_city, everyone):
    outsider = small_city.residents.height + 5
    with pytest.raises(NotEligible, match=f"resident {outsider} is not a resident of this city"):
        service.counter(0).request(card_login(outsider), "residence_record", T0, request_key="o", window=0)
    service.server.record_move_out([everyone])
    with pytest.raises(NotEligible, match="not a resident of this city"):
        service.kiosk(1, 0).request(card_login(everyone), "residence_record", T0, np.random.default_rng(0),
                                    request_key="m")


@pytest.mark.parametrize("identity, message", [
    (Identity(0, "card_serial", Assurance.MEDIUM, T0 - 5), "got card_serial at MEDIUM"),
    (Identity(0, "paper_form", Assurance.LOW, T0 - 5), "got paper_form at LOW"),
    (Identity(0, "face_photo", Assurance.MEDIUM, T0 - 5), "got face_photo at MEDIUM"),
    (Identity(0, "counter_photo_id", Assurance.HIGH, T0 - 5), "got counter_photo_id at HIGH"),
    (Identity(0, "jpki_user_cert", Assurance.HIGH, T0 - 301), "is 301 s old"),
    (Identity(0, "jpki_user_cert", Assurance.HIGH, T0 + 60), "dated 60 s after this request"),
])
def test_a_kiosk_refuses_anything_but_a_fresh_card_authentication(service, everyone, identity, message):
    ident = Identity(everyone, identity.method, identity.assurance, identity.at)
    before = snapshot(service.ledger.store, ALL)
    with pytest.raises(LowAssurance, match=message):
        service.kiosk(1, 0).request(ident, "residence_record", T0, np.random.default_rng(0), request_key="k")
    assert snapshot(service.ledger.store, ALL) == before
    assert service.events.of(CertificateRefused)[-1].reason == "low_assurance"


def test_a_request_that_is_not_an_identity_is_refused(service):
    with pytest.raises(ValidationError, match="an established Identity is required, got dict"):
        service.kiosk(1, 0).request({"resident_id": 1}, "residence_record", T0, np.random.default_rng(0),
                                    request_key="k")


@pytest.mark.parametrize("when, cert, message", [
    (jst(2026, 4, 6, 23, 30), "residence_record", "the kiosk service is closed at 2026-04-06 23:30 JST"),
    (jst(2026, 12, 31, 12), "residence_record", "next opening 2027-01-04 06:30 JST"),
    (jst(2026, 4, 4, 12), "family_register", "family-register issuance at kiosks is closed"),
])
def test_kiosk_requests_out_of_hours_are_refused(service, everyone, when, cert, message):
    with pytest.raises(ServiceClosed, match=message):
        service.kiosk(1, 0).request(card_login(everyone, when), cert, when, np.random.default_rng(0), request_key="k")


def test_a_type_the_city_does_not_offer_at_kiosks_goes_to_the_counter(small_city, everyone):
    svc = CertificateService(small_city.residents, params=CertificateParams(kiosk_certificate_types=("residence_record",)))
    with pytest.raises(ValidationError, match="tax_certificate .* is not offered at this city's kiosks"):
        svc.kiosk(1, 0).request(card_login(everyone), "tax_certificate", T0, np.random.default_rng(0), request_key="k")
    assert svc.counter(0).request(card_login(everyone), "tax_certificate", T0, request_key="c", window=1).status == "issued"


def test_a_network_outage_refuses_before_any_fee(small_city, everyone):
    svc = CertificateService(small_city.residents, params=CertificateParams(kiosk_p_network_down=1.0))
    with pytest.raises(NetworkDown, match="could not reach the issuance server; nothing was charged"):
        svc.kiosk(4, 0).request(card_login(everyone), "residence_record", T0, np.random.default_rng(0), request_key="k")
    assert svc.ledger.reconcile().postings == 0 and svc.documents().height == 0


def test_running_out_of_paper_voids_the_document_refunds_the_fee_and_stops_the_kiosk(small_city, everyone):
    svc = CertificateService(small_city.residents, params=CertificateParams(kiosk_p_paper_out=1.0))
    kiosk = svc.kiosk(4, 0)
    rng = np.random.default_rng(0)
    with pytest.raises(PaperOut, match="ran out of paper printing 2026-K000000001; .* fee of ¥200 refunded"):
        kiosk.request(card_login(everyone), "residence_record", T0, rng, request_key="k1")
    assert svc.documents().select("doc_no", "status", "reason").rows() == [("2026-K000000001", "voided", "paper out")]
    assert svc.ledger.balance("revenue:residence_record") == 0 and svc.ledger.balance("clearing:kiosk") == 0
    assert svc.events.of(CertificateVoided)[-1].doc_no == "2026-K000000001"
    with pytest.raises(PaperOut, match="out of service until refilled"):
        kiosk.request(card_login(everyone), "residence_record", T0, rng, request_key="k2")
    assert svc.ledger.reconcile().ok and svc.ledger.reconcile().postings == 2
    kiosk.refill()
    svc.params = CertificateParams(kiosk_p_paper_out=0.0)
    assert kiosk.request(card_login(everyone), "residence_record", T0, rng, request_key="k3").status == "issued"


def test_fault_rates_follow_the_parameters_and_the_rng(small_city, everyone):
    svc = CertificateService(small_city.residents, params=CertificateParams(kiosk_p_network_down=0.3))
    kiosk, rng, down = svc.kiosk(1, 0), np.random.default_rng(5), 0
    for i in range(400):
        try:
            kiosk.request(card_login(everyone), "residence_record", T0, rng, request_key=f"k{i}")
        except NetworkDown:
            down += 1
    assert 90 <= down <= 150  # 400 x 0.3 = 120, within about 3 standard deviations
    assert svc.documents().height == 400 - down


def test_the_same_request_key_returns_the_same_document_and_an_altered_one_is_refused(service, everyone, small_city):
    kiosk, rng = service.kiosk(1, 0), np.random.default_rng(0)
    first = kiosk.request(card_login(everyone), "residence_record", T0, rng, request_key="k")
    again = kiosk.request(card_login(everyone), "residence_record", T0 + 30, rng, request_key="k")
    assert again.replayed and again.doc_no == first.doc_no
    before = snapshot(service.ledger.store, ALL)
    other = _resident(small_city, seal_registered=False)
    with pytest.raises(Conflict, match="already issued document 2026-K000000001"):
        kiosk.request(card_login(other), "residence_record", T0, rng, request_key="k")
    with pytest.raises(Conflict, match="this request differs"):
        kiosk.request(card_login(everyone), "residence_record", T0, rng, request_key="k", copies=2)
    assert snapshot(service.ledger.store, ALL) == before
    assert service.ledger.balance("revenue:residence_record") == 200


def test_paying_from_an_empty_wallet_at_a_kiosk_is_refused_and_issues_nothing(service, everyone):
    before = snapshot(service.ledger.store, ALL)
    with pytest.raises(InsufficientFunds, match=f"wallet:{everyone} holds 0 yen"):
        service.kiosk(1, 0).request(card_login(everyone), "residence_record", T0, np.random.default_rng(0),
                                    request_key="w", method="wallet")
    assert snapshot(service.ledger.store, ALL) == before
    service.ledger.top_up("t", everyone, 500, T0, channel="kiosk")
    doc = service.kiosk(1, 0).request(card_login(everyone), "residence_record", T0, np.random.default_rng(0),
                                      request_key="w", method="wallet")
    assert doc.status == "issued" and service.ledger.wallet_balance(everyone) == 300


def test_a_counter_accepts_a_medium_identity_in_office_hours_at_one_of_its_windows(service, small_city):
    no_card = int(small_city.residents.filter(~pl.col("has_card"))["resident_id"][0])
    ident = Identity(no_card, "counter_documents", Assurance.MEDIUM, T0)
    doc = service.counter(2).request(ident, "residence_record", T0, request_key="c", window=3)
    assert (doc.channel, doc.site, doc.window, doc.fee_yen) == ("counter", 2, 3, 300)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(window=4), ValidationError, "ward 2 has staff windows 0..3, got 4"),
    (dict(window=0, ident=Identity(1, "paper_form", Assurance.LOW, T0)), LowAssurance, "needs identity checked to MEDIUM"),
    (dict(window=0, now=jst(2026, 4, 6, 18)), ServiceClosed, "the ward counter is closed"),
    (dict(window=0, now=jst(2026, 4, 29, 10)), ServiceClosed, "next opening 2026-04-30 08:45 JST"),
    (dict(window=0, cert="driving_licence"), ValidationError, "unknown certificate type 'driving_licence'"),
    (dict(window=0, copies=11), ValidationError, "copies must be >= 1 and <= 10"),
])
def test_counter_requests_that_break_a_rule_are_refused_and_change_nothing(service, everyone, kwargs, error, message):
    ident = kwargs.get("ident", card_login(everyone))
    before = snapshot(service.ledger.store, ALL)
    with pytest.raises(error, match=message):
        service.counter(2).request(ident, kwargs.get("cert", "residence_record"), kwargs.get("now", T0),
                                   request_key="c", window=kwargs["window"], copies=kwargs.get("copies", 1))
    assert snapshot(service.ledger.store, ALL) == before
    assert service.events.of(CertificateRefused)[-1].channel == "counter"


def test_the_issuance_server_answers_for_many_residents_at_once(small_city):
    server = IssuanceServer(small_city.residents)
    ids = small_city.residents["resident_id"].to_numpy()
    r = small_city.residents
    assert np.array_equal(server.eligible(ids, "seal_registration"), r["seal_registered"].to_numpy())
    assert np.array_equal(server.eligible(ids, "tax_certificate"), r["tax_record"].to_numpy())
    assert np.array_equal(server.eligible(ids, "family_register"), r["family_register_here"].to_numpy())
    assert server.eligible(ids, "residence_record").all()
    assert not server.eligible(np.array([-1, ids.size + 10]), "residence_record").any()


def test_params_from_a_design_table_refuse_an_unknown_key_by_name():
    p = CertificateParams.from_dict({"kiosk_fee_yen": 250, "counter_windows_per_ward": 6})
    assert (p.kiosk_fee_yen, p.counter_windows_per_ward) == (250, 6)
    with pytest.raises(ValidationError, match="unknown key 'kiosk_fees_yen' \\(did you mean 'kiosk_fee_yen'\\?\\)"):
        CertificateParams.from_dict({"kiosk_fees_yen": 250})
    with pytest.raises(ValidationError, match="kiosk_p_paper_out must be a probability"):
        CertificateParams(kiosk_p_paper_out=1.5)
    with pytest.raises(ValidationError, match="unknown certificate type"):
        CertificateParams(kiosk_certificate_types=("passport",))


def test_service_times_are_drawn_around_the_configured_means(service):
    rng = np.random.default_rng(3)
    assert service.kiosk(1, 0).service_times(rng, 20_000).mean() == pytest.approx(150.0, rel=0.03)
    assert service.counter(0).service_times(rng, 20_000).mean() == pytest.approx(480.0, rel=0.03)
    assert service.counter(0).windows == 4


def test_certificate_params_take_the_designs_hours_fees_and_windows():
    from twin.design import load_design

    for name in ("baseline", "full", "phased"):
        section = load_design(f"designs/{name}.toml").certificates
        p = CertificateParams.from_design(section)
        assert (p.kiosk_fee_yen, p.counter_fee_yen, p.counter_windows_per_ward, p.kiosk_open_hour,
                p.kiosk_certificate_types) == (section.kiosk_fee_yen, section.counter_fee_yen,
                                               section.counter_windows_per_ward, section.kiosk_open_hour,
                                               tuple(section.kiosk_certificate_types))
