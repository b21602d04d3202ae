"""National dependencies: a service waiting for the nation is 'blocked until …' and its design CONDITIONAL (exit 3)."""

from __future__ import annotations

import json

from twin.design import Design, load_design, with_overrides
from twin.design_sections import DEPENDENCY_KEYS
from twin.policy import review
from twin.policy_rules import policy_data

FACE_ONLY = """
name = "faces"
city = "kumamoto"
[rollout]
phase_fiscal_years = [2026]
[faceid]
enabled = true
"""


def test_every_dependency_of_the_data_is_a_field_of_the_design_and_names_who_must_act():
    deps = policy_data()["dependencies"]
    assert tuple(deps) == DEPENDENCY_KEYS
    assert {d["who"] for d in deps.values()} == {"nation"}
    used = {r["on"] for s in policy_data()["services"].values() for r in s.get("depends", [])}
    assert used == set(DEPENDENCY_KEYS)


def test_face_checks_without_photo_access_are_blocked_and_the_design_conditional(cli, tmp_path):
    f = tmp_path / "faces.toml"
    f.write_text(FACE_ONLY, encoding="utf-8")
    p = cli("review", str(f), "--format", "md")
    assert p.returncode == 3, p.stderr
    assert "**CONDITIONAL: 1 dependency unmet**" in p.stdout
    assert "| faceid | the nation agrees the city's access to the face photos | nation |" in p.stdout
    assert "L1131-1132: 「顔写真データは、国が管理すると思われるため、利用するためには国との調整が必要である」" in p.stdout
    assert "blocked until the nation agrees the city's access to the face photos" in p.stdout
    assert f"conditional: {f}" in p.stderr and "[faceid] blocked until" in p.stderr
    body = json.loads(cli("review", str(f), "--format", "json").stdout)
    assert body["verdict"] == "CONDITIONAL" and body["accepted"] is False
    assert body["services"]["faceid"]["status"].startswith("blocked until")


def test_a_dated_dependency_unblocks_the_service_from_that_date_only(cli, tmp_path):
    met = tmp_path / "met.toml"
    met.write_text(FACE_ONLY + '[dependencies]\nface_photo_access = "2025-04-01"\n', encoding="utf-8")
    p = cli("review", str(met))
    assert p.returncode == 0, p.stderr
    assert "met on 2025-04-01" in p.stdout and "ACCEPTED" in p.stdout
    late = tmp_path / "late.toml"
    late.write_text(FACE_ONLY + '[dependencies]\nface_photo_access = "2027-01-15"\n', encoding="utf-8")
    p = cli("review", str(late))
    assert p.returncode == 3
    assert "(the design dates it 2027-01-15, after the service starts)" in p.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(FACE_ONLY + '[dependencies]\nface_photo_access = "soon"\n', encoding="utf-8")
    p = cli("review", str(bad))
    assert p.returncode == 2 and "dependencies.face_photo_access: expected a date YYYY-MM-DD, 'assumed' or '', got 'soon'" in p.stderr


def test_an_assumed_dependency_is_printed_as_an_assumption():
    r = review(load_design("designs/phased.toml"))
    assert r.verdict == "ACCEPTED"
    deps = {(d.service, d.key): d.status() for s in r.services for d in s.dependencies}
    assert deps[("portal", "portal_functions")] == "assumed met (an assumption of the design)"
    assert ("certificates", "free_area_apps") not in deps  # the user-certificate method needs no free area


def test_refused_beats_conditional_and_the_law_change_turns_a_refusal_into_ordinances():
    d = with_overrides(Design(name="x"), {"vitals.enabled": True, "vitals.link_key": "my_number", "faceid.enabled": True})
    r = review(d)
    assert r.verdict == "REFUSED" and {x.rule for x in r.refusals} == {"vitals_keyed_by_my_number"}
    assert {c.key for c in r.conditions} == {"medical_number_use", "face_photo_access"}
    changed = review(with_overrides(d, {"dependencies.medical_number_use": "2026-01-01", "dependencies.face_photo_access": "assumed"}))
    assert changed.verdict == "ACCEPTED"
    v = changed.service("vitals")
    assert v.legal_status == "ordinance" and v.number_ordinances == ("art9_2", "art19_9") and v.pia_required


def test_the_cli_documents_the_exit_codes(cli):
    p = cli("review", "--help")
    assert "Exit 0 when every design is ACCEPTED, 1 when any is REFUSED" in " ".join(p.stdout.split())
    assert "3 when none is refused but any is CONDITIONAL" in " ".join(p.stdout.split())
