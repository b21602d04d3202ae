"""Opening a closed shelter, as a forecast what-if, on the shared live service.

Named to run first among the live tests: a shelter can be declared closed only while nobody is
registered there, and the later live tests' loads register people at every shelter of the small
city.
"""

from __future__ import annotations

from tests.actors.test_endpoint_forecast import _quake_hours_before


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
