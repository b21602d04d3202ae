"""Card loss reports (紛失届): suspended in the trust actor once per report id, then refused by every
shelter group and child watch (journaled there, so a rebuilt host still refuses); earlier taps stay."""

from __future__ import annotations

import asyncio
import json

import polars as pl
import pytest

from actors import routes_cards, world
from actors.context import Unavailable
from actors.hosts_childwatch import ChildWatchHost
from actors.hosts_safety import ShelterHost
from actors.hosts_trust import TrustHost
from actors.spec import ServiceSpec
from devices import contract
from tests.actors.live_helpers import T_LIVE, b64, tap_id
from twin.trust_errors import CardSuspended

LOSS = "/v1/counters/cards/loss-reports"
MY_LOSS = "/v1/me/card/loss-reports"


# -- plain hosts (no Ray) ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> ServiceSpec:
    return ServiceSpec(data_dir=str(tmp_path_factory.mktemp("loss")), scale=0.01, shelter_groups=2,
                       resident_shards=2, built_at=T_LIVE).open()


def holder(spec: ServiceSpec, skip: int, adult: bool = True) -> dict:
    r = world.city(spec).residents.filter(pl.col("has_card") & ((pl.col("age") >= 15) == adult))
    return r.slice(skip, 1).select("resident_id", "card_serial").to_dicts()[0]


def shelter_tap(reader: int, serial: int, at: float, tid: str) -> dict:
    return {"tap_id": tid, "fingerprint": f"fp-{tid}", "reader_id": reader, "serial": serial, "at": at}


def test_a_loss_report_suspends_the_card_revokes_both_certificates_and_is_kept_by_report_id(spec):
    trust = TrustHost(spec)
    who = holder(spec, 0)
    answer, status = trust.report_loss("c1:r1", "fp1", who["card_serial"], T_LIVE + 60)
    assert status == 201 and answer["status"] == "recorded"
    res = answer["result"]
    assert (res["card_serial"], res["resident_id"], res["suspended_at"], res["card_status"]) == \
        (who["card_serial"], who["resident_id"], T_LIVE + 60, "suspended")
    assert len(res["revoked_certificates"]) == 2  # user and signing (an adult's card)
    for cert in res["revoked_certificates"]:
        assert trust.ca.revocation_of(int(cert, 16)).reason == "loss"
    with pytest.raises(CardSuspended):
        trust.resident_of_serial(who["card_serial"], T_LIVE + 61)
    assert trust.report_loss("c1:r1", "fp1", who["card_serial"], T_LIVE + 60) == ({**answer, "status": "duplicate"}, 200)
    changed, status = trust.report_loss("c1:r1", "fp-other", who["card_serial"], T_LIVE + 90)
    assert (status, changed["error"]) == (409, "conflict")
    again, status = trust.report_loss("c1:r2", "fp2", who["card_serial"], T_LIVE + 90)
    assert (status, again["error"]) == (409, "card_state") and "suspended" in again["detail"]
    trust.store.close()


def test_a_childs_card_has_only_its_user_certificate_revoked(spec):
    trust = TrustHost(spec)
    child = holder(spec, 1, adult=False)
    answer, status = trust.report_loss("c1:child", "fp", child["card_serial"], T_LIVE + 60)
    assert status == 201 and len(answer["result"]["revoked_certificates"]) == 1
    trust.store.close()


def test_an_unknown_card_or_another_residents_card_is_refused_and_the_refusal_kept(spec):
    trust = TrustHost(spec)
    unknown, status = trust.report_loss("c1:u", "fp", 42, T_LIVE + 60)
    assert (status, unknown["error"]) == (404, "unknown_card")
    assert trust.report_loss("c1:u", "fp", 42, T_LIVE + 60) == (unknown, 404)
    a, b = holder(spec, 2), holder(spec, 3)
    other, status = trust.report_loss("me:x", "fp", a["card_serial"], T_LIVE + 60, holder=b["resident_id"])
    assert (status, other["error"]) == (403, "wrong_holder")
    trust.resident_of_serial(a["card_serial"], T_LIVE + 61)  # still usable
    trust.store.close()


def test_a_rebuilt_trust_host_still_holds_the_card_suspended(spec):
    who = holder(spec, 4)
    trust = TrustHost(spec)
    trust.report_loss("c1:restart", "fp", who["card_serial"], T_LIVE + 60)
    trust.store.close()
    again = TrustHost(spec)
    with pytest.raises(CardSuspended):
        again.resident_of_serial(who["card_serial"], T_LIVE + 61)
    assert again.report_loss("c1:restart", "fp", who["card_serial"], T_LIVE + 60)[1] == 200
    again.store.close()


