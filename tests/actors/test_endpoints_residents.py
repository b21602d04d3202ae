"""Residents at the live endpoints: card login, family look-up, mailbox, wallet, handbooks, child watch."""

from __future__ import annotations

import polars as pl
import pytest

from devices import contract
from twin.services.vitals_guardians import guardians_from_households


def household_pair(live, skip: int = 0):
    """Two card holders of one household: (a, b) rows."""
    r = live.city.residents.filter(pl.col("has_card"))
    hh = r.group_by("household_id").len().filter(pl.col("len") >= 2).sort("household_id")["household_id"][skip]
    a, b = r.filter(pl.col("household_id") == hh).head(2).rows(named=True)
    return a, b


def guardian_and_child(live, skip: int = 0):
    """A guardian and a minor child, both card holders (the child's handbook and child watch)."""
    holders = set(live.city.residents.filter(pl.col("has_card"))["resident_id"].to_list())
    pairs = [(c, g) for c, g in guardians_from_households(live.city.residents, live.spec.built_at)
             if c in holders and g in holders]
    child, guardian = pairs[skip]
    rows = {r["resident_id"]: r for r in live.city.residents.filter(
        pl.col("resident_id").is_in([child, guardian])).rows(named=True)}
    return rows[guardian], rows[child]


def test_a_card_login_gives_a_session_and_a_forged_or_expired_one_is_a_401(live):
    who = live.holders(1, skip=100).row(0, named=True)
    me = live.login(who["card_serial"])
    assert live.http.get("/v1/me/wallet", headers=me).json()["resident_id"] == who["resident_id"]
    forged = {"Authorization": me["Authorization"][:-4] + "AAAA"}
    r = live.http.get("/v1/me/wallet", headers=forged)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    assert live.http.get("/v1/me/wallet").status_code == 401
    stale = live.spec.now() - 2 * 3600
    token, _ = __import__("actors.auth", fromlist=["Credentials"]).Credentials.from_data(live.creds).session_token(
        {"resident_id": who["resident_id"], "method": "jpki_user_cert", "assurance": "HIGH", "at": stale,
         "card_serial": who["card_serial"]})
    r = live.http.get("/v1/me/wallet", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_a_login_answering_a_challenge_twice_or_with_another_card_s_signature_is_refused(live):
    a, b = live.holders(2, skip=110).rows(named=True)
    reg = live.trust[1]
    chal = live.http.get("/v1/residents/challenge").json()["challenge"]
    card_b, now = reg.card(b["card_serial"]), live.now()
    card_b.verify_pin("user", reg.pins(b["card_serial"]).user, now)
    sig = card_b.sign(bytes.fromhex(chal), now)
    from tests.actors.live_helpers import b64

    body = {"certificate": b64(reg.card(a["card_serial"]).certificate()), "challenge": chal, "signature": b64(sig)}
    r = live.http.post("/v1/residents/sessions", json=body)
    assert r.status_code == 403 and r.json()["error"] == "forged"
    r = live.http.post("/v1/residents/sessions", json={**body, "certificate": b64(card_b.certificate())})
    assert r.status_code == 403 and "already answered" in r.json()["detail"]


def test_family_look_up_shows_household_members_wherever_they_checked_in(live):
    a, b = household_pair(live, skip=400)  # clear of the holders other tests check in
    dev = live.device("shelter", group=1)
    assert live.http.post(contract.TAPS_PATH, json=live.tap(dev, a["card_serial"]),
                          headers=live.headers(dev)).status_code == 201
    rows = live.http.get("/v1/me/family", headers=live.login(b["card_serial"])).json()
    mine = {r["resident_id"]: r for r in rows}
    assert mine[a["resident_id"]]["shelter_id"] == dev["facility_id"]
    assert b["resident_id"] not in mine


def test_a_portal_payment_is_idempotent_by_reference_and_a_changed_repeat_is_409(live):
    who = live.holders(1, skip=120).row(0, named=True)
    me = live.login(who["card_serial"])
    body = {"reference": "inv-1", "fee_type": "residence_record", "amount": 300}
    first = live.http.post("/v1/me/payments", json=body, headers=me)
    assert first.status_code == 201 and first.json()["key"] == f"portal:{who['resident_id']}:inv-1"
    again = live.http.post("/v1/me/payments", json=body, headers=me)
    assert again.status_code == 200 and again.json()["posting_id"] == first.json()["posting_id"]
    changed = live.http.post("/v1/me/payments", json={**body, "amount": 400}, headers=me)
    assert changed.status_code == 409 and changed.json()["error"] == "idempotency_conflict"
    bad = live.http.post("/v1/me/payments", json={**body, "reference": "inv-2", "fee_type": "lottery"}, headers=me)
    assert bad.status_code == 422 and "unknown fee type" in bad.json()["detail"]


def test_points_granted_at_a_counter_are_redeemed_into_the_wallet_once(live):
    who = live.holders(1, skip=130).row(0, named=True)
    counter = live.device("counter")
    grant = {"key": "g1", "resident_id": who["resident_id"], "points": 120, "activity": "volunteering"}
    r = live.http.post("/v1/points/grants", json=grant, headers=live.headers(counter))
    assert r.status_code == 201
    me = live.login(who["card_serial"])
    for expected in (201, 200):
        r = live.http.post("/v1/me/points/redemptions", json={"key": "r1", "points": 100}, headers=me)
        assert r.status_code == expected
    assert live.http.get("/v1/me/wallet", headers=me).json() == {"resident_id": who["resident_id"],
                                                                 "wallet_yen": 100, "points": 20}
    r = live.http.post("/v1/me/points/redemptions", json={"key": "r2", "points": 50}, headers=me)
    assert r.status_code == 409 and r.json()["error"] == "insufficient_points"


def test_a_handbook_is_read_by_its_holder_and_a_guardian_but_not_by_a_stranger(live):
    guardian, child = guardian_and_child(live)
    clinic = live.device("clinic")
    rec = {"subject": child["resident_id"], "book": "maternal", "entry": "vaccination", "detail": "MR 1st dose"}
    assert live.http.post("/v1/vitals/records", json=rec, headers=live.headers(clinic)).status_code == 204
    as_guardian = live.http.get(f"/v1/me/vitals/maternal?subject={child['resident_id']}",
                                headers=live.login(guardian["card_serial"]))
    assert as_guardian.status_code == 200
    assert [(r["entry"], r["detail"], r["source"]) for r in as_guardian.json()] == [
        ("vaccination", "MR 1st dose", clinic["site_id"])]
    stranger = live.holders(1, skip=140).row(0, named=True)
    r = live.http.get(f"/v1/me/vitals/maternal?subject={child['resident_id']}",
                      headers=live.login(stranger["card_serial"]))
    assert r.status_code == 403 and r.json()["error"] == "not_a_guardian"
    r = live.http.get("/v1/me/vitals/dental", headers=live.login(stranger["card_serial"]))
    assert r.status_code == 422 and "not offered" in r.json()["detail"]


def test_a_child_s_school_tap_reaches_the_consenting_guardian_s_mailbox(live):
    guardian, child = guardian_and_child(live, skip=1)
    me = live.login(guardian["card_serial"])
    school = live.device("school")
    tap = live.tap(school, child["card_serial"], kind="childwatch")
    r = live.http.post(contract.TAPS_PATH, json=tap, headers=live.headers(school))
    assert r.status_code == 201 and r.json()["result"] == {"guardian_notified": False}  # no consent yet
    assert live.http.post("/v1/me/child-watch", json={"child_id": child["resident_id"]}, headers=me).status_code == 204
    tap = live.tap(school, child["card_serial"], kind="childwatch")
    assert live.http.post(contract.TAPS_PATH, json=tap, headers=live.headers(school)).json()["result"] == {
        "guardian_notified": True}
    box = live.http.get("/v1/me/mailbox", headers=me).json()
    notice = [m for m in box if m["topic"] == "child_watch"]
    assert len(notice) == 1 and f"resident {child['resident_id']}" in notice[0]["body"]
    assert live.http.post(f"/v1/me/mailbox/{notice[0]['message_id']}/read", headers=me).status_code == 204
    assert live.http.get("/v1/me/mailbox?unread_only=true", headers=me).json() == [
        m for m in box if m["topic"] != "child_watch"]


def test_a_resident_cannot_consent_for_a_child_of_another_household(live):
    _, child = guardian_and_child(live, skip=2)
    stranger = live.holders(1, skip=150).row(0, named=True)
    r = live.http.post("/v1/me/child-watch", json={"child_id": child["resident_id"]},
                       headers=live.login(stranger["card_serial"]))
    assert r.status_code == 403 and r.json()["error"] in ("not_guardian", "forbidden")


@pytest.mark.parametrize("path", ["/v1/me/family", "/v1/me/mailbox", "/v1/me/wallet", "/v1/me/linkage-log"])
def test_every_resident_read_needs_a_session(live, path):
    r = live.http.get(path)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
