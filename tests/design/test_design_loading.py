"""Design files load completely or not at all, and every error names the file, the key and what was expected."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from twin.design import (
    SERVICE_KEYS,
    Design,
    DesignError,
    Safety,
    design_fields,
    design_from_dict,
    design_to_toml,
    load_design,
    with_overrides,
)
from twin.errors import ValidationError

ROOT = Path(__file__).resolve().parents[2]
DESIGNS = ROOT / "designs"


def write(tmp_path: Path, body: str, name: str = "d.toml") -> Path:
    p = tmp_path / name
    p.write_text(body, encoding="utf-8")
    return p


def minimal(**extra: str) -> str:
    """A small valid design text, with extra TOML appended."""
    return 'name = "t"\ncity = "kumamoto"\n' + "".join(extra.values())


def problems_of(exc: pytest.ExceptionInfo) -> dict[str, str]:
    return {p.key: p.message for p in exc.value.problems}


def test_the_three_shipped_designs_load():
    names = {p.stem: load_design(p) for p in DESIGNS.glob("*.toml")}
    assert {"baseline", "full", "phased"} <= set(names)
    assert names["baseline"].enabled_services() == ("certificates",)
    assert names["full"].enabled_services() == SERVICE_KEYS
    assert names["phased"].enabled_services() == ("onecard", "linkage", "certificates", "portal", "safety", "payments")


def test_the_baseline_uses_only_the_user_certificate_at_stores():
    b = load_design(DESIGNS / "baseline.toml")
    assert b.certificates.auth_method == "jpki"
    assert b.certificates.store_kiosks is True
    assert b.certificates.public_kiosks_per_ward == 0


def test_the_phased_design_starts_services_in_its_phase_years():
    d = load_design(DESIGNS / "phased.toml")
    assert d.service_start_year("certificates") == 2026
    assert d.service_start_year("onecard") == 2028
    assert d.service_start_year("payments") == 2030
    assert d.service_start_year("vitals") is None


def test_a_design_round_trips_through_dict_and_toml(tmp_path):
    for p in DESIGNS.glob("*.toml"):
        d = load_design(p)
        assert design_from_dict(d.to_dict(), "x") == d
        assert load_design(write(tmp_path, design_to_toml(d))) == d


def test_a_missing_service_table_means_the_service_is_off(tmp_path):
    d = load_design(write(tmp_path, minimal()))
    assert d.enabled_services() == ()
    assert d.safety == Safety()


def test_an_unknown_section_key_is_named_with_the_nearest_key(tmp_path):
    p = write(tmp_path, minimal(s='[safety]\nenabled = true\nreaders_per_shelte = 3\n'))
    with pytest.raises(DesignError) as exc:
        load_design(p)
    msg = str(exc.value)
    assert str(p) in msg
    assert "safety.readers_per_shelte: unknown key (did you mean 'safety.readers_per_shelter'?)" in msg


def test_a_key_in_the_wrong_section_suggests_the_right_section(tmp_path):
    p = write(tmp_path, minimal(s='[certificates]\nenabled = true\nreaders_per_shelter = 3\n'))
    with pytest.raises(DesignError) as exc:
        load_design(p)
    assert "did you mean 'safety.readers_per_shelter'?" in problems_of(exc)["certificates.readers_per_shelter"]


def test_an_unknown_top_level_table_is_named_with_the_nearest_service(tmp_path):
    with pytest.raises(DesignError) as exc:
        load_design(write(tmp_path, minimal(s="[saftey]\nenabled = true\n")))
    assert "did you mean 'safety'?" in problems_of(exc)["saftey"]


@pytest.mark.parametrize(
    ("line", "key", "expected"),
    [
        ("readers_per_shelter = 2.5", "safety.readers_per_shelter", "expected an integer from 0 to 100 (readers per shelter), got 2.5 (number)"),
        ("readers_per_shelter = true", "safety.readers_per_shelter", "expected an integer from 0 to 100 (readers per shelter), got True (boolean)"),
        ('readers_per_shelter = "4"', "safety.readers_per_shelter", "got '4' (string)"),
        ("readers_per_shelter = -1", "safety.readers_per_shelter", "got -1 (integer)"),
        ("readers_per_shelter = 101", "safety.readers_per_shelter", "got 101 (integer)"),
        ("reader_offline_probability = 1.5", "safety.reader_offline_probability", "expected a number from 0 to 1 (probability 0-1), got 1.5"),
        ("reader_offline_probability = nan", "safety.reader_offline_probability", "got nan"),
        ("hq_report_interval_min = inf", "safety.hq_report_interval_min", "got inf"),
        ('check_in_key = "name"', "safety.check_in_key", "expected one of 'card_serial', 'card_face', 'my_number', got 'name'"),
        ("family_lookup = 1", "safety.family_lookup", "expected true or false, got 1 (integer)"),
    ],
)
def test_a_wrong_type_or_range_names_the_key_and_what_was_expected(tmp_path, line, key, expected):
    p = write(tmp_path, minimal(s=f"[safety]\nenabled = true\n{line}\n"))
    with pytest.raises(DesignError) as exc:
        load_design(p)
    assert expected in problems_of(exc)[key]
    assert f"{p}: {key}: " in str(exc.value)


def test_a_list_field_refuses_unknown_and_repeated_values(tmp_path):
    body = minimal(a='[onecard]\nenabled = true\napps = ["library", "libary"]\n', b='[linkage]\nenabled = true\ninternal_tasks = ["school_aid", "school_aid"]\n')
    with pytest.raises(DesignError) as exc:
        load_design(write(tmp_path, body))
    got = problems_of(exc)
    assert "a list of distinct values from 'library'" in got["onecard.apps"]
    assert "got ['library', 'libary']" in got["onecard.apps"]
    assert "got ['school_aid', 'school_aid']" in got["linkage.internal_tasks"]


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    body = 'name = "t"\ncity = "kumamoto"\ncolour = "red"\n[safety]\nenabled = true\nreaders_per_shelter = -1\n[payments]\nenabled = "yes"\n'
    with pytest.raises(DesignError) as exc:
        load_design(write(tmp_path, body))
    assert set(problems_of(exc)) == {"colour", "safety.readers_per_shelter", "payments.enabled"}
    assert "invalid design (3 problems)" in str(exc.value)


def test_a_service_table_without_enabled_is_an_error(tmp_path):
    with pytest.raises(DesignError) as exc:
        load_design(write(tmp_path, minimal(s="[safety]\nreaders_per_shelter = 3\n")))
    assert problems_of(exc) == {"safety.enabled": "missing; expected true or false in every service table"}


def test_missing_name_and_city_are_errors(tmp_path):
    with pytest.raises(DesignError) as exc:
        load_design(write(tmp_path, "[safety]\nenabled = false\n"))
    assert set(problems_of(exc)) == {"name", "city"}


def test_an_unknown_city_suggests_the_nearest_preset(tmp_path):
    with pytest.raises(DesignError) as exc:
        load_design(write(tmp_path, 'name = "t"\ncity = "kumamot"\n'))
    assert "did you mean 'kumamoto'?" in problems_of(exc)["city"]


def test_a_section_that_is_not_a_table_is_an_error(tmp_path):
    with pytest.raises(DesignError) as exc:
        load_design(write(tmp_path, minimal(s="safety = 3\n")))
    assert problems_of(exc) == {"safety": "expected a table [safety], got 3"}


def test_invalid_toml_names_the_file_and_the_position(tmp_path):
    p = write(tmp_path, 'name = "t"\ncity = \n')
    with pytest.raises(DesignError) as exc:
        load_design(p)
    assert str(exc.value).startswith(f"{p}: (syntax): not valid TOML: ")
    assert "line 2" in str(exc.value)


def test_a_missing_file_and_a_binary_file_are_errors(tmp_path):
    with pytest.raises(DesignError, match="no such design file"):
        load_design(tmp_path / "nope.toml")
    p = tmp_path / "bin.toml"
    p.write_bytes(b"name = \xff\xfe\n")
    with pytest.raises(DesignError, match="expected UTF-8 text"):
        load_design(p)


def test_kiosks_must_open_before_they_close(tmp_path):
    with pytest.raises(DesignError) as exc:
        load_design(write(tmp_path, minimal(s="[certificates]\nenabled = true\nkiosk_open_hour = 23.0\nkiosk_close_hour = 6.5\n")))
    assert problems_of(exc)["certificates.kiosk_close_hour"] == "expected an hour after kiosk_open_hour (23.0), got 6.5"


def test_a_phase_beyond_the_rollout_plan_is_an_error(tmp_path):
    body = minimal(r="[rollout]\nphase_fiscal_years = [2026, 2028]\n", s="[safety]\nenabled = true\nphase = 3\n")
    with pytest.raises(DesignError) as exc:
        load_design(write(tmp_path, body))
    assert problems_of(exc) == {"safety.phase": "expected a phase from 1 to 2 (rollout.phase_fiscal_years has 2), got 3"}


def test_phase_years_must_increase(tmp_path):
    with pytest.raises(DesignError) as exc:
        load_design(write(tmp_path, minimal(r="[rollout]\nphase_fiscal_years = [2028, 2026]\n")))
    assert problems_of(exc) == {"rollout.phase_fiscal_years": "expected strictly increasing fiscal years, got [2028, 2026]"}


def test_an_enabled_service_with_nothing_in_it_is_an_error(tmp_path):
    body = minimal(a="[onecard]\nenabled = true\napps = []\n", b="[certificates]\nenabled = true\nstore_kiosks = false\npublic_kiosks_per_ward = 0\n")
    with pytest.raises(DesignError) as exc:
        load_design(write(tmp_path, body))
    assert set(problems_of(exc)) == {"onecard.apps", "certificates.public_kiosks_per_ward"}


def test_the_top_level_must_be_a_table():
    with pytest.raises(DesignError, match=r"<dict>: \(top level\): expected a table"):
        design_from_dict(["name"])


def test_sections_are_validated_when_built_in_code():
    with pytest.raises(DesignError, match="safety.readers_per_shelter"):
        Safety(readers_per_shelter=-2)
    with pytest.raises(DesignError, match="city"):
        Design(city="atlantis")


def test_a_design_is_frozen():
    d = Design()
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.safety = Safety()  # type: ignore[misc]


def test_overrides_replace_one_field_and_validate_the_same_way():
    d = load_design(DESIGNS / "phased.toml")
    d2 = with_overrides(d, {"safety.readers_per_shelter": 4, "city": "sendai"})
    assert d2.safety.readers_per_shelter == 4 and d2.city == "sendai"
    assert d.safety.readers_per_shelter == 2
    assert dataclasses.replace(d2, city="kumamoto", safety=d.safety) == d
    with pytest.raises(DesignError) as exc:
        with_overrides(d, {"safety.readers_per_shelte": 4})
    assert "did you mean 'safety.readers_per_shelter'?" in str(exc.value)
    with pytest.raises(DesignError, match=r"overrides: safety.readers_per_shelter: expected an integer"):
        with_overrides(d, {"safety.readers_per_shelter": 4.5})


def test_every_field_is_listed_with_a_unit_and_a_valid_default():
    specs = design_fields()
    keys = [s.key for s in specs]
    assert len(keys) == len(set(keys))
    assert {"safety.readers_per_shelter", "certificates.counter_cost_per_certificate_yen", "linkage.external_tasks", "rollout.card_ownership_target_share", "costs.staff_hour_yen"} <= set(keys)
    for s in specs:
        assert s.unit and s.doc, s.key
        assert s.kind in ("bool", "int", "float", "choice", "choices", "int_list", "str"), s.key
        if s.kind in ("int", "float"):
            assert s.minimum <= s.default <= s.maximum, s.key
        if s.kind == "choice":
            assert s.default in s.options, s.key
    for key in SERVICE_KEYS:
        assert f"{key}.enabled" in keys and f"{key}.phase" in keys


def test_the_counter_cost_default_is_the_soka_figure():
    spec = {s.key: s for s in design_fields()}["certificates.counter_cost_per_certificate_yen"]
    assert spec.default == 900.0
    assert "Soka" in spec.source


def test_a_value_is_read_by_its_dotted_key():
    d = load_design(DESIGNS / "full.toml")
    assert d.value("safety.readers_per_shelter") == 4
    assert d.value("city") == "kumamoto"
    with pytest.raises(ValidationError, match="did you mean 'safety.check_in_key'"):
        d.value("safety.checkin_key")


def test_the_shipped_designs_are_valid_toml_with_only_known_keys():
    fields = {s.key for s in design_fields()}
    for p in DESIGNS.glob("*.toml"):
        data = tomllib.loads(p.read_text(encoding="utf-8"))
        for k, v in data.items():
            if isinstance(v, dict):
                assert {f"{k}.{n}" for n in v} <= fields


def test_an_empty_file_names_the_missing_keys(tmp_path):
    with pytest.raises(DesignError) as exc:
        load_design(write(tmp_path, ""))
    assert problems_of(exc) == {"name": "missing; expected a string", "city": "missing; expected a string (a city preset, e.g. 'kumamoto')"}


def test_a_directory_is_not_a_design_file(tmp_path):
    with pytest.raises(DesignError, match=r"\(file\): cannot be read"):
        load_design(tmp_path)


def test_an_override_of_a_whole_section_asks_for_a_dotted_key():
    with pytest.raises(DesignError) as exc:
        with_overrides(Design(), {"safety": {"enabled": True}})
    assert problems_of(exc) == {"safety": "expected a dotted key inside [safety], e.g. 'safety.enabled'"}


def test_an_enabled_service_keeps_its_other_defaults():
    d = with_overrides(Design(), {"safety.enabled": True})
    assert d.safety == Safety(enabled=True)
    assert d.enabled_services() == ("safety",)
