"""Hostile reader and agency input at the live endpoints: a 4xx of its own, never a 500, never blocking others."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from devices import contract
from tests.actors.live_helpers import tap_id

pytestmark = pytest.mark.usefixtures("live")
BIG = 2**63 + 5


def post(live, device, body, path=contract.TAPS_PATH):
    return live.http.post(path, json=body, headers=live.headers(device))


@pytest.mark.parametrize("face_change", [{"birth_date": "20241399"}, {"expires_at": 10**400}])
def test_a_face_record_with_an_impossible_date_or_expiry_is_a_422_not_a_500(live, face_change):
    dev = live.device("shelter", group=0)
    body = live.tap(dev, live.holders(1, skip=40).item(0, "card_serial"), face=True)
    body["card"]["face"].update(face_change)
    r = live.http.post(contract.TAPS_PATH, content=_dumps(body), headers={**live.headers(dev),
                                                                          "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_input"


def test_a_certificate_serial_beyond_int64_is_refused_alone_and_concurrent_check_ins_are_recorded(live):
    dev = live.device("shelter", group=0)
    serials = live.holders(8, skip=50)["card_serial"].to_list()
    poisoned = {**live.tap(dev, 1), "card": {"certificate_serial": "f" * 40}}
    good = [live.tap(dev, s) for s in serials]

    async def fire():
        async with httpx.AsyncClient(base_url=live.url, timeout=60, headers=live.headers(dev)) as client:
            bodies = [poisoned, *good]
            return await asyncio.gather(*[client.post(contract.TAPS_PATH, json=b) for b in bodies])

    first, *rest = asyncio.run(fire())
    assert 400 <= first.status_code < 500, first.text
    assert [r.status_code for r in rest] == [201] * len(good), [r.text for r in rest if r.status_code != 201]


@pytest.mark.parametrize("path,who,body", [
    ("/v1/linkage/requests", "agency", {"resident_id": BIG, "task": "child_allowance",
                                        "items": ["resident_tax_income"], "provider": "city.tax"}),
    ("/v1/payments/top-ups", "kiosk", {"key": "k-big", "resident_id": BIG, "amount": 100}),
    ("/v1/payments/fees", "kiosk", {"key": "f-big", "resident_id": BIG, "fee_type": "resident_record",
                                    "amount": 300}),
    ("/v1/points/grants", "counter", {"key": "g-big", "resident_id": BIG, "points": 10, "activity": "volunteer"}),
])
def test_a_resident_id_beyond_int64_is_a_422_on_every_endpoint(live, path, who, body):
    headers = live.agency_headers("city.child_care") if who == "agency" else live.headers(live.device(who))
    r = live.http.post(path, json=body, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_input"


def test_unparseable_json_is_a_422_invalid_input_as_the_docs_promise(live):
    r = live.http.post("/v1/payments/top-ups", content=b'{"key": ', headers={
        **live.headers(live.device("kiosk")), "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["error"] == "invalid_input"


def test_trace_is_a_405_that_names_the_allowed_methods(live):
    r = live.http.request("TRACE", "/v1/health")
    assert r.status_code == 405 and "GET" in r.headers["allow"]


def test_the_openapi_document_lists_the_duplicate_200_and_what_a_card_needs(live):
    doc = live.http.get("/openapi.json").json()
    assert "200" in doc["paths"][contract.TAPS_PATH]["post"]["responses"]
    schemas = doc["components"]["schemas"]
    card = schemas["CardIn"]
    assert card.get("minProperties") or card.get("anyOf"), card
    provider = schemas["LinkageIn"]["properties"]["provider"]
    assert provider.get("minLength") == 1 or re.search(provider["pattern"], "") is None
    assert schemas["LinkageIn"]["properties"]["resident_id"].get("maximum") is not None
    assert "pattern" in schemas["AuthIn"]["properties"]["certificate"]


@pytest.mark.parametrize("change", [{"card": {}}, {"card": {"card_serial": None}}])
def test_a_card_without_an_id_is_refused_as_the_schema_says(live, change):
    dev = live.device("shelter")
    r = post(live, dev, {**live.tap(dev, 1), **change})
    assert r.status_code == 422


def test_a_poisoned_tap_among_a_hundred_good_ones_leaves_the_hundred_recorded(live):
    dev = live.device("shelter", group=1)
    serials = live.holders(100, skip=600)["card_serial"].to_list()
    good = [live.tap(dev, s) for s in serials]
    poisoned = [{**live.tap(dev, 1), "card": {"certificate_serial": "f" * 40}},
                {**live.tap(dev, serials[0], face=False), "tap_id": tap_id(),
                 "card": {"card_serial": serials[0], "face": {"name": "x", "address": "y", "birth_date": "20241399",
                                                              "sex": "1", "expires_at": 10, "seal": "AAAA"}}}]
    r = post(live, dev, {"taps": good[:50] + poisoned + good[50:]}, contract.BATCH_PATH)
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [x["status"] for x in res[:50] + res[52:]] == ["recorded"] * 100
    assert [x["status"] for x in res[50:52]] == ["rejected", "rejected"]


def _dumps(body) -> bytes:
    import json

    return json.dumps(body).encode()
