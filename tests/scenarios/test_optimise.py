"""The optimiser: a known answer (M/M/c vs Erlang C), determinism, noise-aware targets, errors."""

from __future__ import annotations

import json
import tomllib

import numpy as np
import polars as pl
import pytest

from scenarios.optimise import search
from scenarios.optimise_problems import DesignProblem, MMcProblem, fewest_servers
from scenarios.optimise_space import (
    COST,
    kpi_catalogue,
    parse_objective,
    parse_pareto,
    parse_target,
    parse_variable,
)
from twin.design import design_fields, load_design
from twin.errors import ValidationError

RATE, MEAN, CUSTOMERS, MAX_C = 10.0, 0.5, 4000, 14  # 5 Erlangs offered


def _mmc_search(target: str, seed: int = 1, trials: int = 12, pareto: bool = False):
    problem = MMcProblem(RATE, MEAN, CUSTOMERS, MAX_C)
    objectives = (parse_pareto("p_wait,cost", problem.kpis) if pareto
                  else (parse_objective(COST, problem.kpis),))
    return problem, search(problem, [parse_target(target, problem.kpis)], objectives,
                           trials=trials, reps=3, seed=seed, batch=4)


def test_the_optimiser_finds_the_fewest_servers_that_erlang_c_says_meet_the_waiting_target():
    want = fewest_servers(RATE, MEAN, 0.12, MAX_C)
    assert want == 9  # Erlang C: 8 servers wait 16.7 %, 9 servers 8.1 %
    _, out = _mmc_search("p_wait<=0.12")
    assert out.best is not None and out.best.point == {"servers": float(want)}
    assert out.best.reps == 9  # re-run as a finalist with 3 x 3 replications
    assert out.best.estimates["mmc.p_wait"].high <= 0.12


def test_a_design_meets_a_target_only_when_its_intervals_bad_end_does():
    _, out = _mmc_search("p_wait<=0.12")
    for t in out.trials:
        e = t.estimates["mmc.p_wait"]
        assert t.feasible == (e.high <= 0.12)
    near = [t for t in out.trials if t.estimates["mmc.p_wait"].mean <= 0.12 < t.estimates[
        "mmc.p_wait"].high]
    assert all(not t.feasible for t in near)


def test_the_same_seed_gives_the_same_trials_and_answer():
    _, a = _mmc_search("p_wait<=0.12", seed=5, trials=8)
    _, b = _mmc_search("p_wait<=0.12", seed=5, trials=8)
    assert [t.point for t in a.trials] == [t.point for t in b.trials]
    assert a.best.point == b.best.point and a.trials_frame().equals(b.trials_frame())


def test_a_target_no_design_can_reach_is_reported_infeasible_with_the_closest_trial():
    _, out = _mmc_search("p_wait<=0.0001", trials=8)
    assert not out.feasible and out.best is None
    assert out.closest is not None and out.closest.worst_slack < 0
    assert out.closest.worst_slack == max(t.worst_slack for t in out.trials)  # nearest bad end
    assert out.closest.point["servers"] >= 11  # Erlang C: only many servers come near 0.01 %


def test_a_pareto_front_holds_only_feasible_points_none_dominated():
    _, out = _mmc_search("p_wait<=0.2", pareto=True, trials=12)
    assert out.front and all(t.feasible for t in out.front)
    pts = sorted((t.objectives[1], t.objectives[0]) for t in out.front)  # (cost, p_wait)
    assert all(b[1] < a[1] for a, b in zip(pts, pts[1:], strict=False))


FIELDS = {f.key: f for f in design_fields()}
KPIS = kpi_catalogue(["disaster", "certificates"])


@pytest.mark.parametrize(("spec", "words"), [
    ("safety.readers_per_shelterr=1:4", "did you mean 'safety.readers_per_shelter'"),
    ("safety.readers_per_shelter=1:400", "outside the field's limits"),
    ("safety.readers_per_shelter=4:1", "must be below HIGH"),
    ("safety.readers_per_shelter=1.5:4", "whole numbers"),
    ("safety.readers_per_shelter", "expected FIELD=LOW:HIGH"),
    ("safety.check_in_key=1:2", "only numeric fields"),
    ("safety.readers_per_shelter=a:4", "'a' is not a number"),
])
def test_a_bad_vary_is_refused_before_any_run_naming_the_problem(spec, words):
    with pytest.raises(ValidationError, match=words.replace("(", r"\(")):
        parse_variable(spec, FIELDS)


@pytest.mark.parametrize(("spec", "words"), [
    ("checkin_wait_p95_mn<=30", "did you mean 'checkin_wait_p95_min'"),
    ("checkin_wait_p95_min<30", "use <= or >="),
    ("cost_yen<=5", "reported by several scenarios"),
    ("disaster.registered_share>=1.5", "outside the KPI's range"),
    ("nonsense", "expected KPI<=VALUE"),
])
def test_a_bad_target_is_refused_naming_the_problem(spec, words):
    with pytest.raises(ValidationError, match=words.replace("(", r"\(")):
        parse_target(spec, KPIS)


def test_cost_is_the_sum_of_the_scenarios_cost_kpis():
    assert KPIS[COST].better == "lower"
    assert "disaster.cost_yen" in KPIS[COST].label and "certificates.cost_yen" in KPIS[COST].label


