"""The reader HTTP contract through a real HTTP client: credentials, validation, idempotency, batches."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from devices import contract
from devices.contract import Card, Tap
from devices.reference_endpoint import Device, ReferenceEndpoint
from devices.tap_queue import TapQueue
from devices.uplink import CredentialsRefused, EndpointUnavailable, Uplink
from twin.errors import Conflict, ValidationError

SHELTER = Device("shelter-1", "s3cret-shelter", "shelter", "shelter-01")
KIOSK = Device("kiosk-1", "s3cret-kiosk", "kiosk", "kiosk-01")


def tap(n: int = 1, **changes) -> Tap:
    base = Tap(f"{n:032x}", "shelter-1", "shelter-01", "checkin", 1_775_000_000.0 + n, Card(card_serial=100 + n))
    return dataclasses.replace(base, **changes)


@pytest.fixture
def server():
    ep = ReferenceEndpoint([SHELTER, KIOSK])
    ep.start()
    yield ep
    ep.stop()


def post(server, body, path=contract.TAPS_PATH, device=SHELTER, token=None):
    headers = {contract.AUTH_HEADER: f"Bearer {token or device.token}", contract.DEVICE_HEADER: device.device_id}
    return httpx.post(server.url + path, json=body, headers=headers, timeout=5)


def test_a_tap_is_recorded_once_and_a_repeat_gets_the_first_answer(server):
    first = post(server, tap().to_json())
    again = post(server, tap().to_json())
    assert (first.status_code, first.json()["status"]) == (201, "recorded")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert again.json()["result"] == first.json()["result"] == {"card_serial": 101}
    assert len(server.recorded()) == 1 and server.taps[tap().tap_id].posts == 2


def test_the_same_tap_id_with_another_body_is_a_409_conflict(server):
    post(server, tap().to_json())
    other = post(server, tap(card=Card(card_serial=999)).to_json())
    assert other.status_code == 409 and other.json()["error"] == "conflict"
    assert server.recorded()[0].card.card_serial == 101


def test_a_wrong_token_or_unknown_device_is_401_and_nothing_is_recorded(server):
    assert post(server, tap().to_json(), token="guess").status_code == 401
    stranger = Device("nobody", "x", "shelter", "shelter-01")
    assert post(server, tap().to_json(), device=stranger).status_code == 401
    assert server.taps == {}


def test_a_device_may_post_only_its_own_site_and_role(server):
    assert post(server, tap(site_id="shelter-02").to_json()).status_code == 403
    assert post(server, tap(device_id="kiosk-1").to_json()).status_code == 403
    r = post(server, tap(2, device_id="kiosk-1", site_id="kiosk-01").to_json(), device=KIOSK)
    assert r.status_code == 403 and "cannot post checkin" in r.json()["detail"]


@pytest.mark.parametrize("change, key", [
    ({"extra": 1}, "'extra'"),
    ({"kind": "teleport"}, "kind"),
    ({"tap_id": "short"}, "tap_id"),
    ({"at": "yesterday"}, "at"),
    ({"card": {}}, "card_serial or certificate_serial"),
    ({"card": {"card_serial": -1}}, "card.card_serial"),
    ({"card": {"card_serial": 1, "my_number": "123456789018"}}, "'my_number'"),
])
def test_a_malformed_tap_is_a_422_that_names_what_is_wrong(server, change, key):
    body = {**tap().to_json(), **change}
    r = post(server, body)
    assert r.status_code == 422 and key in r.json()["detail"]


def test_a_kiosk_tap_without_auth_or_a_shelter_tap_with_it_is_refused():
    with pytest.raises(ValidationError, match="auth is required"):
        Tap.from_json(tap(kind="kiosk_auth").to_json())


def test_a_batch_answers_each_tap_and_keeps_idempotency(server):
    body = {"taps": [tap(1).to_json(), tap(2).to_json(), {**tap(3).to_json(), "kind": "x"}]}
    r = post(server, body, contract.BATCH_PATH)
    assert r.status_code == 200
    assert [x["status"] for x in r.json()["results"]] == ["recorded", "recorded", "rejected"]
    again = post(server, body, contract.BATCH_PATH).json()["results"]
    assert [x["status"] for x in again] == ["duplicate", "duplicate", "rejected"]
    assert len(server.recorded()) == 2


def test_an_oversized_batch_is_refused_whole(server):
    r = post(server, {"taps": [tap(i).to_json() for i in range(contract.MAX_BATCH + 1)]}, contract.BATCH_PATH)
    assert r.status_code == 413 and server.taps == {}


def test_the_challenge_binds_device_site_tap_and_time():
    a = contract.challenge("a" * 32, "kiosk-1", "kiosk-01", 1.5, "00" * 16)
    assert a == b"myna-twin/reader-challenge/v1|kiosk-1|kiosk-01|" + b"a" * 32 + b"|1.500|" + b"00" * 16
    assert a != contract.challenge("b" * 32, "kiosk-1", "kiosk-01", 1.5, "00" * 16)
    assert a != contract.challenge("a" * 32, "kiosk-1", "kiosk-01", 1.501, "00" * 16)


def test_the_uplink_sends_one_tap_singly_and_several_in_a_batch(server):
    up = Uplink(server.url, SHELTER.device_id, SHELTER.token)
    assert [r.status for r in up.send([tap(1)])] == ["recorded"]
    assert [r.status for r in up.send([tap(1), tap(2)])] == ["duplicate", "recorded"]
    up.close()


def test_the_uplink_says_unavailable_when_nobody_listens_and_refused_on_a_bad_token(server):
    url = server.url
    with pytest.raises(CredentialsRefused):
        Uplink(url, SHELTER.device_id, "wrong").send([tap()])
    server.stop()
    with pytest.raises(EndpointUnavailable):
        Uplink(url, SHELTER.device_id, SHELTER.token, timeout=1).send([tap()])


def test_a_5xx_keeps_taps_queued_and_a_4xx_is_a_final_refusal():
    def answer(request: httpx.Request) -> httpx.Response:
        if b'"kind": "checkout"' in request.content or b'"kind":"checkout"' in request.content:
            return httpx.Response(422, json={"error": "invalid_input", "detail": "no"})
        return httpx.Response(503, text="busy")

    up = Uplink("http://127.0.0.1:9", "shelter-1", "t", transport=httpx.MockTransport(answer))
    with pytest.raises(EndpointUnavailable):
        up.send([tap()])
    (refused,) = up.send([tap(kind="checkout")])
    assert (refused.status, refused.error, refused.detail) == ("rejected", "invalid_input", "no")


def test_the_queue_keeps_taps_across_reopening_and_settles_each_once(tmp_path):
    q = TapQueue(tmp_path / "q.sqlite")
    q.add(tap(1))
    q.add(tap(2))
    q.add(tap(1))  # the same tap again: no second row
    with pytest.raises(Conflict):
        q.add(tap(1, kind="checkout"))
    q.close()
    q = TapQueue(tmp_path / "q.sqlite")
    assert [t.tap_id for t in q.pending()] == [tap(1).tap_id, tap(2).tap_id]
    q.settle([contract.TapResult(tap(1).tap_id, "recorded"), contract.TapResult(tap(2).tap_id, "rejected",
                                                                                  "forbidden", "why")], 5.0)
    q.settle([contract.TapResult(tap(1).tap_id, "rejected")], 6.0)  # a late answer changes nothing
    assert q.counts() == type(q.counts())(0, 1, 1)
    assert q.answer(tap(1).tap_id)[0] == "synced" and q.answer(tap(2).tap_id)[1].detail == "why"
    q.close()


def test_reader_settings_refuse_a_role_s_wrong_kind_and_bad_ids():
    from devices.reader_client import ReaderSettings

    assert ReaderSettings("kiosk", "k-1", "d-1").kind == "kiosk_auth"
    with pytest.raises(ValidationError, match="records checkin or checkout"):
        ReaderSettings("shelter", "s-1", "d-1", kind="kiosk_auth")
    with pytest.raises(ValidationError, match="site_id"):
        ReaderSettings("shelter", "s 1", "d-1")
    with pytest.raises(ValidationError, match="role"):
        ReaderSettings("gate", "s-1", "d-1")


def test_an_answer_s_result_is_kept_as_the_endpoint_gave_it_nulls_included(tmp_path):
    q = TapQueue(tmp_path / "q.sqlite")
    q.add(tap(1))
    q.settle([contract.TapResult(tap(1).tap_id, "recorded", result={"redirect_to": None, "n": 1})], 1.0)
    assert q.answer(tap(1).tap_id)[1].result == {"redirect_to": None, "n": 1}
    q.close()
