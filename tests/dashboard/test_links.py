"""Shareable links: the URL's query parameters set the sidebar, and bad ones are named and ignored."""

from __future__ import annotations

from dashboards.links import initial, query_of
from dashboards.spec import DEFAULT_REPS, QUICK_OVERRIDES
from scenarios.defaults import STUDY_CITY, STUDY_DESIGNS, STUDY_SCALE, STUDY_SEED, overrides_text

DESIGNS = ["baseline", "full", "phased"]
CITIES = ["kumamoto", "osaka", "sendai"]
SCENARIOS = ["disaster", "certificates", "payments"]


def start(**query):
    return initial(query, designs=DESIGNS, cities=CITIES, scenarios=SCENARIOS)


def test_without_a_link_the_page_starts_from_the_default_studys_settings():
    s = start()
    assert (s.city, s.designs, s.scenarios, s.reps, s.seed, s.scale) == (
        STUDY_CITY, STUDY_DESIGNS, tuple(SCENARIOS), DEFAULT_REPS, STUDY_SEED, STUDY_SCALE)
    assert s.overrides == {n: QUICK_OVERRIDES.get(n, "") for n in SCENARIOS}
    assert s.overrides["certificates"] == overrides_text("certificates") == "days=3"
    assert s.ignored == ()


def test_a_link_sets_every_choice_and_a_scenarios_settings():
    s = start(city="osaka", designs="full,baseline", scenarios="payments", reps="5", seed="7",
              scale="0.02", **{"set.disaster": "evacuation_share=0.2"})
    assert (s.city, s.designs, s.scenarios, s.reps, s.seed, s.scale) == (
        "osaka", ("full", "baseline"), ("payments",), 5, 7, 0.02)
    assert s.overrides["disaster"] == "evacuation_share=0.2"
    assert s.overrides["payments"] == QUICK_OVERRIDES["payments"]


def test_bad_values_in_a_link_are_ignored_each_with_the_reason():
    s = start(city="tokio", designs="baseline,mine", reps="0", seed="-1", scale="2",
              colour="red")
    assert (s.city, s.designs, s.reps, s.seed, s.scale) == (
        STUDY_CITY, STUDY_DESIGNS, DEFAULT_REPS, STUDY_SEED, STUDY_SCALE)
    assert s.ignored == (
        "colour: unknown parameter",
        "city='tokio': not a known city",
        "designs='baseline,mine': unknown design(s): mine",
        "reps='0': expected a whole number from 1 to 50",
        "seed='-1': expected a whole number from 0 to 4294967295",
        "scale='2': expected a number from 0.001 to 1",
    )


def test_the_link_written_after_a_run_opens_the_same_choices():
    inputs = {"city": "sendai", "designs": ["phased", "mine", "full"], "scenarios": ["disaster"],
              "reps": 4, "seed": 3, "scale": 0.2,
              "overrides": {**{n: QUICK_OVERRIDES.get(n, "") for n in SCENARIOS},
                            "certificates": "days=7"}}
    query = query_of(inputs, shareable=DESIGNS)
    assert query == {"city": "sendai", "designs": "phased,full", "scenarios": "disaster",
                     "reps": "4", "seed": "3", "scale": "0.2", "set.certificates": "days=7"}
    s = start(**query)
    assert (s.city, s.designs, s.scenarios, s.reps, s.seed, s.scale) == (
        "sendai", ("phased", "full"), ("disaster",), 4, 3, 0.2)
    assert s.overrides["certificates"] == "days=7" and s.ignored == ()
