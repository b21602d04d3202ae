"""Agencies ask only about residents who applied to them: a probe with an agency credential gets nothing."""

from __future__ import annotations

import polars as pl

ASK = "/v1/linkage/requests"
APPLY = "/v1/me/linkage/applications"


def ask(live, agency: str, resident_id: int, task: str = "child_allowance"):
    body = {"resident_id": int(resident_id), "task": task, "items": ["resident_tax_income"], "provider": "city.tax"}
    return live.http.post(ASK, json=body, headers=live.agency_headers(agency))


def test_an_agency_probing_residents_it_has_no_case_for_gets_no_data_and_each_resident_sees_the_refusal(live):
    r = live.city.residents.filter(pl.col("has_card") & pl.col("tax_record"))
    probed = pl.concat([r.slice(1730, 5), r.filter(pl.col("age") >= 65).slice(30, 1)]).rows(named=True)
    for who in probed:
        got = ask(live, "city.child_care", who["resident_id"])
        assert (got.status_code, got.json()["error"]) == (403, "linkage_no_case"), got.text
        assert "values" not in got.json()
    elder = probed[-1]
    log = live.http.get("/v1/me/linkage-log", headers=live.login(elder["card_serial"])).json()
    assert [(x["requester"], x["task"], x["outcome"].split(":")[0]) for x in log] == [
        ("city.child_care", "child_allowance", "refused")]


def test_after_a_resident_applies_the_agency_asks_for_that_task_only(live):
    who = live.city.residents.filter(pl.col("has_card") & pl.col("tax_record")).slice(1740, 1).row(0, named=True)
    me = live.login(who["card_serial"])
    applied = live.http.post(APPLY, json={"agency": "city.child_care", "task": "child_allowance"}, headers=me)
    assert applied.status_code == 201, applied.text
    assert (applied.json()["agency"], applied.json()["resident_id"]) == ("city.child_care", who["resident_id"])
    got = ask(live, "city.child_care", who["resident_id"])
    assert got.status_code == 200 and isinstance(got.json()["values"]["resident_tax_income"], int), got.text
    other = ask(live, "city.child_care", who["resident_id"], task="nursery_admission")
    assert (other.status_code, other.json()["error"]) == (403, "linkage_no_case")
    assert (ask(live, "city.welfare", who["resident_id"], task="public_assistance").json()["error"]
            == "linkage_no_case")
    bad = live.http.post(APPLY, json={"agency": "city.child_care", "task": "public_assistance"}, headers=me)
    assert bad.status_code == 422 and "runs no task" in bad.json()["detail"]
    assert live.http.post(APPLY, json={"agency": "city.nothing", "task": "child_allowance"},
                          headers=me).status_code == 404
    assert live.http.post(APPLY, json={"agency": "city.child_care", "task": "child_allowance"}).status_code == 401
