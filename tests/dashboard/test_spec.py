"""What a planner asks for is checked before anything runs, with every problem named."""

from __future__ import annotations

import tomllib

import pytest

from dashboards.spec import (
    QUICK_OVERRIDES,
    DesignChoice,
    SpecError,
    make_spec,
    parse_scenario_overrides,
    shipped_choice,
    upload_choice,
)
from scenarios.defaults import STUDY_OVERRIDES
from twin.design import DesignError, load_design
from twin.errors import ValidationError

BASE = {"city": "kumamoto", "scenarios": ["disaster", "payments"], "reps": 2, "seed": 0,
        "scale": 0.01, "overrides": {}}


def spec(**changes):
    args = {**BASE, "designs": [shipped_choice("baseline"), shipped_choice("phased")], **changes}
    return make_spec(**args)


def test_a_shipped_design_travels_as_canonical_toml_that_loads_back_to_the_same_design():
    choice = shipped_choice("phased")
    assert (choice.name, choice.source) == ("phased", "designs/phased.toml")
    assert choice.design() == load_design("designs/phased.toml")
    assert "#" not in choice.toml  # comments are gone, so the cache key is the content


def test_a_valid_request_keeps_the_order_of_the_designs_and_its_parameters_build():
    s = spec()
    assert s.names == ("baseline", "phased")
    assert s.params("disaster", 1).readers_per_shelter == 2
    assert s.params("payments", 0).scale == 0.01
    assert s.label() == "kumamoto, scale 0.01, 2 replication(s), seed 0: baseline vs phased"


def test_every_problem_of_a_request_is_listed_at_once():
    with pytest.raises(SpecError) as err:
        spec(city="tokio", designs=[shipped_choice("full")], scenarios=[], reps=0, seed=-1,
             scale=2.0)
    problems = err.value.problems
    assert len(problems) == 6
    assert problems[0].startswith("unknown city 'tokio'")
    assert problems[1:] == (
        "pick two or more designs to compare, got 1",
        "pick scenarios from disaster, certificates, payments, got []",
        "replications must be a whole number from 1 to 50, got 0",
        "the seed must be a whole number of at least 0, got -1",
        "the population scale must be in (0, 1], got 2.0",
    )


def test_two_designs_with_one_name_cannot_be_told_apart():
    with pytest.raises(SpecError, match="distinct names; repeated: phased"):
        spec(designs=[shipped_choice("phased"), shipped_choice("phased")])


def test_scenario_settings_are_parsed_as_json_values_one_per_line():
    values = parse_scenario_overrides("payments", QUICK_OVERRIDES["payments"])
    assert values == STUDY_OVERRIDES["payments"] == {
        "duration_s": 120.0, "network_drop_at_s": [50.0], "writer_kill_before_commit_at_s": [30.0],
        "writer_kill_after_commit_at_s": [80.0]}
    assert parse_scenario_overrides("disaster", "# comment\n\n") == {}


@pytest.mark.parametrize(("text", "message"), [
    ("scale=0.5", "set 'scale' with the population-scale input"),
    ("city=osaka", "set 'city' with the city selector"),
    ("safety.readers_per_shelter=3", "is a design field"),
    ("duration_s", "must look like KEY=VALUE"),
])
def test_settings_that_belong_elsewhere_or_are_malformed_are_refused(text, message):
    with pytest.raises(ValidationError, match=message):
        parse_scenario_overrides("payments", text)


def test_a_setting_out_of_its_range_is_refused_for_each_design_once():
    with pytest.raises(SpecError) as err:
        spec(overrides={"disaster": "evacuation_share=2"})
    assert len(err.value.problems) == 1
    assert err.value.problems[0].startswith("disaster on baseline: parameter 'evacuation_share' "
                                            "must be in [1e-06, 1.0]")


def test_an_uploaded_design_is_validated_like_a_file_and_errors_name_the_file():
    good = shipped_choice("phased").toml.replace('name = "phased"', 'name = "mine"')
    choice = upload_choice("mine.toml", good.encode())
    assert (choice.name, choice.source) == ("mine", "uploaded mine.toml")
    with pytest.raises(DesignError, match=r"mine.toml: safety.readers_per_shelter: expected an "
                                          r"integer from 0 to 100"):
        upload_choice("mine.toml", good.replace("readers_per_shelter = 2",
                                                "readers_per_shelter = -2").encode())
    with pytest.raises(DesignError, match=r"bad.toml: \(syntax\): not valid TOML"):
        upload_choice("bad.toml", b"name = ")
    with pytest.raises(DesignError, match=r"latin.toml: \(file\): expected UTF-8 text"):
        upload_choice("latin.toml", 'name = "caf\u00e9"'.encode("latin-1"))


def test_a_design_choice_is_a_value_keyed_by_its_content():
    a, b = shipped_choice("baseline"), shipped_choice("baseline")
    assert a == b and hash(a) == hash(b)
    edited = DesignChoice(a.name, a.toml.replace("readers_per_shelter = 2",
                                                 "readers_per_shelter = 3"), "edited")
    assert edited != a
    assert tomllib.loads(edited.toml)["safety"]["readers_per_shelter"] == 3
