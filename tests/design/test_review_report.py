"""The review's take-away forms: JSON dict, Markdown, flat frame, and designs side by side."""

from __future__ import annotations

import json
from pathlib import Path

from twin.design import SERVICE_KEYS, Design, load_design, with_overrides
from twin.policy import review
from twin.policy_report import review_comparison, review_dict, review_frame, review_markdown

DESIGNS = Path(__file__).resolve().parents[2] / "designs"


def test_the_dict_is_json_ready_and_keyed_by_service():
    r = review(load_design(DESIGNS / "phased.toml"))
    d = json.loads(json.dumps(review_dict(r), ensure_ascii=False))
    assert list(d["services"]) == ["onecard", "linkage", "certificates", "portal", "safety", "payments"]
    assert d["disabled"] == ["vitals", "business", "faceid"]
    assert d["services"]["safety"]["non_card_path"] == "paper forms at the shelter desk (2 staff per shelter)"
    assert d == json.loads(json.dumps(r.to_dict(), ensure_ascii=False))


def test_the_frame_has_a_row_per_finding_and_per_refusal():
    d = with_overrides(Design(name="x"), {"safety.enabled": True, "safety.check_in_key": "my_number"})
    r = review(d)
    df = review_frame(r)
    assert df.filter(df["kind"] == "refusal")["item"].to_list() == ["shelter_key_my_number"]
    assert df.filter(df["kind"] == "finding").height == sum(len(s.findings) for s in r.services) + len(r.common)
    assert set(df["point"].to_list()) == {0, 1, 2, 3, 4, 5, 6, 7}


def test_markdown_flags_the_projects_readings_and_refusals():
    d = with_overrides(Design(name="x"), {"vitals.enabled": True, "vitals.link_key": "my_number"})
    md = review_markdown(review(d))
    assert "**REFUSED: 1 rule broken**" in md
    assert "| vitals | vitals_keyed_by_my_number |" in md
    full = review_markdown(review(load_design(DESIGNS / "full.toml")))
    assert "*(reading)*" in full and "| 5. safety measures and PIA |" in full


def test_designs_compare_side_by_side_in_a_fixed_row_order():
    a, b = (review(load_design(DESIGNS / f"{n}.toml")) for n in ("baseline", "full"))
    df = review_comparison([a, b, a])
    assert df.columns == ["item", "baseline", "full", "baseline #2"]
    items = df["item"].to_list()
    assert items[:3] == ["verdict", "city", "onecard: enabled"]
    assert len(items) == 2 + 6 * len(SERVICE_KEYS) + 10
    row = dict(zip(items, df["baseline"].to_list(), strict=True))
    assert row["onecard: enabled"] == "no" and row["onecard: PIA"] == "—"
    assert row["residents on the non-card path"] == "174,372"
    full = dict(zip(items, df["full"].to_list(), strict=True))
    assert full["linkage: number ordinances"] == "art9_2, art19_9"
    assert full["PIAs needed"] == "linkage, portal"
    assert full["verdict"] == "accepted" and full["conditions"] == "none"
    assert full["onecard: costs / computed benefits to the horizon"].startswith("¥189.3M / ¥455.9M")
    assert row["costs over the timeline (assumed unit costs)"].startswith("¥")