def test_a_shelter_group_refuses_a_revoked_card_from_its_time_on_keeps_earlier_check_ins_and_after_a_rebuild(spec):
    host = ShelterHost(spec, 0)
    reader, shelter = host.readers()[0]
    a, b, c = holder(spec, 10), holder(spec, 11), holder(spec, 12)
    t = T_LIVE + 1000
    (first, status), = host.taps("checkin", [shelter_tap(reader, a["card_serial"], t, "a1")])
    assert status == 201 and first["result"]["outcome"] == "checked_in"
    assert host.revoke([a["card_serial"], b["card_serial"]], t + 100) == 2
    assert host.revoke([a["card_serial"], b["card_serial"]], t + 150) == 0  # held already: nothing journaled
    journal = len(host.journal)
    assert host.where([a["resident_id"]]) == [shelter]  # revocation does not undo an earlier check-in
    (single, status), = host.taps("checkin", [shelter_tap(reader, b["card_serial"], t + 200, "b1")])
    assert (status, single["status"], single["error"]) == (403, "rejected", "card_revoked")
    batch = host.taps("checkin", [shelter_tap(reader, b["card_serial"], t + 50, "b0"),  # queued before the report
                                  shelter_tap(reader, a["card_serial"], t + 210, "a2"),
                                  shelter_tap(reader, c["card_serial"], t + 220, "c1")])
    assert [(s, x["status"], x.get("error")) for x, s in batch] == [
        (201, "recorded", None), (403, "rejected", "card_revoked"), (201, "recorded", None)]
    assert host.where([b["resident_id"], c["resident_id"]]) == [shelter, shelter]
    reg = host.register().filter(pl.col("reason") == "card_revoked")
    assert reg.height == 2 and reg["outcome"].unique().to_list() == ["refused"]
    assert len(host.journal) == journal + 2
    host.store.close()
    again = ShelterHost(spec, 0)
    (after, status), = again.taps("checkin", [shelter_tap(reader, b["card_serial"], t + 400, "b2")])
    assert (status, after["error"]) == (403, "card_revoked")
    assert again.where([a["resident_id"], b["resident_id"]]) == [shelter, shelter]
    again.store.close()


def test_child_watch_refuses_a_revoked_card_and_still_after_a_rebuild(spec):
    host = ChildWatchHost(spec)
    site, kid = host.sites()[0], holder(spec, 5, adult=False)
    t = T_LIVE + 2000

    def tap(tid: str, at: float) -> tuple[dict, int]:
        return host.taps([{"tap_id": tid, "fingerprint": tid, "facility_id": site, "serial": kid["card_serial"],
                           "at": at}])[0]

    assert tap("k1", t)[1] == 201
    assert host.revoke([kid["card_serial"]], t + 10) == 1
    refused, status = tap("k2", t + 20)
    assert (status, refused["error"]) == (403, "card_revoked")
    host.store.close()
    again = ChildWatchHost(spec)
    assert again.taps([{"tap_id": "k3", "fingerprint": "k3", "facility_id": site, "serial": kid["card_serial"],
                        "at": t + 30}])[0][0]["error"] == "card_revoked"
    assert again.revoke([kid["card_serial"]], t + 40) == 0
    again.store.close()


class _Handle:
    """A host as a Ray handle looks to the routes (`handle.method.remote(...)` awaitable); optional failures."""

    def __init__(self, host, fail: dict[str, int] | None = None) -> None:
        self.host, self.fail = host, dict(fail or {})

    def __getattr__(self, name: str):
        def remote(*args):
            async def run():
                if self.fail.get(name, 0) > 0:
                    self.fail[name] -= 1
                    raise Unavailable("shelter group restarting")
                return getattr(self.host, name)(*args)
            return run()
        return type("M", (), {"remote": staticmethod(remote)})()


