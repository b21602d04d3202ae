"""Kiosks ask the registry for the card's status online: a card reported lost is refused at once, not a day later."""

from __future__ import annotations

from devices import contract

LOSS = "/v1/counters/cards/loss-reports"


def post(live, device: dict, body: dict):
    return live.http.post(contract.TAPS_PATH, json=body, headers=live.headers(device))


def report_lost(live, serial: int, report_id: str) -> None:
    body = {"report_id": report_id, "card_serial": int(serial), "at": round(live.now(), 3)}
    r = live.http.post(LOSS, json=body, headers=live.headers(live.device("counter")))
    assert r.status_code == 201, r.text


def test_a_kiosk_tap_with_the_right_pin_after_a_loss_report_is_refused_card_suspended(live):
    who = live.holders(1, skip=1710).row(0, named=True)
    kiosk = live.device("kiosk")
    assert post(live, kiosk, live.kiosk_tap(kiosk, who["card_serial"])).status_code == 201
    report_lost(live, who["card_serial"], "online-1710")
    r = post(live, kiosk, live.kiosk_tap(kiosk, who["card_serial"]))  # the thief has the card and its PIN
    assert (r.status_code, r.json()["error"]) == (403, "card_suspended"), r.text
    shelter = live.device("shelter", group=0)
    r = post(live, shelter, live.tap(shelter, who["card_serial"]))
    assert (r.status_code, r.json()["error"]) == (403, "card_revoked"), r.text  # as before the change


def test_a_certificate_resting_on_a_kiosk_authentication_made_before_the_loss_report_is_refused(live):
    who = live.holders(1, skip=1711).row(0, named=True)
    kiosk = live.device("kiosk")
    auth = live.kiosk_tap(kiosk, who["card_serial"])
    assert post(live, kiosk, auth).status_code == 201
    report_lost(live, who["card_serial"], "online-1711")
    body = {"request_key": "lost-1711", "auth_tap_id": auth["tap_id"], "certificate": "residence_record"}
    r = live.http.post("/v1/kiosks/certificates", json=body, headers=live.headers(kiosk))
    assert (r.status_code, r.json()["error"]) == (403, "card_suspended"), r.text


def test_a_loss_report_racing_a_kiosk_tap_leaves_no_way_to_a_certificate(live):
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    who = live.holders(1, skip=1712).row(0, named=True)
    kiosk, counter = live.device("kiosk"), live.device("counter")
    auth = live.kiosk_tap(kiosk, who["card_serial"])
    lost = {"report_id": "race-1712", "card_serial": who["card_serial"], "at": round(live.now(), 3)}
    with httpx.Client(base_url=live.url, timeout=60) as a, httpx.Client(base_url=live.url, timeout=60) as b, \
            ThreadPoolExecutor(2) as pool:
        tap = pool.submit(a.post, contract.TAPS_PATH, json=auth, headers=live.headers(kiosk))
        rep = pool.submit(b.post, LOSS, json=lost, headers=live.headers(counter))
        tap_r, rep_r = tap.result(), rep.result()
    assert rep_r.status_code == 201 and len(rep_r.json()["revoked_certificates"]) == 2, rep_r.text
    assert tap_r.status_code == 201 or (tap_r.status_code, tap_r.json()["error"]) == (403, "card_suspended")
    body = {"request_key": "race-1712", "auth_tap_id": auth["tap_id"], "certificate": "residence_record"}
    r = live.http.post("/v1/kiosks/certificates", json=body, headers=live.headers(kiosk))
    assert r.status_code in (403, 404) and r.json()["error"] in ("card_suspended", "not_found"), r.text
    r = post(live, kiosk, live.kiosk_tap(kiosk, who["card_serial"]))
    assert (r.status_code, r.json()["error"]) == (403, "card_suspended"), r.text
