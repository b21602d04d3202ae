"""Every line of the review states its basis, and every quote of the report is the report's own words."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import pytest

from twin.design import Design, load_design, with_overrides
from twin.errors import ValidationError
from twin.policy import review
from twin.policy_basis import BASES, article_label, cited_lines, laws
from twin.policy_report import review_markdown, review_text
from twin.policy_rules import check_policy_data, policy_data
from twin.policy_tables import review_frame

ROOT = Path(__file__).resolve().parents[2]
DESIGNS = ROOT / "designs"
REPORT_NAME = "000_fcce5ae4be52a8e2.txt"
# The source report sits beside the checkout (README: ../shared/reference/); a worktree is one
# level deeper. MYNA_REPORT names it elsewhere.
REPORT = next(
    (p for p in (Path(os.environ.get("MYNA_REPORT", "/nonexistent")), *(d / "shared" / "reference" / REPORT_NAME for d in ROOT.parents)) if p.is_file()),
    ROOT.parent / "shared" / "reference" / REPORT_NAME,
)
NEED = {"report": ("ref", "quote"), "reading": ("ref", "why"), "assumption": ("source",), "law": ("law",)}


def report_lines() -> list[str]:
    if not REPORT.is_file():
        pytest.skip(f"the source report {REPORT_NAME} is not beside the checkout (../shared/reference/) nor at $MYNA_REPORT")
    return REPORT.read_text(encoding="utf-8").split("\n")


def squeeze(text: str) -> str:
    """The text without whitespace (the report's lines break mid-sentence and carry stray spaces)."""
    return re.sub(r"\s+", "", text)


def at_lines(ref: str) -> str:
    """The report's words at every line a reference cites, joined."""
    lines = report_lines()
    return "".join(squeeze(lines[n - 1]) for n in cited_lines(ref))


def quoted(node, where=""):
    """(where, ref, quote) for every report quote in the review data (rows, ordinances, dependencies, effects …)."""
    if isinstance(node, dict):
        if node.get("basis", "report") == "report" and "quote" in node:
            yield where, node["ref"], node["quote"]
        if "proposals_quote" in node:
            yield f"{where}.proposals", node["proposals_ref"], node["proposals_quote"]
        for k, v in node.items():
            yield from quoted(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from quoted(v, f"{where}[{i}]")


def reviews():
    yield from (review(load_design(DESIGNS / f"{n}.toml")) for n in ("baseline", "phased", "full"))
    yield review(with_overrides(Design(name="careless"), {"safety.enabled": True, "safety.check_in_key": "my_number", "vitals.enabled": True,
                                                          "vitals.link_key": "my_number", "vitals.clinic_consent_required": False,
                                                          "faceid.enabled": True, "payments.enabled": True, "payments.uses_free_area_app": False}))


def test_every_report_quote_appears_verbatim_at_the_lines_it_cites():
    found = list(quoted(policy_data()))
    assert len(found) > 150
    bad = [(w, ref, q) for w, ref, q in found if squeeze(q) not in at_lines(ref)]
    assert not bad


def test_every_line_of_every_review_states_a_complete_basis():
    for r in reviews():
        lines = [*r.common, *r.refusals, *r.cost_lines, *(x for s in r.services for x in (*s.findings, *s.dependencies, *s.effects, *s.not_modelled))]
        assert len(lines) > 10
        for x in lines:
            assert x.basis.kind in BASES and all(getattr(x.basis, k) for k in NEED[x.basis.kind]), (r.design, x)
        frame = review_frame(r)
        assert frame.height == len(lines) + len(r.conditions)
        for row in frame.iter_rows(named=True):
            assert all(row[k] for k in NEED[row["basis"]]), row


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["services"]["safety"]["refuse"][0].pop("law"), "basis 'law' needs law"),
        (lambda d: d["services"]["vitals"]["refuse"][1].pop("why"), "basis 'reading' needs why"),
        (lambda d: d["services"]["onecard"]["legal"][0].pop("quote"), "basis 'report' needs quote"),
        (lambda d: d["services"]["certificates"]["other"][0].pop("source"), "basis 'assumption' needs source"),
        (lambda d: d["dependencies"]["face_photo_access"].pop("quote"), "dependency 'face_photo_access': basis 'report' needs quote"),
        (lambda d: d["services"]["faceid"]["effects"][0].pop("measure"), "either measure or not_computed"),
        (lambda d: d["systems"]["shelter"].pop("runs"), "runs = one of"),
    ],
)
def test_a_line_without_its_basis_is_rejected(mutate, message):
    data = copy.deepcopy(policy_data())
    mutate(data)
    with pytest.raises(ValidationError, match=re.escape(message)):
        check_policy_data(data)


def test_the_text_and_markdown_show_every_basis_and_date_every_law():
    r = review(load_design(DESIGNS / "full.toml"))
    md, text = review_markdown(r), review_text(r)
    for out in (md, text):
        assert "current law" not in out
        assert "as numbered on 2015-12-31" in out and "current numbering unverified" in out
        assert out.count("reading of ") >= 10 and out.count("assumption (") >= 5 and "「" in out
    for s in r.services:
        for f in s.findings:
            assert f.basis.label() in md.replace("\\|", "|")


def test_the_legal_baseline_is_a_dated_reading_and_every_article_carries_its_current_number_or_unverified():
    base = laws()["baseline"]
    assert base["as_of"] == "2015-12-31" and base["basis"] == "reading"
    assert "特定個人情報保護委員会規則" in at_lines("L136")
    for key, art in laws()["articles"].items():
        assert ("current numbering unverified" in article_label(key)) == (not art["current"])
    d = with_overrides(Design(name="x"), {"safety.enabled": True, "safety.check_in_key": "my_number"})
    law_lines = [f for f in review(d).service("safety").findings if f.basis.kind == "law"]
    assert law_lines and all("as numbered on 2015-12-31" in f.basis.label() for f in law_lines)
