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


def _empty_shelter(live, hq) -> int:
    rows = live.http.get("/v1/hq/headcounts", headers=live.headers(hq)).json()["shelters"]
    return max(r["shelter_id"] for r in rows if r["registered"] == 0)


def test_opening_a_closed_shelter_is_answered_side_by_side_and_bad_openings_get_422(live, cli):
    hq = live.device("hq")
    shut = _empty_shelter(live, hq)
    q = {"quake_jst": _quake_hours_before(live, 6), "reps": 10, "closed": str(shut), "open": str(shut)}
    r = live.http.get("/v1/hq/forecast", headers=live.headers(hq), params=q, timeout=120)
    assert r.status_code == 200, r.text
    f = r.json()
    assert f["shelters"][str(shut)]["open"] is False and f["what_if"]["open"] == [shut]
    assert f["what_if"]["forecast"]["shelters"][str(shut)]["open"] is True
    assert any(f"shelters [{shut}] are closed" in n for n in f["lacking"])
    opened = live.http.get("/v1/hq/forecast", headers=live.headers(hq), params={**q, "closed": ""})
    assert opened.status_code == 422 and "already open" in opened.json()["detail"]
    unknown = live.http.get("/v1/hq/forecast", headers=live.headers(hq), params={**q, "open": "99999"})
    assert unknown.status_code == 422 and "unknown shelters [99999]" in unknown.json()["detail"]
    out = cli("forecast", "--target", live.url, "--data", str(live.spec.folder), "--quake",
              _quake_hours_before(live, 6), "--reps", "5", "--closed", str(shut), "--open", str(shut), timeout=300)
    assert out.returncode == 0, out.stderr
    assert f"shelter {shut}: closed" in out.stdout and f"what-if open [{shut}]" in out.stdout
    bad = cli("forecast", "--target", live.url, "--data", str(live.spec.folder), "--quake",
              _quake_hours_before(live, 6), "--expected", "x")
    assert bad.returncode == 2 and "expected: 'x' must look like SHELTER=N" in bad.stderr, bad.stderr

