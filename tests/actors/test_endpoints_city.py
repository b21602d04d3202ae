"""HQ, kiosks, counters, payments, linkage and the OpenAPI document at the live endpoints; no 500 for bad input."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices import contract


def test_the_hq_sees_head_counts_that_match_the_check_ins(live):
    hq = live.device("hq")
    dev = live.device("shelter", group=0)
    before = {r["shelter_id"]: r for r in live.http.get("/v1/hq/headcounts", headers=live.headers(hq)).json()["shelters"]}
    serials = live.holders(4, skip=200)["card_serial"].to_list()
    taps = [live.tap(dev, s) for s in serials]
    live.http.post(contract.BATCH_PATH, json={"taps": taps}, headers=live.headers(dev))
    after = live.http.get("/v1/hq/headcounts", headers=live.headers(hq)).json()
    rows = {r["shelter_id"]: r for r in after["shelters"]}
    fid = dev["facility_id"]
    assert rows[fid]["count"] == before[fid]["count"] + 4 == rows[fid]["desk_count"]
    assert after["total_reported"] == sum(r["count"] for r in after["shelters"])
    assert set(rows) == {d["facility_id"] for d in live.creds["devices"] if d["role"] == "shelter"}


def test_only_the_hq_reads_head_counts(live):
    r = live.http.get("/v1/hq/headcounts", headers=live.headers(live.device("shelter")))
    assert r.status_code == 403 and "needs a hq device" in r.json()["detail"]


def test_a_kiosk_issues_a_certificate_on_its_own_fresh_card_authentication_once(live):
    kiosk = live.device("kiosk")
    who = live.holders(1, skip=300).row(0, named=True)
    auth = live.kiosk_tap(kiosk, who["card_serial"])
    assert live.http.post(contract.TAPS_PATH, json=auth, headers=live.headers(kiosk)).status_code == 201
    body = {"request_key": "req-1", "auth_tap_id": auth["tap_id"], "certificate": "residence_record"}
    first = live.http.post("/v1/kiosks/certificates", json=body, headers=live.headers(kiosk))
    assert first.status_code == 201, first.text
    doc = first.json()
    assert (doc["resident_id"], doc["channel"], doc["site"], doc["fee_yen"], doc["identity_method"]) == (
        who["resident_id"], "kiosk", kiosk["facility_id"], 200, "jpki_user_cert")
    again = live.http.post("/v1/kiosks/certificates", json=body, headers=live.headers(kiosk))
    assert again.status_code == 200 and again.json()["doc_no"] == doc["doc_no"]
    other = live.device("kiosk", 1)
    r = live.http.post("/v1/kiosks/certificates", json=body, headers=live.headers(other))
    assert r.status_code == 404 and "another kiosk" in r.json()["detail"]


def test_a_certificate_the_resident_may_not_have_is_refused_without_a_fee(live):
    kiosk = live.device("kiosk")
    row = live.city.residents.filter(live.city.residents["has_card"] & ~live.city.residents["seal_registered"]).row(
        0, named=True)
    auth = live.kiosk_tap(kiosk, row["card_serial"])
    live.http.post(contract.TAPS_PATH, json=auth, headers=live.headers(kiosk))
    body = {"request_key": "req-seal", "auth_tap_id": auth["tap_id"], "certificate": "seal_registration"}
    r = live.http.post("/v1/kiosks/certificates", json=body, headers=live.headers(kiosk))
    assert r.status_code == 403 and r.json()["error"] == "not_eligible"


def test_a_counter_issues_at_a_staff_window_and_refuses_a_window_it_lacks(live):
    counter = live.device("counter")
    who = live.holders(1, skip=310).row(0, named=True)
    body = {"request_key": "c-1", "resident_id": who["resident_id"], "certificate": "residence_record", "window": 0}
    r = live.http.post("/v1/counters/certificates", json=body, headers=live.headers(counter))
    assert r.status_code == 201 and r.json()["fee_yen"] == 300
    r = live.http.post("/v1/counters/certificates", json={**body, "request_key": "c-2", "window": 99},
                       headers=live.headers(counter))
    assert r.status_code == 422 and "staff windows" in r.json()["detail"]


def test_cash_fees_top_ups_and_refunds_post_once_per_device_key(live):
    kiosk, counter = live.device("kiosk"), live.device("counter")
    who = live.holders(1, skip=320).row(0, named=True)
    fee = {"key": "f1", "resident_id": who["resident_id"], "fee_type": "residence_record", "amount": 300}
    first = live.http.post("/v1/payments/fees", json=fee, headers=live.headers(counter))
    assert first.status_code == 201 and first.json()["key"] == f"{counter['device_id']}:f1"
    assert live.http.post("/v1/payments/fees", json=fee, headers=live.headers(counter)).status_code == 200
    assert live.http.post("/v1/payments/fees", json=fee, headers=live.headers(kiosk)).status_code == 201  # its own key
    refund = {"key": "rf1", "resident_id": who["resident_id"], "payment_key": first.json()["key"], "amount": 100}
    assert live.http.post("/v1/payments/refunds", json=refund, headers=live.headers(counter)).status_code == 201
    too_much = {**refund, "key": "rf2", "amount": 250}
    r = live.http.post("/v1/payments/refunds", json=too_much, headers=live.headers(counter))
    assert r.status_code == 409 and r.json()["error"] == "refund_refused"
    r = live.http.post("/v1/payments/refunds", json=refund, headers=live.headers(kiosk))
    assert r.status_code == 403
    top = {"key": "t1", "resident_id": who["resident_id"], "amount": 1000}
    assert live.http.post("/v1/payments/top-ups", json=top, headers=live.headers(kiosk)).status_code == 201
    assert live.http.get("/v1/me/wallet", headers=live.login(who["card_serial"])).json()["wallet_yen"] == 1000
    r = live.http.post("/v1/payments/fees", json={**fee, "key": "f9", "amount": -5}, headers=live.headers(counter))
    assert r.status_code == 422 and r.json()["error"] == "invalid_amount"


def test_an_agency_asks_through_the_broker_and_the_resident_reads_the_exchange(live):
    who = live.holders(1, skip=330, tax_record=True).row(0, named=True)
    ask = {"resident_id": who["resident_id"], "task": "child_allowance", "items": ["resident_tax_income"],
           "provider": "city.tax"}
    me = live.login(who["card_serial"])
    applied = live.http.post("/v1/me/linkage/applications", json={"agency": "city.child_care",
                                                                  "task": "child_allowance"}, headers=me)
    assert applied.status_code == 201, applied.text
    r = live.http.post("/v1/linkage/requests", json=ask, headers=live.agency_headers("city.child_care"))
    assert r.status_code == 200, r.text
    assert r.json()["missing"] == [] and isinstance(r.json()["values"]["resident_tax_income"], int)
    refused = live.http.post("/v1/linkage/requests", json=ask, headers=live.agency_headers("city.sports"))
    assert refused.status_code == 403 and refused.json()["error"] == "linkage_no_case"
    log = live.http.get("/v1/me/linkage-log", headers=me).json()
    assert [(x["requester"], x["outcome"]) for x in log][:2] == [
        ("city.child_care", "provided"), ("city.sports", log[1]["outcome"])]
    assert log[1]["outcome"].startswith("refused")
    wrong = live.http.post("/v1/linkage/requests", json=ask, headers={**live.agency_headers("city.tax"),
                                                                      "X-Agency-Id": "city.child_care"})
    assert wrong.status_code == 401


def test_the_openapi_document_lists_every_endpoint_with_typed_models(live):
    doc = live.http.get("/openapi.json").json()
    for path in ("/v1/readers/taps", "/v1/readers/taps/batch", "/v1/residents/sessions", "/v1/me/family",
                 "/v1/me/mailbox", "/v1/me/vitals/{book}", "/v1/hq/headcounts", "/v1/kiosks/certificates",
                 "/v1/payments/fees", "/v1/points/grants", "/v1/linkage/requests"):
        assert path in doc["paths"], path
    schemas = doc["components"]["schemas"]
    assert {"TapIn", "CardIn", "FaceIn", "AuthIn", "TapResultOut", "ErrorOut", "ReceiptOut"} <= set(schemas)
    assert schemas["TapIn"]["properties"]["tap_id"]["pattern"] == "^[0-9a-f]{32}$"


def test_an_unknown_path_or_method_is_a_json_4xx(live):
    r = live.http.get("/v1/nothing")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = live.http.get(contract.TAPS_PATH)
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"


def test_the_health_check_names_the_city_design_and_actors(live):
    h = live.http.get("/v1/health").json()
    assert (h["status"], h["city"], h["design"], h["actors"]) == ("ok", "kumamoto", "full", 8)


ENDPOINTS = ["/v1/readers/taps", "/v1/readers/taps/batch", "/v1/residents/sessions", "/v1/me/payments",
             "/v1/payments/fees", "/v1/kiosks/certificates", "/v1/counters/certificates", "/v1/linkage/requests",
             "/v1/vitals/records", "/v1/points/grants", "/v1/payments/refunds"]
JSONISH = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=20),
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                       max_leaves=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(ENDPOINTS), body=JSONISH, who=st.sampled_from(["shelter", "kiosk", "counter", "clinic"]))
def test_no_bad_input_ever_gets_a_500(live, path, body, who):
    dev = live.device(who)
    raw = json.dumps(body, allow_nan=True).encode()
    r = live.http.post(path, content=raw, headers={**live.headers(dev), "Content-Type": "application/json"})
    assert 400 <= r.status_code < 500 or r.status_code in (200, 201), (path, body, r.status_code, r.text)
    assert "error" in r.json() or "results" in r.json() or "status" in r.json()


@pytest.mark.parametrize("tap_changes", [{"at": 1e308}, {"card": {"card_serial": 2**62}},
                                         {"card": {"certificate_serial": "f" * 40}}])
def test_extreme_but_well_formed_taps_are_answered_not_crashed(live, tap_changes):
    dev = live.device("shelter")
    r = live.http.post(contract.TAPS_PATH, json={**live.tap(dev, 1), **tap_changes}, headers=live.headers(dev))
    assert 400 <= r.status_code < 500 and r.json()["error"], r.text
