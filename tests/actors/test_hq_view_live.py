"""The dashboard's "HQ live" tab against the shared live service: the state and the forecast with its what-if."""

from __future__ import annotations

import json

from devices import contract
from tests.dashboard.hq_page import ask, hq_page
from tests.dashboard.page import errors
from twin.clock import to_jst


def _quake_hours_before(live, hours: float) -> str:
    return to_jst(live.now() - hours * 3600).strftime("%Y-%m-%dT%H:%M")


def _last_reports(live) -> dict[int, float | None]:
    """When each shelter last reported to HQ (None: never), read without making a report."""
    r = live.http.get("/v1/hq/headcounts", headers=live.headers(live.device("hq")), params={"report": "false"})
    assert r.status_code == 200, r.text
    return {row["shelter_id"]: row["counted_at"] for row in r.json()["shelters"]}


def test_headcounts_without_a_report_read_the_last_reports_and_with_one_every_shelter_reports(live):
    before = _last_reports(live)
    assert _last_reports(live) == before
    made = live.http.get("/v1/hq/headcounts", headers=live.headers(live.device("hq"))).json()
    assert all(row["counted_at"] is not None and row["age_s"] == 0 for row in made["shelters"])
    assert _last_reports(live) == {row["shelter_id"]: row["counted_at"] for row in made["shelters"]} != before


def _frame(at, column: str):
    """The table on the tab that has this column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_refresh_shows_each_shelters_state_and_the_forecast_beside_the_what_if(live):
    hq, dev = live.device("hq"), live.device("shelter", group=0)
    serials = live.holders(4, skip=900)["card_serial"].to_list()
    r = live.http.post(contract.BATCH_PATH, json={"taps": [live.tap(dev, s) for s in serials]}, headers=live.headers(dev))
    assert r.status_code == 200, r.text
    fid = dev["facility_id"]
    reports = _last_reports(live)
    at = ask(hq_page(), live.url, str(live.spec.folder), quake=_quake_hours_before(live, 4), add=f"{fid}=2", reps=12)
    assert not at.exception and not errors(at), errors(at)
    assert _last_reports(live) == reports  # the tab read the state; no shelter was made to report
    truth = live.http.get("/v1/hq/headcounts", headers=live.headers(hq), params={"report": "false"}).json()
    state = _frame(at, "occupancy").set_index("shelter")
    assert len(state) == len(truth["shelters"])
    for row in truth["shelters"]:
        shown = state.loc[row["shelter_id"]]
        assert shown["occupancy"] == f"{row['desk_count']} / {row['capacity']}"
        assert shown["readers online"] == f"{row['readers_online']} / {row['readers']}"
        assert shown["paper forms to transcribe"] == row["paper_pending"]
        assert shown["registered"] <= row["registered"]  # the tab's snapshot came first
    assert state.loc[fid, "registered"] >= 1  # the taps above
    assert any(h.value.startswith("State at ") and h.value.endswith("JST (the service's clock)") for h in at.subheader)
    shown = {m.label: m.value for m in at.metric}
    assert "95 % registered at (now)" in shown and f"95 % registered at (what-if {{'{fid}': 2}})" in shown
    assert shown["95 % registered at (now)"].endswith(" h") and "[" in shown["95 % registered at (now)"]
    forecast = _frame(at, "what-if peak wait")
    assert set(forecast["shelter"]) == set(state.index)
    assert forecast["reading (peak wait)"].isin(["what-if earlier", "what-if later", "intervals overlap: not told apart",
                                                 "cannot compare (not reached in every forecast)"]).all()
    text = " ".join(m.value for m in at.markdown)
    assert "95 % prediction intervals" in text and "reduced model" in text and "docs/twin-loop.md" in text
    assert "people in line are not seen" in text  # what the forecast lacked
    assert at.get("download_button")


def test_a_bad_quake_time_keeps_the_state_and_says_why_there_is_no_forecast(live):
    at = ask(hq_page(), live.url, str(live.spec.folder), quake=_quake_hours_before(live, 100))
    assert not at.exception and any(h.value.startswith("State at ") for h in at.subheader)
    assert "the forecast: the question is not valid (HTTP 422" in errors(at) and "a forecast needs" in errors(at)


def test_credentials_of_another_service_are_refused_with_a_clear_message(live, tmp_path):
    creds = json.loads((live.spec.folder / "credentials.json").read_text())
    for d in creds["devices"]:
        d["token"] = "0" * len(d["token"])
    (tmp_path / "credentials.json").write_text(json.dumps(creds))
    at = ask(hq_page(), live.url, str(tmp_path / "credentials.json"), quake=_quake_hours_before(live, 2))
    assert not at.exception and "the credentials are not this service's" in errors(at) and "HTTP 401" in errors(at)
    assert not at.subheader
