"""GET /v1/hq/forecast on the live service: intervals from the live state, the what-if, HQ only, clear errors."""

from __future__ import annotations

from devices import contract
from twin.clock import to_jst


def _quake_hours_before(live, hours: float) -> str:
    return to_jst(live.now() - hours * 3600).strftime("%Y-%m-%dT%H:%M")


def test_the_hq_gets_a_forecast_and_a_what_if_from_the_live_state(live):
    hq, dev = live.device("hq"), live.device("shelter", group=0)
    serials = live.holders(3, skip=600)["card_serial"].to_list()
    live.http.post(contract.BATCH_PATH, json={"taps": [live.tap(dev, s) for s in serials]}, headers=live.headers(dev))
    fid = dev["facility_id"]
    r = live.http.get("/v1/hq/forecast", headers=live.headers(hq), timeout=120,
                      params={"quake_jst": _quake_hours_before(live, 6), "reps": 20, "add_readers": f"{fid}=2"})
    assert r.status_code == 200, r.text
    f = r.json()
    assert 5.9 <= f["hours"] <= 6.2 and f["reps"] == 20
    t = f["t95_h"]
    assert f["hours"] <= t["low"] <= t["median"] <= t["high"] <= 48
    assert f["shelters"][str(fid)]["peak_wait_min"]["low"] >= 0
    assert any("people in line are not seen" in n for n in f["lacking"])
    assert f["what_if"]["add_readers"] == {str(fid): 2}
    assert set(f["what_if"]["forecast"]["shelters"]) == set(f["shelters"])


def test_only_the_hq_may_ask_and_bad_questions_get_422(live):
    hq = live.device("hq")
    r = live.http.get("/v1/hq/forecast", headers=live.headers(live.device("shelter")),
                      params={"quake_jst": _quake_hours_before(live, 2)})
    assert r.status_code == 403
    bad = live.http.get("/v1/hq/forecast", headers=live.headers(hq),
                        params={"quake_jst": _quake_hours_before(live, 2), "add_readers": "x"})
    assert bad.status_code == 422 and "SHELTER=N" in bad.json()["detail"]
    late = live.http.get("/v1/hq/forecast", headers=live.headers(hq),
                         params={"quake_jst": _quake_hours_before(live, 100)})
    assert late.status_code == 422 and "a forecast needs" in late.json()["detail"]


def test_run_py_forecast_prints_the_intervals_and_the_what_if(live, cli):
    fid = live.device("shelter", group=1)["facility_id"]
    r = cli("forecast", "--target", live.url, "--data", str(live.spec.folder), "--quake",
            _quake_hours_before(live, 3), "--reps", "10", "--add-readers", f"{fid}=1", timeout=300)
    assert r.returncode == 0, r.stderr
    assert "95 % registered at:" in r.stdout and f"what-if {{'{fid}': 1}}" in r.stdout and "lacking:" in r.stdout
    bad = cli("forecast", "--target", live.url, "--data", str(live.spec.folder), "--quake", "yesterday")
    assert bad.returncode == 2 and "quake_jst" in bad.stderr, bad.stderr

