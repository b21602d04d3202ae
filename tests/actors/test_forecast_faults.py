"""Forecast under faults: a shelter-group actor restarting while the HQ asks; the answer names what it lacked.

(Kept apart from test_endpoint_forecast.py so the kill comes after the metrics test, which an
actor restarted by an earlier test can make flaky.)"""

from __future__ import annotations

from tests.actors.live_helpers import wait_until
from twin.clock import to_jst


def _quake_hours_before(live, hours: float) -> str:
    return to_jst(live.now() - hours * 3600).strftime("%Y-%m-%dT%H:%M")


def test_a_restarting_shelter_group_is_forecast_as_of_its_last_answer_and_named(live, ray_session):
    hq = live.device("hq")
    q = {"quake_jst": _quake_hours_before(live, 6), "reps": 5}
    before = live.http.get("/v1/hq/forecast", headers=live.headers(hq), params=q, timeout=120).json()
    victim = ray_session.get_actor("shelters_1", namespace=live.spec.namespace)
    pid = ray_session.get(victim.ping.remote())["pid"]
    notes = []
    for _ in range(3):  # the restart must still be under way when the head counts are asked
        ray_session.kill(victim, no_restart=False)
        r = live.http.get("/v1/hq/forecast", headers=live.headers(hq), params={**q, "wait_s": 0.2}, timeout=120)
        assert r.status_code == 200, r.text
        notes = [n for n in r.json()["lacking"] if "shelter group 1 did not answer" in n]
        if notes:
            break
    def back() -> bool:
        try:
            return ray_session.get(victim.ping.remote(), timeout=30)["pid"] != pid
        except Exception:  # still restarting  # noqa: BLE001
            return False

    wait_until(back, timeout=120, step=0.5)
    assert notes, r.json()["lacking"]
    f = r.json()
    assert "taken as of its last answer" in notes[0] and "wider interval" in notes[0]
    assert set(f["shelters"]) == set(before["shelters"])  # the group's shelters stay, as last known
    assert f["hours"] <= f["t95_h"]["low"] <= f["t95_h"]["high"] <= 48
