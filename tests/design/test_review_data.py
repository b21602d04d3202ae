"""The review data file is sound: every fact cites the right page of the report, every key it uses exists."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from twin.design import Design, design_fields, load_design, with_overrides
from twin.errors import ValidationError
from twin.policy import review
from twin.policy_context import city_facts, policy_context
from twin.policy_rules import check_policy_data, policy_data

DESIGNS = Path(__file__).resolve().parents[2] / "designs"
# Lines of reference/000_fcce5ae4be52a8e2.txt on each page of the report (chapter 2 p.2-3, chapter 3
# p.4, the proposals p.5, the chapter-4 tables p.6-14, chapter 5 p.15), read off the text file
# (each page ends with its number: ２ at L60, ５ at L290, １５ at L1190).
PAGE_LINES = {
    2: (38, 60),
    3: (64, 105),
    4: (109, 207),
    5: (211, 290),
    6: (291, 368),
    7: (370, 444),
    8: (452, 606),
    9: (607, 705),
    10: (706, 789),
    11: (790, 958),
    12: (959, 1054),
    13: (1055, 1123),
    14: (1124, 1187),
    15: (1188, 1205),
}
SERVICE_PAGE = {"linkage": 6, "onecard": 7, "certificates": 8, "vitals": 9, "portal": 10, "business": 11, "safety": 12, "payments": 13, "faceid": 14}
REF_PART = re.compile(r"p\.(\d+)([^;]*)")
LINES = re.compile(r"L(\d+)(?:-(\d+))?")


def all_rows():
    """(where, row) for every fact, refusal and non-card-path row of the data."""
    data = policy_data()
    yield from ((f"common[{i}]", r) for i, r in enumerate(data["common"]))
    for key, svc in data["services"].items():
        for table in ("legal", "ordinances", "systems", "processes", "safety", "impact", "other", "refuse"):
            yield from ((f"{key}.{table}[{i}]", r) for i, r in enumerate(svc.get(table, [])))
        yield f"{key}.non_card_path", svc["non_card_path"]


def cited_lines(ref: str) -> list[tuple[int, int, int]]:
    """(page, first line, last line) for every 'p.N … Lx-y' in a ref; a part without p.N keeps the last page."""
    out, page = [], None
    for part in ref.split(";"):
        m = REF_PART.search(part)
        page = int(m.group(1)) if m else page
        for a, b in LINES.findall(part):
            out.append((page, int(a), int(b or a)))
    return out


def test_every_cited_line_lies_on_the_cited_page():
    checked = 0
    for where, row in all_rows():
        for page, a, b in cited_lines(row["ref"]):
            if page is None:
                continue
            lo, hi = PAGE_LINES[page]
            assert lo <= a <= b <= hi, f"{where}: {row['ref']!r} cites L{a}-{b} outside page {page} (L{lo}-{hi})"
            checked += 1
    assert checked > 100


def test_each_service_cites_its_own_chapter_4_table():
    for key, svc in policy_data()["services"].items():
        assert svc["page"] == SERVICE_PAGE[key]
        own = [r for t in ("legal", "ordinances", "systems", "processes", "safety") for r in svc[t] if f"p.{SERVICE_PAGE[key]} " in r["ref"]]
        assert len(own) >= 4, key


def test_the_proposal_counts_are_the_reports():
    counts = {k: s["proposals"] for k, s in policy_data()["services"].items()}
    assert counts == {"onecard": 19, "linkage": 18, "certificates": 17, "vitals": 6, "portal": 5, "business": 4, "safety": 2, "payments": 2, "faceid": 1}
    assert sum(counts.values()) == 74  # 総提案件数 74件


def keys_used() -> set[str]:
    """Every dotted key a condition tests or a text quotes."""
    out = set()
    for _, row in all_rows():
        for c in row.get("when", []) + row.get("given_when", []):
            out.add(c["key"])
        for field in ("text", "reason", "path", "why"):
            out |= set(re.findall(r"\{([a-z0-9_.]+)", row.get(field, "")))
    template = policy_data()["non_card_template"]
    out |= {k for t in template.values() for k in re.findall(r"\{([a-z0-9_.]+)", t)} - {"path", "reason"}
    return out


def test_every_key_the_data_uses_exists_in_the_review_context():
    ctx = policy_context(Design(), city_facts("kumamoto"))
    missing = keys_used() - set(ctx)
    assert not missing


def test_every_not_allowed_status_comes_with_a_refusal_under_the_same_condition():
    for key, svc in policy_data()["services"].items():
        refusing = [r["when"] for r in svc.get("refuse", [])]
        for row in svc["legal"]:
            if row.get("status") == "not_allowed":
                assert row["when"] in refusing, (key, row["text"])


@pytest.mark.parametrize("base", ["full", "baseline"])
def test_every_switch_and_choice_of_every_field_reviews_cleanly(base):
    d = load_design(DESIGNS / f"{base}.toml")
    for spec in design_fields():
        values = [not d.value(spec.key)] if spec.kind == "bool" else list(spec.options) if spec.kind == "choice" else []
        for v in values:
            try:
                d2 = with_overrides(d, {spec.key: v})
            except ValidationError:
                continue  # e.g. enabling a service with nothing in it
            r = review(d2)
            for s in r.services:
                assert all("{" not in f.text for f in s.findings), (spec.key, v)


def broken(mutate) -> dict:
    data = copy.deepcopy(policy_data())
    mutate(data)
    return data


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["services"].pop("faceid"), "services must be exactly"),
        (lambda d: d["services"]["onecard"]["ordinances"][0].update(ordinance="art99"), "unknown ordinance 'art99'"),
        (lambda d: d["services"]["onecard"]["systems"][0].update(system="mainframe"), "unknown system 'mainframe'"),
        (lambda d: d["services"]["safety"]["legal"][0].update(status="maybe"), "status must be one of"),
        (lambda d: d["services"]["safety"]["legal"][0].pop("ref"), "needs a text and a ref"),
        (lambda d: d["services"]["safety"]["legal"][0].update(when=[{"key": "safety.check_in_key", "is": "x"}]), "bad condition"),
        (lambda d: d["services"]["safety"]["legal"][0].update(colour="red"), "unknown keys ['colour']"),
        (lambda d: d["services"]["safety"].update(systems=[]), "safety.systems is empty"),
        (lambda d: d["services"]["safety"]["non_card_path"].pop("given_when"), "non_card_path needs given_when"),
        (lambda d: [r.pop("spi_file", None) for r in d["services"]["linkage"]["safety"]], "nothing about a specific-personal-information file"),
        (lambda d: d["services"]["vitals"]["refuse"][0].pop("reason"), "needs rule, reason, ref and when"),
        (lambda d: d["ordinances"]["art18"].update(kind="law"), "ordinance 'art18' needs"),
    ],
)
def test_unsound_review_data_is_refused_with_the_place_named(mutate, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        check_policy_data(broken(mutate))
