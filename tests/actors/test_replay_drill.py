"""A drill replayed through the load tester: the forecast taken a third of the way covers what the replay then shows."""

from __future__ import annotations

import numpy as np

from actors.drill_replay import drill_of, replay_ops
from actors.load import LoadSettings, run_load
from actors.workloads import Target
from twin.clock import to_jst

THIRD_H = 16.0  # a third of the disaster scenario's 48 h


def _replay(live, drill, quake: float, seed: int) -> list[float]:
    """Send the drill's check-ins through the load tester; the hours of those the service checked in."""
    ops = list(replay_ops(Target(live.spec, live.creds), drill, quake))
    hours = dict(zip((o.key for o in ops), drill.hours.tolist(), strict=True))
    n = len(ops)
    report = run_load(live.url, "disaster", iter(ops), LoadSettings(rate=150, duration=n / 75 + 5, max_requests=n,
                                                                    max_in_flight=64, retries=5, timeout=60,
                                                                    seed=seed))
    assert len(report.outcomes) == n
    return [hours[o.key] for o in report.outcomes if 200 <= o.status < 300 and o.answer
            and o.answer.get("result", {}).get("outcome") == "checked_in"]


def test_the_forecast_a_third_into_a_replayed_drill_covers_its_time_until_95_percent_registered(live, ray_session):
    spec, hq = live.spec, live.device("hq")
    drill = drill_of(spec, seed=2)  # the disaster scenario on the service's own city, card check-ins
    groups = [ray_session.get_actor(f"shelters_{g}", namespace=spec.namespace) for g in range(spec.shelter_groups)]
    where = ray_session.get([g.where.remote(drill.resident_id.tolist()) for g in groups])
    drill = drill.where(np.array([all(w[i] is None for w in where) for i in range(drill.hours.size)]))
    rows = live.http.get("/v1/hq/headcounts", headers=live.headers(hq)).json()["shelters"]
    before = {r["shelter_id"]: r["registered"] for r in rows}  # earlier tests' check-ins: part of this drill's state
    # every tap lies in the past (the service accepts queued taps up to 72 h old), at the scenario's hours
    quake = live.now() - (drill.hours.max() + 0.5) * 3600.0
    first, rest = drill.until(THIRD_H), drill.after(THIRD_H)
    ok = _replay(live, first, quake, seed=1)
    # the forecast on the drill's own clock: the quake declared a third of the horizon ago
    expected = ",".join(f"{s}={before.get(s, 0) + n}" for s, n in drill.per_shelter.items())
    r = live.http.get("/v1/hq/forecast", headers=live.headers(hq), timeout=300, params={
        "quake_jst": to_jst(live.now() - THIRD_H * 3600).strftime("%Y-%m-%dT%H:%M"), "reps": 200, "seed": 2,
        "expected": expected})
    assert r.status_code == 200, r.text
    f = r.json()
    ok += _replay(live, rest, quake, seed=2)
    assert len(ok) >= 0.98 * drill.hours.size  # (a card another test reported lost is refused)
    shown = np.sort(ok)  # what the replay shows: the service's check-ins at the drill's hours
    need = int(np.ceil(0.95 * (sum(before.values()) + shown.size))) - sum(before.values())
    truth = max(float(shown[need - 1]) if need > 0 else 0.0, f["hours"])
    t = f["t95_h"]
    assert abs(f["hours"] - THIRD_H) < 0.05
    assert t["low"] <= truth <= t["high"], (truth, t)
