"""Cached runs: the page's sweeps are the sweeps `run_sweep` gives, and a second look runs nothing."""

from __future__ import annotations

import pytest

from dashboards import compute
from dashboards.spec import QUICK_OVERRIDES, DesignChoice, make_spec, shipped_choice
from scenarios.sweep import run_sweep

SCENARIOS = ("disaster", "payments")


def quick_spec(designs, reps=2, seed=3):
    return make_spec(city="kumamoto", designs=designs, scenarios=SCENARIOS, reps=reps, seed=seed,
                     scale=0.01, overrides=QUICK_OVERRIDES)


@pytest.fixture
def spec(quick_run):
    return quick_run[0]


def test_the_page_sweep_equals_run_sweep_over_all_designs_at_once(spec):
    mine = compute.sweep(spec, "disaster")
    theirs = run_sweep("disaster", [spec.params("disaster", 0), spec.params("disaster", 1)],
                       spec.reps, spec.seed, executor="local")
    assert mine.kpis().equals(theirs.kpis())
    assert mine.differences().equals(theirs.differences())
    assert mine.paired and mine.designs == ("baseline", "phased")


def test_each_replication_runs_once_and_a_second_look_runs_nothing(spec):
    before = sum(compute.COMPUTED.values())
    seen = []
    again = compute.run_all(spec, lambda done, total, label: seen.append((done, total, label)))
    assert sum(compute.COMPUTED.values()) == before
    assert [d for d, _, _ in seen] == list(range(1, 9)) and {t for _, t, _ in seen} == {8}
    assert seen[0][2] == "disaster: baseline, replication 1/2"
    assert again["payments"].reps == 2


def test_an_edited_design_is_a_new_key_but_the_unchanged_one_stays_cached(spec):
    base = shipped_choice("baseline")
    edited = DesignChoice("baseline-6", base.toml.replace('name = "baseline"', 'name = "baseline-6"')
                          .replace("readers_per_shelter = 2", "readers_per_shelter = 6")
                          .replace("[safety]\nenabled = false", "[safety]\nenabled = true"),
                          "edited")
    before = dict(compute.COMPUTED)
    sweeps = compute.run_all(quick_spec([base, edited]))
    assert compute.COMPUTED["disaster"] - before.get("disaster", 0) == 2  # the edited design only
    assert sweeps["disaster"].values(1, "paper_share").mean() < sweeps["disaster"].values(
        0, "paper_share").mean()


def test_reviews_follow_the_designs_and_the_city_of_the_request(spec):
    reviews = compute.reviews(spec)
    assert [r.design for r in reviews] == ["baseline", "phased"]
    assert {r.city.name for r in reviews} == {"kumamoto"}
