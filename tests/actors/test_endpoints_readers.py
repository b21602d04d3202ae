"""The reader contract at the live endpoints: check-in, check-out, batches, kiosks, idempotency, refusals."""

from __future__ import annotations

import pytest

from devices import contract
from devices.uplink import Uplink
from tests.actors.live_helpers import tap_id

pytestmark = pytest.mark.usefixtures("live")


def post(live, device, body, path=contract.TAPS_PATH, headers=None):
    return live.http.post(path, json=body, headers=headers or live.headers(device))


def test_a_card_tap_checks_the_holder_in_once_and_a_repeat_gets_the_first_answer(live):
    dev = live.device("shelter", group=0)
    who = live.holders(1, skip=0).row(0, named=True)
    body = live.tap(dev, who["card_serial"])
    first = post(live, dev, body)
    assert first.status_code == 201
    answer = first.json()
    assert answer["status"] == "recorded"
    assert answer["result"] == {"resident_id": who["resident_id"], "card_serial": who["card_serial"],
                                "method": "card_serial", "assurance": "MEDIUM", "outcome": "checked_in",
                                "shelter_id": dev["facility_id"], "redirect_to": None}
    again = post(live, dev, body)
    assert again.status_code == 200 and again.json() == {**answer, "status": "duplicate"}


def test_the_same_tap_id_with_another_body_is_a_409_and_changes_nothing(live):
    dev = live.device("shelter", group=0)
    a, b = live.holders(2, skip=1).rows(named=True)
    body = live.tap(dev, a["card_serial"])
    assert post(live, dev, body).status_code == 201
    changed = post(live, dev, {**body, "card": {"card_serial": b["card_serial"]}})
    assert changed.status_code == 409 and changed.json()["error"] == "conflict"
    again = post(live, dev, body)
    assert again.json()["result"]["resident_id"] == a["resident_id"]


def test_a_wrong_token_an_unknown_device_or_no_credentials_is_a_401(live):
    dev = live.device("shelter")
    body = live.tap(dev, live.holders(1).item(0, "card_serial"))
    for headers in ({**live.headers(dev), "Authorization": "Bearer nope"},
                    {**live.headers(dev), "X-Device-Id": "shelter-999-9"}, {}):
        r = live.http.post(contract.TAPS_PATH, json=body, headers=headers)
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"


def test_a_device_posts_only_its_own_site_and_its_role_s_kinds(live):
    dev, other = live.device("shelter", 0), live.device("shelter", 0, group=1)
    serial = live.holders(1).item(0, "card_serial")
    foreign = {**live.tap(dev, serial), "site_id": other["site_id"]}
    r = post(live, dev, foreign)
    assert r.status_code == 403 and "posts only its own taps" in r.json()["detail"]
    r = post(live, dev, live.tap(dev, serial, kind="childwatch"))
    assert r.status_code == 403 and "cannot post childwatch" in r.json()["detail"]
    kiosk = live.device("kiosk")
    r = post(live, kiosk, live.tap(kiosk, serial, kind="checkin"))
    assert r.status_code == 403


@pytest.mark.parametrize(("change", "where"), [
    ({"tap_id": "xyz"}, "tap_id"), ({"kind": "teleport"}, "kind"), ({"at": -1}, "at"),
    ({"card": {}}, "card"), ({"my_number": "123456789018"}, "my_number"),
    ({"card": {"card_serial": "12"}}, "card_serial"),
])
def test_a_malformed_tap_is_a_422_whose_body_names_what_is_wrong(live, change, where):
    dev = live.device("shelter")
    r = post(live, dev, {**live.tap(dev, 1), **change})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "invalid_input" and where in body["detail"] + str(body["problems"])


def test_a_tap_dated_far_in_the_future_is_refused(live):
    dev = live.device("shelter")
    r = post(live, dev, live.tap(dev, live.holders(1).item(0, "card_serial"), at=live.now() + 3600))
    assert r.status_code == 422 and "in the future" in r.json()["detail"]


def test_an_unknown_card_is_refused_with_the_registry_s_code_and_the_refusal_repeats(live):
    dev = live.device("shelter")
    body = live.tap(dev, 999_999_999_999)
    r = post(live, dev, body)
    assert r.status_code == 404 and r.json()["error"] == "unknown_card" and r.json()["status"] == "rejected"
    assert post(live, dev, body).json() == r.json()