def test_a_report_whose_propagation_failed_is_finished_by_a_retry_with_the_same_report_id(spec):
    trust, watch = TrustHost(spec), ChildWatchHost(spec)
    groups = [ShelterHost(spec, g) for g in range(2)]
    c = type("C", (), {"trust": _Handle(trust), "shelters": [_Handle(groups[0]), _Handle(groups[1], {"revoke": 1})],
                       "childwatch": _Handle(watch)})()
    who, t = holder(spec, 30), T_LIVE + 4000
    reader = groups[1].readers()[0][0]
    with pytest.raises(Unavailable):  # no acknowledgement: the caller must retry
        asyncio.run(routes_cards.report(c, "c1:p1", "p1", "fp", who["card_serial"], t))
    (answer, _), = groups[1].taps("checkin", [shelter_tap(reader, who["card_serial"], t + 1, "p-before")])
    assert answer["status"] == "recorded"  # group 1 never got it
    reply = asyncio.run(routes_cards.report(c, "c1:p1", "p1", "fp", who["card_serial"], t))
    assert reply.status_code == 200 and json.loads(reply.body)["status"] == "duplicate"
    (answer, status), = groups[1].taps("checkin", [shelter_tap(reader, who["card_serial"], t + 2, "p-after")])
    assert (status, answer["error"]) == (403, "card_revoked")
    for host in (trust, watch, *groups):
        host.store.close()


# -- through HTTP on the live service ----------------------------------------------------------------------
def post_tap(live, device: dict, serial: int, **kw) -> tuple[int, dict]:
    r = live.http.post(contract.TAPS_PATH, json=live.tap(device, serial, **kw), headers=live.headers(device))
    return r.status_code, r.json()


def report(live, serial: int, report_id: str, at: float | None = None, device: dict | None = None):
    dev = device or live.device("counter")
    body = {"report_id": report_id, "card_serial": int(serial), "at": round(live.now() if at is None else at, 3)}
    return live.http.post(LOSS, json=body, headers=live.headers(dev))


def group_where(live, group: int, resident_id: int) -> int | None:
    import ray

    actor = ray.get_actor(f"shelters_{group}", namespace=live.spec.namespace)
    return ray.get(actor.where.remote([resident_id]))[0]


def test_a_counter_report_makes_every_shelter_group_and_child_watch_refuse_the_card(live):
    who = live.holders(1, skip=1000).row(0, named=True)
    serial, rid = who["card_serial"], who["resident_id"]
    g0, g1 = live.device("shelter", group=0), live.device("shelter", group=1)
    school = live.device("school")
    status, before = post_tap(live, g0, serial)
    assert status == 201 and before["result"]["outcome"] == "checked_in"
    t_before = live.now()
    r = report(live, serial, "lost-1000")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["report_id"], body["status"], body["card_serial"], body["resident_id"], body["card_status"]) == \
        ("lost-1000", "recorded", serial, rid, "suspended")
    assert body["refused_by"] == ["shelters_0", "shelters_1", "childwatch"]
    assert len(body["revoked_certificates"]) == 2
    for dev in (g0, g1, school):
        status, answer = post_tap(live, dev, serial, kind="childwatch" if dev is school else "checkin")
        assert (status, answer["status"], answer["error"]) == (403, "rejected", "card_revoked"), dev["role"]
    assert group_where(live, 0, rid) is not None  # the check-in before the report stays recorded
    queued = live.tap(g1, serial, at=t_before - 5)  # read offline before the report, uploaded now
    late = live.tap(g1, serial)
    r = live.http.post(contract.BATCH_PATH, json={"taps": [queued, late]}, headers=live.headers(g1))
    got = [(a["status"], a.get("error")) for a in r.json()["results"]]
    assert got == [("recorded", None), ("rejected", "card_revoked")]


def test_a_repeated_report_id_gets_the_first_answer_and_a_changed_one_is_a_conflict(live):
    serial = live.holders(1, skip=1001)["card_serial"][0]
    at = round(live.now(), 3)
    first = report(live, serial, "lost-1001", at)
    assert first.status_code == 201
    again = report(live, serial, "lost-1001", at)
    assert again.status_code == 200 and again.json() == {**first.json(), "status": "duplicate"}
    changed = report(live, serial, "lost-1001", at - 1)
    assert changed.status_code == 409 and changed.json()["error"] == "conflict"
    other_id = report(live, serial, "lost-1001b", at)
    assert other_id.status_code == 409 and other_id.json()["error"] == "card_state"


