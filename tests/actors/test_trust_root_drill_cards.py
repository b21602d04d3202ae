"""A drill with real cards, through HTTP: the service trusts the drill's card CA, each enrolled card as its resident's.

The shared service starts with the spec fields `run.py serve --trust-ca FILE --drill-cards FILE`
makes (`tests/actors/live_drill.py`): a P-256 and an RSA-2048 card enrolled, one of the same CA
not enrolled, one expired, one of another CA, all made with `cryptography`. Virtual cards stay
accepted (the default).
"""

from __future__ import annotations

import uuid

import pytest

from devices import contract
from tests.actors.live_helpers import Live, b64, tap_id
from tests.card import drill_pki


@pytest.fixture(scope="module")
def drill(live):
    """The shared service, its drill cards by name, and the residents (resident_id, card_serial) they play."""
    return live, live.drill.cards, live.drill.plays


def login(live: Live, card: drill_pki.Issued, challenge: str | None = None):
    """Post a login: the card signs the service's challenge (its PIN is checked on the card itself)."""
    chal = challenge or live.http.get("/v1/residents/challenge").json()["challenge"]
    body = {"certificate": b64(card.der), "challenge": chal, "signature": b64(card.sign(bytes.fromhex(chal)))}
    return live.http.post("/v1/residents/sessions", json=body)


def kiosk_tap(live: Live, card: drill_pki.Issued) -> dict:
    """A kiosk authentication of a drill card: the kiosk read its certificate (serial) and had it sign the challenge."""
    kiosk = live.device("kiosk")
    tid, when, nonce = tap_id(), round(live.now(), 3), uuid.uuid4().hex
    sig = card.sign(contract.challenge(tid, kiosk["device_id"], kiosk["site_id"], when, nonce))
    tap = {"tap_id": tid, "device_id": kiosk["device_id"], "site_id": kiosk["site_id"], "kind": "kiosk_auth",
           "at": when, "card": {"certificate_serial": f"{card.cert.serial_number:x}"},
           "auth": {"certificate": b64(card.der), "nonce": nonce, "signature": b64(sig)}}
    return live.http.post(contract.TAPS_PATH, json=tap, headers=live.headers(kiosk))


def test_an_enrolled_drill_card_signs_the_login_challenge_and_gets_its_resident_s_session(drill):
    live, cards, plays = drill
    for name in ("p256", "rsa"):
        r = login(live, cards[name])
        assert r.status_code == 201, r.text
        assert (r.json()["resident_id"], r.json()["assurance"]) == (plays[name]["resident_id"], "HIGH")
        me = live.http.get("/v1/me/wallet", headers={"Authorization": f"Bearer {r.json()['token']}"})
        assert me.status_code == 200 and me.json()["resident_id"] == plays[name]["resident_id"], me.text


def test_another_ca_s_card_an_unenrolled_card_an_expired_one_and_a_replay_are_refused(drill):
    live, cards, _ = drill
    got = {}
    for name in ("stranger", "unenrolled", "expired"):
        r = login(live, cards[name])
        got[name] = (r.status_code, r.json()["error"])
    assert got == {"stranger": (403, "unknown_issuer"), "unenrolled": (403, "card_not_enrolled"),
                   "expired": (403, "certificate_expired")}
    chal = live.http.get("/v1/residents/challenge").json()["challenge"]
    assert login(live, cards["p256"], chal).status_code == 201
    again = login(live, cards["p256"], chal)
    assert (again.status_code, again.json()["error"]) == (403, "replay")


def test_a_drill_card_authenticates_at_a_kiosk_and_gets_its_resident_a_certificate(drill):
    live, cards, plays = drill
    r = kiosk_tap(live, cards["rsa"])
    assert r.status_code == 201, r.text
    assert r.json()["result"]["resident_id"] == plays["rsa"]["resident_id"]
    body = {"request_key": "drill-rsa", "auth_tap_id": r.json()["tap_id"], "certificate": "residence_record"}
    doc = live.http.post("/v1/kiosks/certificates", json=body, headers=live.headers(live.device("kiosk")))
    assert doc.status_code == 201, doc.text
    assert doc.json()["resident_id"] == plays["rsa"]["resident_id"]
    r = kiosk_tap(live, cards["unenrolled"])
    assert (r.status_code, r.json()["error"]) == (403, "card_not_enrolled")


def test_after_a_loss_report_the_drill_card_is_refused_at_login_and_kiosk_and_its_session_ends(drill):
    live, cards, plays = drill
    r = login(live, cards["lost"])
    assert r.status_code == 201, r.text
    auth = {"Authorization": f"Bearer {r.json()['token']}"}
    report = live.http.post("/v1/me/card/loss-reports", json={"report_id": "drill-lost-1"}, headers=auth)
    assert report.status_code == 201, report.text
    assert report.json()["card_serial"] == plays["lost"]["card_serial"]  # the resident's card: the drill card plays it
    refused = login(live, cards["lost"])
    assert (refused.status_code, refused.json()["error"]) == (403, "card_suspended")
    tap = kiosk_tap(live, cards["lost"])
    assert (tap.status_code, tap.json()["error"]) == (403, "card_suspended")
    assert live.http.get("/v1/me/wallet", headers=auth).status_code == 401


def test_virtual_cards_stay_accepted_beside_drill_cards_and_no_card_subject_reaches_the_data_folder(drill):
    live, cards, _ = drill
    other = live.holders(1, skip=1810).row(0, named=True)
    assert live.login(other["card_serial"])["Authorization"].startswith("Bearer ")
    assert kiosk_tap(live, cards["p256"]).status_code == 201
    posted = [b64(c.der).encode() for c in cards.values()]  # as kiosks posted them (their subjects inside)
    for p in live.spec.folder.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            assert drill_pki.VOLUNTEER.encode() not in data and not any(der in data for der in posted), p