def test_a_sealed_face_record_is_checked_and_a_forged_one_refused(live):
    dev = live.device("shelter", group=0)
    who = live.holders(1, skip=5).row(0, named=True)
    good = live.tap(dev, who["card_serial"], face=True)
    r = post(live, dev, good)
    assert r.status_code == 201 and r.json()["result"]["resident_id"] == who["resident_id"]
    forged = live.tap(dev, who["card_serial"], face=True)
    forged["card"]["face"]["name"] = "Someone Else"
    r = post(live, dev, forged)
    assert r.status_code == 403 and r.json()["error"] == "forged"


def test_check_out_clears_the_record_and_a_second_check_out_changes_nothing(live):
    dev = live.device("shelter", group=0)
    serial = live.holders(1, skip=7).item(0, "card_serial")
    post(live, dev, live.tap(dev, serial))
    out = post(live, dev, live.tap(dev, serial, kind="checkout"))
    assert out.status_code == 201 and out.json()["result"]["outcome"] == "checked_out"
    again = post(live, dev, live.tap(dev, serial, kind="checkout"))
    assert again.json()["result"]["outcome"] == "not_checked_in"


def test_a_batch_answers_every_tap_in_order_and_rejects_a_malformed_one_alone(live):
    dev = live.device("shelter", group=0)
    serials = live.holders(3, skip=10)["card_serial"].to_list()
    taps = [live.tap(dev, s) for s in serials]
    bad = {**live.tap(dev, serials[0]), "kind": "nope"}
    r = post(live, dev, {"taps": [taps[0], bad, taps[1], taps[2], taps[0]]}, contract.BATCH_PATH)
    assert r.status_code == 200
    res = r.json()["results"]
    assert [x["status"] for x in res] == ["recorded", "rejected", "recorded", "recorded", "duplicate"]
    assert res[1]["error"] == "invalid_input" and "kind" in res[1]["detail"]
    again = post(live, dev, {"taps": taps}, contract.BATCH_PATH).json()["results"]
    assert [x["status"] for x in again] == ["duplicate"] * 3


def test_an_oversized_batch_is_a_413_and_a_body_without_taps_a_422(live):
    dev = live.device("shelter")
    tap = live.tap(dev, 1)
    r = post(live, dev, {"taps": [{**tap, "tap_id": tap_id()} for _ in range(contract.MAX_BATCH + 1)]},
             contract.BATCH_PATH)
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    assert post(live, dev, {"tap": []}, contract.BATCH_PATH).status_code == 422
    r = live.http.post(contract.BATCH_PATH, content=b"not json", headers=live.headers(dev))
    assert r.status_code == 422 and r.json()["detail"] == "the body is not JSON"


def test_checking_in_at_another_group_s_shelter_moves_the_record(live):
    a, b = live.device("shelter", group=0), live.device("shelter", group=1)
    serial = live.holders(1, skip=20).item(0, "card_serial")
    post(live, a, live.tap(a, serial))
    r = post(live, b, live.tap(b, serial))
    assert r.json()["result"]["shelter_id"] == b["facility_id"]
    again = post(live, a, live.tap(a, serial))
    assert again.json()["result"]["outcome"] == "checked_in"  # it had been cleared from group 0


def test_a_kiosk_authentication_is_verified_and_a_tampered_one_refused(live):
    kiosk = live.device("kiosk")
    who = live.holders(1, skip=30).row(0, named=True)
    tap = live.kiosk_tap(kiosk, who["card_serial"])
    r = post(live, kiosk, tap)
    assert r.status_code == 201
    assert r.json()["result"]["assurance"] == "HIGH" and r.json()["result"]["resident_id"] == who["resident_id"]
    moved = {**live.kiosk_tap(kiosk, who["card_serial"]), "at": live.now() - 60}  # replayed a minute later
    r = post(live, kiosk, moved)
    assert r.status_code == 403 and r.json()["error"] == "forged"


def test_the_reader_client_s_uplink_talks_to_the_live_endpoints(live):
    dev = live.device("shelter", 1, group=0)
    up = Uplink(live.url, dev["device_id"], dev["token"], timeout=60)
    serials = live.holders(3, skip=40)["card_serial"].to_list()
    taps = [contract.Tap.from_json(live.tap(dev, s)) for s in serials]
    try:
        results = up.send(taps)
        assert [r.status for r in results] == ["recorded"] * 3
        assert [r.status for r in up.send(taps[:1])] == ["duplicate"]
    finally:
        up.close()
