"""The report's main effects as quantities beside the costs, per service and per design, over the timeline."""

from __future__ import annotations

import json

import pytest

from tests.design.test_review_provenance import at_lines, squeeze
from twin.design import Design, design_fields, linkage_task_catalogue, load_design, with_overrides
from twin.policy import review
from twin.policy_benefits import MEASURES, benefit_values
from twin.policy_rules import policy_data
from twin.services.onecard import OneCardCosts


def test_every_service_lists_the_effects_its_page_names_each_computed_or_said_not_to_be():
    for key, svc in policy_data()["services"].items():
        effects = svc["effects"]
        assert effects, key
        assert all("主な効果" in e["ref"] or "概要" in e["ref"] for e in effects), key
        assert all(squeeze(e["quote"]) in at_lines(e["ref"]) for e in effects), key
    measures = {e["measure"] for s in policy_data()["services"].values() for e in s["effects"] if e.get("measure")}
    assert measures == set(MEASURES)


def test_every_unit_value_has_a_source_and_a_status_and_assumptions_are_marked():
    for key, v in benefit_values().items():
        assert v["status"] in ("published", "assumption") and v["source"], key
    assert benefit_values()["evacuee_share"]["status"] == "published"
    assert benefit_values()["resident_yen_per_hour"]["status"] == "assumption"


def test_linkage_certificates_avoided_follow_the_population_the_tasks_and_their_attachments():
    d = with_overrides(Design(name="x"), {"linkage.enabled": True, "linkage.internal_tasks": ["child_allowance", "single_parent_medical_subsidy"]})
    r = review(d)
    e = {x.measure: x for x in r.service("linkage").effects}
    attachments = sum(len(linkage_task_catalogue()[t]["attachments"]) for t in ("child_allowance", "single_parent_medical_subsidy"))
    expected = r.city.population / 1000 * benefit_values()["linkage_applications_per_1000_residents_per_year"]["value"] * attachments
    assert e["linkage_certificates_avoided"].quantity_at_horizon == pytest.approx(expected)
    cost = e["linkage_issuance_cost_avoided"]
    assert cost.yen_per_unit == d.certificates.counter_cost_per_certificate_yen
    years = d.rollout.target_fiscal_year - d.rollout.phase_fiscal_years[0] + 1
    assert cost.yen_over_timeline == pytest.approx(expected * 900 * years, rel=1e-6)


def test_kiosk_benefits_grow_with_card_ownership():
    d = with_overrides(Design(name="x"), {"certificates.enabled": True})
    low = review(with_overrides(d, {"rollout.card_ownership_target_share": 0.8}))
    high = review(with_overrides(d, {"rollout.card_ownership_target_share": 0.95}))
    saved = lambda r: {e.measure: e for e in r.effects}["certificates_resident_hours_saved"]  # noqa: E731
    assert 0 < saved(low).yen_over_timeline < saved(high).yen_over_timeline
    assert saved(low).assumed and "per resident hour" in saved(low).valuation


def test_per_event_effects_stay_out_of_the_yearly_totals():
    r = review(with_overrides(Design(name="x"), {"safety.enabled": True}))
    (event,) = [e for e in r.effects if e.computed]
    assert event.per_event and event.yen_over_timeline is None and event.yen_per_year_at_horizon > 0


def test_one_jlis_fee_figure_serves_the_review_and_the_one_card_service():
    fields = {f.key: f for f in design_fields()}
    assert OneCardCosts().jlis_fee_per_year_yen == fields["costs.card_agency_fee_yen_per_year"].default == 1_000_000
    assert OneCardCosts().jlis_fee_per_install_yen == fields["costs.card_agency_fee_yen_per_install"].default == 100
    assert "assumption" in fields["costs.card_agency_fee_yen_per_year"].source
    r = review(load_design("designs/phased.toml"))
    assert r.costs.card_agency_fees_yen_per_year == 1_000_000  # one fee line shared by one-card and payments
    assert r.costs.card_agency_install_fees_yen > 0


def test_compare_and_markdown_show_benefits_beside_costs_and_say_which_costs_are_assumptions(cli):
    p = cli("review", "baseline", "phased", "--compare", "--format", "json")
    assert p.returncode == 0, p.stderr
    rows = {r["item"]: r for r in json.loads(p.stdout)}
    assert rows["linkage: costs / computed benefits to the horizon"]["baseline"] == "—"
    assert " / ¥" in rows["linkage: costs / computed benefits to the horizon"]["phased"]
    assert rows["computed benefits over the timeline"]["phased"].endswith("rest on assumptions)")
    md = cli("review", "designs/full.toml", "--format", "md").stdout
    assert "## Benefits beside costs, to FY2029" in md and "| **design** |" in md
    r = review(load_design("designs/full.toml"))
    n = len(r.cost_lines)
    assert f"costs (design unit costs; {n} of {n} cost lines rest on assumptions: costs.system_change_yen, " in md
    assert "not computed: the twin has no synthetic businesses" in md
