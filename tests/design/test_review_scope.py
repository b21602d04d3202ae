"""What planners look for: proposal counts, the kiosk scope beyond certificates, systems by who runs them."""

from __future__ import annotations

from tests.design.test_review_provenance import at_lines, squeeze
from twin.design import Design, load_design, with_overrides
from twin.policy import review
from twin.policy_report import review_markdown, systems_by_runner
from twin.policy_rules import policy_data


def test_the_proposal_counts_are_74_proposals_not_cities_each_quoted_from_the_list():
    services = policy_data()["services"]
    assert sum(s["proposals"] for s in services.values()) == 74
    assert squeeze("総提案件数７４件（提案市１８市／２０市）") in at_lines("L213")
    md = review_markdown(review(load_design("designs/full.toml")))
    assert "74 proposals from 18 of 20 cities" in md and "counts of proposals, not of cities" in md
    assert "| onecard | 19 | 2026 |" in md and "| faceid | 1 | 2026 |" in md


def test_the_kiosk_scope_beyond_certificates_is_listed_as_not_modelled():
    assert squeeze("各種証明書交付、電子申請、申請書自動作成") in at_lines("L258-259")
    s = review(with_overrides(Design(name="k"), {"certificates.enabled": True})).service("certificates")
    texts = " ".join(f.text for f in s.not_modelled)
    assert "E-applications" in texts and "Auto-filled" in texts
    assert {f.basis.kind for f in s.not_modelled} == {"report"}
    assert any("L581-582" in f.ref for f in s.not_modelled) and any("L602" in f.ref for f in s.not_modelled)


def test_systems_are_sorted_by_who_runs_them_and_the_nations_cost_the_city_nothing():
    assert squeeze("地方公共団体、他の地方公共団体、国、民間団体といった分類ごとに") in at_lines("L150-151")
    r = review(load_design("designs/full.toml"))
    by = systems_by_runner(r)
    assert list(by) == ["city", "other_local", "nation", "private"] and all(by.values())
    assert set(by["nation"]) == {"mynaportal", "corporate_portal", "face_photo_store", "information_provision_network"}
    assert all(not policy_data()["systems"][x]["change"] for x in by["nation"] + by["private"])
    assert "## Systems (③) by who runs them" in review_markdown(r)
