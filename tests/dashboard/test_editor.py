"""The design editor: one widget per design field, and the loader's checks on what is entered."""

from __future__ import annotations

import pytest

from dashboards.editor import help_text, nested, parse_int_list, sections, step, validate
from scenarios.designs import available
from twin.design import DesignError, design_fields, design_from_dict, load_design


def flat(design) -> dict:
    """A design as the editor's widgets hold it: every field by its dotted key."""
    return {spec.key: design.value(spec.key) for spec in design_fields()}


@pytest.mark.parametrize("name", available())
def test_a_shipped_design_entered_field_by_field_validates_to_the_same_design(name):
    design = load_design(f"designs/{name}.toml")
    edited, problems = validate(flat(design))
    assert problems == [] and edited == design


def test_the_editor_reports_exactly_the_loaders_problems():
    values = flat(load_design("designs/phased.toml")) | {
        "safety.readers_per_shelter": -1, "certificates.kiosk_fee_yen": 2.5,
        "city": "tokio", "rollout.phase_fiscal_years": "2026, soon"}
    _, problems = validate(values)
    with pytest.raises(DesignError) as err:
        design_from_dict(nested(values), "edited design")
    assert problems == [str(p) for p in err.value.problems] and len(problems) == 4


def test_dotted_keys_become_the_tables_of_a_design_file():
    assert nested({"name": "x", "safety.enabled": True, "safety.phase": 2}) == {
        "name": "x", "safety": {"enabled": True, "phase": 2}}


@pytest.mark.parametrize(("text", "value"), [
    ("2026, 2028, 2030", [2026, 2028, 2030]), ("[2026]", [2026]), ("", []), (" 2027 ", [2027]),
    ("2026, soon", "2026, soon"), ("2026.5", "2026.5"),
])
def test_phase_years_are_read_from_text_and_anything_else_is_left_for_the_loader(text, value):
    assert parse_int_list(text) == value


def test_widget_steps_and_help_follow_the_fields_range_unit_and_source():
    specs = {s.key: s for s in design_fields()}
    assert step(specs["rollout.card_ownership_target_share"]) == 0.01
    assert step(specs["certificates.kiosk_open_hour"]) == 0.1
    tip = help_text(specs["certificates.counter_cost_per_certificate_yen"])
    assert "Valid: a number from 0 to 100000 (yen per certificate)." in tip
    assert "Source: Soka City FY2020 actual" in tip


def test_the_tabs_hold_every_design_field_once_top_level_fields_first():
    groups = sections()
    assert list(groups)[:3] == ["design", "rollout", "costs"]
    assert [s.key for g in groups.values() for s in g] == [s.key for s in design_fields()]
