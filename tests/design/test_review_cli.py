"""`run.py review` and `run.py design` as a user runs them: a real subprocess each."""

from __future__ import annotations

import csv
import io
import json

KUMAMOTO_NO_CARD = 174_372

REFUSED = """name = "careless"
city = "kumamoto"
[safety]
enabled = true
check_in_key = "my_number"
[vitals]
enabled = true
link_key = "my_number"
[linkage]
enabled = true
internal_tasks = ["child_allowance", "library_registration"]
"""


def test_the_baseline_review_prints_json_keyed_by_service(cli):
    p = cli("review", "designs/baseline.toml", "--format", "json")
    assert p.returncode == 0, p.stderr
    body = json.loads(p.stdout)
    assert body["accepted"] is True
    assert list(body["services"]) == ["certificates"]
    cert = body["services"]["certificates"]
    assert cert["legal_status"] == "allowed" and cert["number_ordinances"] == [] and cert["pia_required"] is False
    assert set(cert["points"]) == {"1", "2", "3", "4", "5", "6", "7"}
    assert body["totals"]["residents_on_non_card_path"] == KUMAMOTO_NO_CARD
    assert [o["key"] for o in body["totals"]["ordinances_to_enact"]] == ["pi_ordinance"]


def test_the_full_design_names_all_nine_services_with_the_design_file_keys(cli):
    p = cli("review", "designs/full.toml", "--format", "json")
    assert p.returncode == 0, p.stderr
    body = json.loads(p.stdout)
    assert list(body["services"]) == ["onecard", "linkage", "certificates", "vitals", "portal", "business", "safety", "payments", "faceid"]
    assert body["totals"]["pias_needed"] == ["linkage", "portal"]
    assert body["services"]["safety"]["pia_required"] is False
    assert body["services"]["linkage"]["number_ordinances"] == ["art9_2", "art19_9"]


def test_a_refused_design_exits_1_with_the_reasons_on_stderr(cli, tmp_path):
    f = tmp_path / "careless.toml"
    f.write_text(REFUSED, encoding="utf-8")
    p = cli("review", str(f))
    assert p.returncode == 1
    assert "REFUSED: 3 rules broken" in p.stdout
    assert f"refused: {f}" in p.stderr
    assert "the My Number as the shelter check-in key" in p.stderr
    assert "vital records linked by the My Number" in p.stderr
    assert "library_registration" in p.stderr and "outside the permitted table" in p.stderr


def test_a_refused_design_in_json_lists_the_refusals(cli, tmp_path):
    f = tmp_path / "careless.toml"
    f.write_text(REFUSED, encoding="utf-8")
    p = cli("review", str(f), "--format", "json")
    assert p.returncode == 1
    body = json.loads(p.stdout)
    assert body["accepted"] is False
    assert {(x["service"], x["rule"]) for x in body["refusals"]} == {
        ("safety", "shelter_key_my_number"),
        ("vitals", "vitals_keyed_by_my_number"),
        ("linkage", "linkage_task_outside_fields"),
    }


def test_an_invalid_design_file_exits_2_naming_the_file_and_key(cli, tmp_path):
    f = tmp_path / "typo.toml"
    f.write_text('name = "t"\ncity = "kumamoto"\n[safety]\nenabled = true\nreaders_per_shelte = 3\n', encoding="utf-8")
    p = cli("review", str(f))
    assert p.returncode == 2
    assert p.stdout == ""
    assert f"error: {f}: safety.readers_per_shelte: unknown key (did you mean 'safety.readers_per_shelter'?)" in p.stderr


def test_one_bad_file_among_several_prints_no_review_at_all(cli, tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text('name = "t"\ncity = "kumamoto"\n[certificates]\nenabled = true\nkiosk_fee_yen = -5\n', encoding="utf-8")
    p = cli("review", "designs/baseline.toml", str(f))
    assert p.returncode == 2 and p.stdout == ""
    assert "certificates.kiosk_fee_yen: expected an integer from 0 to 10000 (yen per certificate), got -5" in p.stderr


def test_markdown_and_text_show_the_checklist_and_totals(cli):
    md = cli("review", "designs/phased.toml", "--format", "md")
    assert md.returncode == 0, md.stderr
    assert md.stdout.startswith("# Review of design `phased` — kumamoto (熊本市)")
    assert "## safety: card-tap safety confirmation" in md.stdout and "## Totals" in md.stdout
    text = cli("review", "designs/phased.toml")
    assert "ACCEPTED" in text.stdout and "PIAs needed (2): linkage, portal" in text.stdout


def test_csv_has_one_row_per_finding_for_each_design(cli):
    p = cli("review", "designs/baseline.toml", "designs/phased.toml", "--format", "csv")
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert {r["design"] for r in rows} == {"baseline", "phased"}
    assert set(rows[0]) == {"design", "service", "point", "kind", "item", "text", "ref", "basis", "quote", "why", "source", "law"}
    need = {"report": ("ref", "quote"), "reading": ("ref", "why"), "assumption": ("source",), "law": ("law",)}
    assert all(all(r[k] for k in need[r["basis"]]) for r in rows)
    assert {r["kind"] for r in rows} >= {"finding", "effect", "cost", "dependency", "not_modelled"}


def test_the_city_can_be_overridden(cli):
    p = cli("review", "designs/baseline.toml", "--city", "yokohama", "--format", "json")
    body = json.loads(p.stdout)
    assert body["city"]["name"] == "yokohama"
    assert body["totals"]["residents_on_non_card_path"] == round(3_777_491 * (1 - 0.721))


def test_design_fields_lists_every_field_with_its_unit(cli):
    p = cli("design", "fields", "--format", "json")
    assert p.returncode == 0, p.stderr
    fields = {f["key"]: f for f in json.loads(p.stdout)}
    assert fields["safety.check_in_key"]["options"] == ["card_serial", "card_face", "my_number"]
    assert fields["certificates.counter_cost_per_certificate_yen"]["default"] == 900.0
    assert all(f["unit"] for f in fields.values())


def test_design_check_prints_the_design_with_defaults_filled_in(cli):
    p = cli("design", "check", "designs/baseline.toml")
    assert p.returncode == 0, p.stderr
    assert "valid; enabled: certificates" in p.stdout
    assert "readers_per_shelter = 2" in p.stdout
    missing = cli("design", "check")
    assert missing.returncode == 2 and "needs a design FILE" in missing.stderr


def test_a_shipped_design_can_be_named_without_its_path(cli):
    p = cli("review", "phased", "--format", "json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["design"] == "phased"
    missing = cli("review", "nonesuch")
    assert missing.returncode == 2 and "error: nonesuch: (file): no such design file" in missing.stderr


def test_compare_prints_designs_side_by_side_and_still_exits_1_when_one_is_refused(cli, tmp_path):
    f = tmp_path / "careless.toml"
    f.write_text(REFUSED, encoding="utf-8")
    p = cli("review", "baseline", str(f), "--compare", "--format", "json")
    assert p.returncode == 1
    rows = {r["item"]: r for r in json.loads(p.stdout)}
    assert rows["verdict"] == {"item": "verdict", "baseline": "accepted", "careless": "refused"}
    assert rows["safety: legal status"]["careless"] == "not_allowed"
    assert "refused:" in p.stderr