def test_the_design_problem_runs_the_base_design_first_and_never_names_a_dearer_one(ray_session):
    problem = DesignProblem("full", ("disaster",), (
        parse_variable("safety.readers_per_shelter=1:6", FIELDS),), scale=0.01,
        scenario_overrides={"disaster": {"horizon_h": 12.0}}, executor="ray")
    target = parse_target("checkin_wait_p95_min<=300", problem.kpis)
    out = search(problem, [target], [parse_objective(COST, problem.kpis)], trials=4, reps=3,
                 seed=3, batch=2, finalists=1, final_reps=3)
    assert out.trials[0].point == {"safety.readers_per_shelter": 4.0}  # full's own value
    base = out.trials[0]
    assert out.best is not None
    if base.feasible:
        assert out.best.objectives[0] <= base.objectives[0]
    local = DesignProblem("full", ("disaster",), problem.variables, scale=0.01,
                          scenario_overrides={"disaster": {"horizon_h": 12.0}},
                          executor="local")
    again = local.evaluate([out.best.point], 3, 3)[0]
    assert np.array_equal(again[COST], problem.evaluate([out.best.point], 3, 3)[0][COST])


def test_the_cli_writes_a_reviewed_design_trials_a_plot_and_a_report(cli, tmp_path):
    r = cli("optimise", "--base", "full", "--scenario", "disaster", "--scale", "0.01",
            "--param", "disaster:horizon_h=12",
            "--vary", "safety.readers_per_shelter=1:5", "--target", "checkin_wait_p95_min<=300",
            "--trials", "4", "--reps", "3", "--final-reps", "3", "--batch", "2", "--finalists", "1",
            "--sequential",
            "--out", str(tmp_path), "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["feasible"] and data["review"].startswith("ACCEPTED")
    assert "Population scale 0.01 (reduced" in r.stderr.splitlines()[0]
    best = load_design(tmp_path / "best.toml")
    assert best.safety.readers_per_shelter == data["best"]["point"]["safety.readers_per_shelter"]
    tomllib.loads((tmp_path / "best.toml").read_text())
    trials = pl.read_parquet(tmp_path / "trials.parquet")
    assert trials.height == 4 + 1 and "target:disaster.checkin_wait_p95_min:bad_end" in trials.columns
    assert (tmp_path / "trials.png").stat().st_size > 10_000
    report = (tmp_path / "report.md").read_text()
    for heading in ("What was varied", "What was asked", "What was found", "How sure"):
        assert f"## {heading}" in report


@pytest.mark.parametrize(("args", "words"), [
    (["--vary", "safety.readers_per_shelterr=1:4"], "did you mean"),
    (["--vary", "safety.readers_per_shelter=1:4", "--target", "wait<=3"], "unknown KPI"),
    (["--vary", "safety.paper_form_staff_per_shelter=0:4"], "refused by the disaster scenario"),
    (["--vary", "safety.readers_per_shelter=1:4", "--reps", "2"], "at least 3"),
    ([], "nothing to vary"),
])
def test_the_cli_refuses_a_bad_request_with_exit_2_before_any_run(cli, args, words):
    r = cli("optimise", "--scenario", "disaster", "--sequential", *args, timeout=60)
    assert r.returncode == 2 and words in r.stderr, r.stderr
    assert "meet every target" not in r.stderr


def test_the_dashboards_optimise_tab_names_the_cheapest_design_and_offers_it_as_toml():
    from tests.dashboard.page import fresh_page

    at = fresh_page()
    at.text_area(key="opt:vary").set_value("safety.readers_per_shelter=1:4")
    at.text_area(key="opt:targets").set_value("checkin_wait_p95_min<=300")
    at.number_input(key="opt:trials").set_value(3)
    at.button(key="opt:run").click().run()
    assert not at.exception, at.exception
    assert any("Cheapest design meeting every target" in s.value for s in at.success)
    assert any(getattr(d, "label", "") == "Download the best design (TOML)"
               for d in at.get("download_button"))


def test_the_dashboards_optimise_tab_shows_a_bad_request_as_an_error_not_a_crash():
    from tests.dashboard.page import fresh_page

    at = fresh_page()
    at.text_area(key="opt:vary").set_value("safety.readers_per_shelterr=1:4")
    at.button(key="opt:run").click().run()
    assert not at.exception
    assert any("did you mean 'safety.readers_per_shelter'" in e.value for e in at.error)


def test_the_reviews_costs_and_benefits_are_kpis_a_search_can_target_or_optimise():
    from scenarios import designs
    from scenarios.optimise_problems import review_values
    from twin.policy import review

    assert KPIS["review.benefits_yen"].better == "higher" and KPIS["review.cost_yen"].better == "lower"
    r = review(designs.load("full"))
    got = review_values(designs.load("full"))
    assert got["review.cost_yen"] == sum(c.yen_over_timeline for c in r.cost_lines) > 0
    assert got["review.net_yen"] == got["review.benefits_yen"] - got["review.cost_yen"]
    more = review_values(designs.load("full", {"certificates.public_kiosks_per_ward": 6}))
    assert more["review.cost_yen"] > got["review.cost_yen"]  # more public kiosks cost more
    assert parse_target("review.net_yen>=0", KPIS).kpi.name == "review.net_yen"
