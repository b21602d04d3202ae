"""Smaller holes at the live endpoints: backdated taps, sessions after a loss report or logout, echoed values,
and refusals that must not grow the journal without bound."""

from __future__ import annotations

import pytest

from devices import contract
from tests.actors.live_helpers import tap_id

pytestmark = pytest.mark.usefixtures("live")


def test_a_tap_backdated_beyond_the_reader_queue_s_age_is_refused(live):
    dev = live.device("shelter", group=0)
    serial = live.holders(1, skip=1200).item(0, "card_serial")
    r = live.http.post(contract.TAPS_PATH, json=live.tap(dev, serial, at=live.now() - 4 * 86400),
                       headers=live.headers(dev))
    assert r.status_code == 422 and "in the past" in r.json()["detail"], r.text
    ok = live.http.post(contract.TAPS_PATH, json=live.tap(dev, serial, at=live.now() - 3600), headers=live.headers(dev))
    assert ok.status_code == 201, ok.text


def test_logout_ends_the_session_at_once(live):
    who = live.holders(1, skip=1210).row(0, named=True)
    me = live.login(who["card_serial"])
    assert live.http.get("/v1/me/wallet", headers=me).status_code == 200
    assert live.http.post("/v1/me/logout", headers=me).status_code == 204
    r = live.http.get("/v1/me/wallet", headers=me)
    assert r.status_code == 401 and "ended" in r.json()["detail"]
    assert live.http.post("/v1/me/logout", headers=me).status_code == 401


def test_a_loss_report_ends_every_session_of_the_card(live):
    who = live.holders(1, skip=1220).row(0, named=True)
    me = live.login(who["card_serial"])
    counter = live.device("counter")
    r = live.http.post("/v1/counters/cards/loss-reports", headers=live.headers(counter),
                       json={"report_id": f"lost-{tap_id()[:8]}", "card_serial": who["card_serial"], "at": live.now()})
    assert r.status_code == 201, r.text
    r = live.http.get("/v1/me/wallet", headers=me)
    assert r.status_code == 401, r.text


@pytest.mark.parametrize("path,field", [("/v1/payments/fees", "fee_type"), ("/v1/linkage/requests", "task")])
def test_a_refused_value_is_echoed_at_most_as_a_short_prefix(live, path, field):
    long = "x" * 5_000
    if path == "/v1/payments/fees":
        body, headers = {"key": "echo", "resident_id": 1, "fee_type": long, "amount": 300}, live.headers(
            live.device("kiosk"))
    else:
        body, headers = ({"resident_id": 1, "task": long, "items": ["resident_tax_income"], "provider": "city.tax"},
                         live.agency_headers("city.child_care"))
    r = live.http.post(path, json=body, headers=headers)
    assert 400 <= r.status_code < 500
    assert long[:100] not in r.text and len(r.text) < 2_000


def _journal(live, name: str) -> int:
    return next(p["journal"] for p in live.service.supervisor.ping() if p["name"] == name)


def test_marking_another_s_message_read_again_and_again_does_not_grow_the_journal(live):
    who = live.holders(1, skip=1230).row(0, named=True)
    me = live.login(who["card_serial"])
    shard = f"residents_{who['resident_id'] % live.spec.resident_shards}"
    before = _journal(live, shard)
    for m in range(1, 41):
        r = live.http.post(f"/v1/me/mailbox/{10**6 + m}/read", headers=me)
        assert r.status_code == 404
    assert _journal(live, shard) == before


def test_refused_linkage_asks_past_a_bound_are_throttled_not_journaled(live):
    from actors.hosts_linkage import REFUSALS_PER_SUBJECT as BOUND

    ask = {"resident_id": 3, "task": "child_allowance", "items": ["resident_tax_income"], "provider": "city.tax"}
    before = _journal(live, "linkage")
    codes = [live.http.post("/v1/linkage/requests", json=ask, headers=live.agency_headers("city.sports")).status_code
             for _ in range(BOUND + 10)]
    assert codes.count(429) >= 10 and set(codes) <= {403, 404, 429}, codes
    assert _journal(live, "linkage") - before <= BOUND
