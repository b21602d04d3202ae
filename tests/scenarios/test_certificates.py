"""The certificate-peak scenario on a slice of the city's demand: exact reproducibility, the real
kiosks, counters and reader at work, linkage removing attachments, people giving up."""

from __future__ import annotations

import json

import polars as pl
import pytest

from scenarios import certificates
from scenarios.runner import make_params

SLICE = {"scale": 0.01, "city_seed": 1, "days": 1, "demand_share": 0.04,
         "counter_windows_per_ward": 1}


def params(design="full", **over):
    return make_params("certificates", design, overrides=SLICE | over)


@pytest.fixture(scope="module")
def full():
    return certificates.run(params("full"), 8)


@pytest.fixture(scope="module")
def baseline():
    return certificates.run(params("baseline"), 8)


def test_the_same_seed_gives_the_same_result_exactly(full):
    again = certificates.run(params("full"), 8)
    assert again == full
    assert json.dumps(again.to_dict(), sort_keys=True) == json.dumps(full.to_dict(), sort_keys=True)


def test_every_issued_visit_has_one_document_in_the_audit_register(full):
    v, docs = full.frames["visits"], full.frames["documents"]
    issued = v.filter(pl.col("outcome") == "issued")
    assert docs.height == issued.height > 0
    by_channel = docs.group_by("channel").len().sort("channel")
    want = issued.group_by("final_channel").len().sort("final_channel")
    assert by_channel["len"].to_list() == want["len"].to_list()
    kiosk_docs = docs.filter(pl.col("channel") == "kiosk")
    assert set(kiosk_docs["identity_method"].unique()) == {"jpki_user_cert"}  # the real reader


def test_linkage_removes_attachment_requests_the_baseline_still_makes(baseline, full):
    assert full.kpis["avoided_by_linkage"] > baseline.kpis["avoided_by_linkage"]
    none = certificates.run(params("full", attachment_share=0.0), 8)
    assert none.kpis["avoided_by_linkage"] == 0


def test_cheaper_kiosks_and_public_kiosks_shift_requests_from_counters(baseline, full):
    assert full.kpis["kiosk_share"] > baseline.kpis["kiosk_share"]


def test_without_kiosks_everyone_goes_to_a_counter():
    r = certificates.run(params("baseline", kiosks_enabled=False), 3)
    assert r.kpis["kiosk_certificates"] == 0 and r.kpis["counter_certificates"] > 0


def test_three_wrong_pins_lock_the_card_and_send_the_holder_to_a_counter():
    r = certificates.run(params("full", pin_mistype_probability=1.0), 3)
    v = r.frames["visits"]
    tried_kiosk = v.filter(pl.col("planned_channel") == "kiosk").height
    assert r.kpis["pin_locks"] == tried_kiosk > 0
    assert r.kpis["kiosk_certificates"] == 0
    assert v.filter(pl.col("planned_channel") == "kiosk")["final_channel"].unique().to_list() \
        in (["counter"], ["counter", "none"], ["none", "counter"])


def test_impatient_visitors_leave_the_line_and_some_give_up():
    r = certificates.run(params("baseline", counter_patience_min=1.0, max_visits=1,
                                demand_share=0.08), 4)
    assert r.kpis["reneged"] > 0 and r.kpis["gave_up"] > 0
    assert r.kpis["counter_wait_max_min"] < 5.0  # nobody waits far beyond their patience


def test_counter_waits_and_costs_are_reported_per_ward_and_in_yen(full):
    wards = full.frames["wards"]
    assert wards.height == 5 and (wards["counter_visits"] >= 0).all()
    k = full.kpis
    issued = k["kiosk_certificates"] + k["counter_certificates"] + k["branch_certificates"]
    assert k["cost_per_certificate_yen"] == pytest.approx(k["cost_yen"] / issued)
    assert 300 <= k["cost_per_certificate_yen"] <= 1000
