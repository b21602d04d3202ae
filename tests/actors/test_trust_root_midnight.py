"""A loss report dated before the newest revocation list, through HTTP: all or nothing, the same after a restart.

Its own service (one Serve app at a time, so the shared one is stopped first): the clock just
after midnight JST, the card registry as of the morning before. The file sorts after every
module that uses the shared service, so that one is not started twice in a run.
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from tests.actors.live_helpers import T_LIVE, Live, free_port, wait_until
from twin.clock import DAY

MIDNIGHT = T_LIVE - 10 * 3600 + DAY  # Tuesday 7 April 2026, 00:00 JST: that day's revocation list is published
LOSS = "/v1/counters/cards/loss-reports"


@pytest.fixture(scope="module")
def night(_live_service, tmp_path_factory):
    """A service whose clock reads 00:00:30 JST, its cards issued as of 10:00 the morning before."""
    from ray import serve

    from actors import service
    from actors.spec import ServiceSpec

    _, stop_shared = _live_service
    stop_shared()  # the next module that needs the shared service starts it again
    spec = ServiceSpec(data_dir=str(tmp_path_factory.mktemp("night")), scale=0.01, shelter_groups=2,
                       resident_shards=2, built_at=T_LIVE, namespace=f"night-{uuid.uuid4().hex[:8]}")
    spec = dataclasses.replace(spec, time_shift=MIDNIGHT + 30 - spec.now())
    svc = service.start(spec, port=free_port())
    yield Live(svc.url, svc.supervisor.spec, svc)
    svc.stop()
    serve.shutdown()


def report(live, serial: int, report_id: str, at: float):
    body = {"report_id": report_id, "card_serial": int(serial), "at": round(at, 3)}
    return live.http.post(LOSS, json=body, headers=live.headers(live.device("counter")))


def pid_of(ray, actor) -> int | None:
    """The actor's process id, or None while it restarts."""
    from ray.exceptions import ActorUnavailableError, RayActorError

    try:
        return ray.get(actor.ping.remote(), timeout=30)["pid"]
    except (ActorUnavailableError, RayActorError, TimeoutError):
        return None


def login_refusal(live, serial: int) -> tuple[int, str]:
    reg = live.trust[1]
    chal = live.http.get("/v1/residents/challenge").json()["challenge"]
    card, now = reg.card(int(serial)), live.now()
    card.verify_pin("user", reg.pins(int(serial)).user, now)
    from tests.actors.live_helpers import b64

    r = live.http.post("/v1/residents/sessions", json={"certificate": b64(card.certificate()), "challenge": chal,
                                                       "signature": b64(card.sign(bytes.fromhex(chal), now))})
    return r.status_code, r.json().get("error", "")


def test_a_report_dated_just_before_midnight_after_a_post_midnight_login_takes_full_effect(night):
    lost, other = night.holders(2, skip=1720).rows(named=True)
    night.login(other["card_serial"])  # after midnight: the authority publishes the day's list
    r = report(night, lost["card_serial"], "late-1720", MIDNIGHT - 10)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["status"], body["card_status"], len(body["revoked_certificates"])) == ("recorded", "suspended", 2)
    assert body["refused_by"] == ["shelters_0", "shelters_1", "childwatch"]
    shelter = night.device("shelter", group=0)
    tap = night.http.post("/v1/readers/taps", json=night.tap(shelter, lost["card_serial"]),
                          headers=night.headers(shelter))
    assert (tap.status_code, tap.json()["error"]) == (403, "card_revoked")
    assert login_refusal(night, lost["card_serial"]) == (403, "card_suspended")
    again = report(night, lost["card_serial"], "late-1720", MIDNIGHT - 10)
    assert again.status_code == 200 and {**again.json(), "status": "recorded"} == body


def test_a_report_sent_while_the_trust_actor_restarts_is_finished_by_a_retry_and_answers_the_same_after(night,
                                                                                                       ray_session):
    ray = ray_session
    lost = night.holders(1, skip=1722).row(0, named=True)
    trust = ray.get_actor("trust", namespace=night.spec.namespace)
    pid = pid_of(ray, trust)
    ray.kill(trust, no_restart=False)
    first = report(night, lost["card_serial"], "late-1722", MIDNIGHT - 5)
    if first.status_code == 503:  # the actor was down: nothing happened; the same report id again
        first = wait_until(lambda: (r := report(night, lost["card_serial"], "late-1722", MIDNIGHT - 5))
                           .status_code != 503 and r, timeout=120, step=1.0)
    assert first.status_code == 201, first.text
    pid = wait_until(lambda: (p := pid_of(ray, trust)) not in (None, pid) and p, timeout=120)
    refused = login_refusal(night, lost["card_serial"])
    ray.kill(trust, no_restart=False)  # restart again: the journal replays to the same state
    wait_until(lambda: pid_of(ray, trust) not in (None, pid), timeout=120)
    again = report(night, lost["card_serial"], "late-1722", MIDNIGHT - 5)
    assert again.status_code == 200 and {**again.json(), "status": "recorded"} == first.json()
    assert login_refusal(night, lost["card_serial"]) == refused == (403, "card_suspended")