def test_only_a_counter_reports_and_bad_reports_are_json_4xx(live):
    serial = live.holders(1, skip=1002)["card_serial"][0]
    for role in ("shelter", "kiosk", "school"):
        r = report(live, serial, f"x-{role}", device=live.device(role))
        assert r.status_code == 403 and r.json()["error"] == "forbidden", role
    assert live.http.post(LOSS, json={"report_id": "x", "card_serial": serial, "at": live.now()}).status_code == 401
    r = report(live, 77, "x-unknown")
    assert r.status_code == 404 and r.json()["error"] == "unknown_card"
    r = report(live, serial, "x-future", at=live.now() + 3600)
    assert r.status_code == 422 and r.json()["error"] == "invalid_input" and "future" in r.json()["detail"]
    r = report(live, serial, "x-old", at=live.spec.built_at - 86400)
    assert r.status_code == 422 and "registry begins" in r.json()["detail"]
    r = live.http.post(LOSS, json={"report_id": "x", "card_serial": str(serial), "at": live.now()},
                       headers=live.headers(live.device("counter")))
    assert r.status_code == 422 and r.json()["error"] == "invalid_input"
    status, _ = post_tap(live, live.device("shelter", group=0), serial)  # none of these suspended it
    assert status == 201


def test_a_resident_reports_their_own_card_and_can_no_longer_log_in_with_it(live):
    mine, other = live.holders(2, skip=1003).rows(named=True)
    auth = live.login(mine["card_serial"])
    r = live.http.post(MY_LOSS, json={"report_id": "m1", "card_serial": other["card_serial"]}, headers=auth)
    assert r.status_code == 403 and r.json()["error"] == "wrong_holder"
    r = live.http.post(MY_LOSS, json={"report_id": "m2"}, headers=auth)
    assert r.status_code == 201, r.text
    assert (r.json()["card_serial"], r.json()["resident_id"]) == (mine["card_serial"], mine["resident_id"])
    assert live.http.post(MY_LOSS, json={"report_id": "m2"}, headers=auth).status_code == 200
    reg = live.trust[1]
    chal = live.http.get("/v1/residents/challenge").json()["challenge"]
    card, now = reg.card(int(mine["card_serial"])), live.now()
    card.verify_pin("user", reg.pins(int(mine["card_serial"])).user, now)
    login = live.http.post("/v1/residents/sessions", json={"certificate": b64(card.certificate()), "challenge": chal,
                                                           "signature": b64(card.sign(bytes.fromhex(chal), now))})
    assert login.status_code == 403 and login.json()["error"] == "card_suspended"
    status, answer = post_tap(live, live.device("shelter", group=1), mine["card_serial"], tid=tap_id())
    assert (status, answer["error"]) == (403, "card_revoked")


def test_the_openapi_document_lists_the_loss_report_endpoints(live):
    doc = live.http.get("/openapi.json").json()
    op = doc["paths"][LOSS]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/LossReportIn")
    assert set(doc["components"]["schemas"]["LossReportIn"]["properties"]) == {"report_id", "card_serial", "at"}
    assert "post" in doc["paths"][MY_LOSS]


def test_a_revocation_survives_a_restart_from_a_snapshot_in_a_shelter_group_and_child_watch(tmp_path):
    spec = ServiceSpec(data_dir=str(tmp_path), scale=0.01, shelter_groups=2, resident_shards=2, built_at=T_LIVE,
                       snapshot_every=0).open()
    who, t = holder(spec, 20), T_LIVE + 3000
    group, watch = ShelterHost(spec, 1), ChildWatchHost(spec)
    reader = group.readers()[0][0]
    group.revoke([who["card_serial"]], t)
    watch.revoke([who["card_serial"]], t)
    group.snapshot()
    watch.snapshot()
    group.store.close()
    watch.store.close()
    group, watch = ShelterHost(spec, 1), ChildWatchHost(spec)
    assert (group.snapshots.restored_seq, group.replayed) == (1, 0)
    assert (watch.snapshots.restored_seq, watch.replayed) == (1, 0)
    (answer, status), = group.taps("checkin", [shelter_tap(reader, who["card_serial"], t + 1, "s1")])
    assert (status, answer["error"]) == (403, "card_revoked")
    school = {"tap_id": "s2", "fingerprint": "s2", "facility_id": watch.sites()[0], "serial": who["card_serial"],
              "at": t + 1}
    assert watch.taps([school])[0][0]["error"] == "card_revoked"
    assert group.revoke([who["card_serial"]], t + 5) == 0 and watch.revoke([who["card_serial"]], t + 5) == 0
    group.store.close()
    watch.store.close()
