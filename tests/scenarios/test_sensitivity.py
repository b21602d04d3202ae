"""Sensitivity analysis: known answers on test functions, common random numbers, Ray, the CLI."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from scenarios.sensitivity import (
    Factor,
    analyse,
    bases_for,
    evaluate,
    factors_for,
    morris_table,
    overall_ranking,
    point_params,
    problem,
    run_count,
    sobol_table,
)
from scenarios.sensitivity_report import HEADLINE
from twin.errors import ValidationError

TINY = ["card_carried_share", "household_together_share"]


def factors(n: int, low: float = 0.0, high: float = 1.0) -> list[Factor]:
    return [Factor(f"x{i + 1}", low, high, False, (low + high) / 2, "test") for i in range(n)]


def test_morris_ranks_the_dominant_input_first_and_gives_an_inert_one_no_effect():
    fs = factors(4)
    X = morris_sample.sample(problem(fs), N=10, num_levels=4, seed=3)
    y = 10 * X[:, 0] + 2 * X[:, 1] ** 2 - 1 * X[:, 2] + 0 * X[:, 3]
    table, notes = morris_table(fs, X, y[:, None], ["y"], seed=3)
    assert notes == []
    by = {r["parameter"]: r for r in table.iter_rows(named=True)}
    assert [r["parameter"] for r in table.sort("rank").iter_rows(named=True)] == ["x1", "x2", "x3", "x4"]
    # a linear input's effect is its slope times its whole range, with no spread
    assert by["x1"]["mu_star"] == pytest.approx(10) and by["x1"]["sigma"] == pytest.approx(0)
    assert by["x3"]["mu"] == pytest.approx(-1)
    assert by["x4"]["mu_star"] == 0 and by["x4"]["mu_star_low"] == 0
    assert all(r["mu_star_low"] >= 0 and r["mu_star_low"] <= r["mu_star"] <= r["mu_star_high"]
               for r in by.values())


def test_sobol_indices_match_the_ishigami_function_and_stay_in_their_range():
    fs = factors(3, -np.pi, np.pi)
    X = sobol_sample.sample(problem(fs), 1024, calc_second_order=False, seed=1)
    y = np.sin(X[:, 0]) + 7 * np.sin(X[:, 1]) ** 2 + 0.1 * X[:, 2] ** 4 * np.sin(X[:, 0])
    table, _ = sobol_table(fs, X, y[:, None], ["y"], seed=1)
    by = {r["parameter"]: r for r in table.iter_rows(named=True)}
    # analytic values: S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244
    assert by["x1"]["S1"] == pytest.approx(0.314, abs=0.06)
    assert by["x2"]["S1"] == pytest.approx(0.442, abs=0.06)
    assert by["x3"]["S1"] == pytest.approx(0.0, abs=0.05)
    assert by["x3"]["ST"] == pytest.approx(0.244, abs=0.06)
    for r in by.values():
        for idx in ("S1", "ST"):
            assert 0 <= r[f"{idx}_low"] <= r[idx] <= r[f"{idx}_high"] <= 1


def test_tiny_samples_give_sobol_intervals_clipped_to_zero_one_and_marked():
    fs = factors(2)
    X = sobol_sample.sample(problem(fs), 4, calc_second_order=False, seed=0)
    y = X[:, 0] + 0.01 * X[:, 1]
    table, _ = sobol_table(fs, X, y[:, None], ["y"], seed=0)
    assert table.select(pl.all().exclude("kpi", "parameter", "^.*_clipped$")).min().min_horizontal()[0] >= 0
    assert table.select(pl.col("^S.*_high$")).max().max_horizontal()[0] <= 1
    assert table["S1_clipped"].any() or table["ST_clipped"].any()


def test_the_overall_ranking_weighs_every_kpi_equally_whatever_its_unit():
    morris = pl.DataFrame({"kpi": ["yen", "yen", "share", "share"],
                           "parameter": ["a", "b", "a", "b"],
                           "mu_star": [1e6, 1e5, 0.01, 0.02]})
    assert overall_ranking(morris) == ["a", "b"]  # a: (1 + 0.5) / 2, b: (0.1 + 1) / 2
    assert overall_ranking(morris, ["share"]) == ["b", "a"]


@pytest.fixture(scope="module")
def disaster_full():
    return bases_for("disaster", ["full"], scale=0.01)


def test_every_design_point_runs_on_the_same_seed_so_a_repeated_point_repeats_exactly(disaster_full):
    (base,), fixed = disaster_full
    fs = factors_for(base, fixed, TINY)[0]
    X = np.array([[0.6, 0.5], [0.6, 0.5], [0.9, 0.5]])
    Y, kpis = evaluate([base], fs, X, seed=4, executor="local", progress=None)
    assert np.array_equal(Y[0], Y[1], equal_nan=True)
    assert not np.array_equal(Y[0], Y[2], equal_nan=True)
    assert "checkin_wait_p95_min" in kpis


def test_an_analysis_counts_its_runs_holds_design_fields_fixed_and_ranks_every_kpi(disaster_full):
    bases, fixed = disaster_full
    seen = []
    r = analyse(bases, trajectories=2, samples=2, top=1, seed=1, only=TINY, executor="local",
                progress=lambda d, t, _: seen.append((d, t)), design_keys=fixed)
    assert len(seen) == run_count(2, 2, 2, 1) == r.runs.height == 2 * 3 + 2 * 3
    assert {"face_check_mean_s", "hq_report_interval_min"} <= set(fixed)
    every, notes = factors_for(bases[0], fixed)
    assert "face_check_mean_s" not in {f.name for f in every}
    assert any(n.startswith("face_check_mean_s: set by the design (600.0)") for n in notes)
    assert set(r.morris["parameter"]) == set(TINY)
    assert r.sobol["parameter"].n_unique() == 1 and r.sobol["parameter"][0] == r.top(1)[0]
    assert json.loads(json.dumps(r.to_dict()))["factors"][0]["name"] in TINY


def test_ray_tasks_give_the_same_ranking_as_one_run_after_another(ray_session, disaster_full):
    bases, fixed = disaster_full
    kw = {"trajectories": 2, "samples": 0, "seed": 2, "only": TINY[:1], "design_keys": fixed}
    on_ray = analyse(bases, executor="ray", **kw)
    local = analyse(bases, executor="local", **kw)
    assert on_ray.morris.equals(local.morris) and on_ray.runs.height == 4


def test_two_designs_rank_the_assumptions_by_their_effect_on_the_difference():
    bases, fixed = bases_for("disaster", ["baseline", "full"], scale=0.01)
    fs = factors_for(bases[0], fixed, TINY)[0]
    X = np.array([[0.6, 0.5], [0.9, 0.3]])
    diff, _ = evaluate(bases, fs, X, 3, "local", None)
    each = [evaluate([b], fs, X, 3, "local", None)[0] for b in bases]
    assert np.allclose(diff, each[1] - each[0], equal_nan=True)


def test_bad_requests_are_refused_with_the_reason(disaster_full):
    bases, fixed = disaster_full
    with pytest.raises(ValidationError, match="trajectories must be >= 2"):
        analyse(bases, trajectories=1, executor="local")
    with pytest.raises(ValidationError, match="not screened assumptions of disaster: \\['evacuation_share'\\]"):
        analyse(bases, only=["evacuation_share"], executor="local")
    with pytest.raises(ValidationError, match="one design, or two"):
        analyse(bases * 3, executor="local")
    with pytest.raises(ValidationError, match="must differ"):
        bases_for("disaster", ["full", "full"])


def test_the_cli_ranks_assumptions_writes_the_files_and_states_the_scale(cli, tmp_path):
    args = ["sensitivity", "--scenario", "disaster", "--design", "full", "--scale", "0.01",
            "--trajectories", "2", "--samples", "2", "--top", "1", "--params", *TINY,
            "--sequential", "--out", str(tmp_path)]
    text = cli(*args)
    assert text.returncode == 0, text.stderr
    first = text.stdout.splitlines()[0]
    assert first == "Sensitivity of disaster on full, kumamoto, scale 0.01 (reduced population scale)"
    assert "checkin_wait_p95_min (min)" in text.stdout and "runs 12/12" in text.stderr
    png = tmp_path / "disaster_sensitivity_tornado.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    morris = pl.read_parquet(tmp_path / "disaster_sensitivity_morris.parquet")
    assert set(morris["parameter"]) == set(TINY)
    data = json.loads((tmp_path / "disaster_sensitivity.json").read_text())
    assert data["designs"] == ["full"] and data["runs"] == 12 and data["difference"] is False
    assert all(0 <= r["S1_low"] <= r["S1"] <= r["S1_high"] <= 1 for r in data["sobol"])
    assert (tmp_path / "disaster_sensitivity.md").read_text().startswith("# Sensitivity of disaster")


def test_the_cli_names_an_unknown_assumption_and_exits_2(cli, tmp_path):
    out = cli("sensitivity", "--scenario", "certificates", "--params", "walk_speed_kmh",
              "--sequential", "--out", str(tmp_path))
    assert out.returncode == 2
    assert "not screened assumptions of certificates: ['walk_speed_kmh']" in out.stderr


def test_the_study_report_ends_with_the_three_assumptions_its_differences_depend_on(cli, tmp_path):
    out = cli("study", "--scenarios", "disaster", "--reps", "2", "--scale", "0.01", "--sequential",
              "--out", str(tmp_path), "--format", "json")
    assert out.returncode == 0, out.stderr
    (depends,) = json.loads(out.stdout)["depends_on"]
    assert depends["designs"] == ["baseline", "full"] and len(depends["top"]) == 3
    shown = {e["kpi"] for e in depends["effects"]}  # the headline KPIs that could be ranked
    assert "checkin_wait_p95_min" in shown and shown <= set(HEADLINE["disaster"])
    report = (tmp_path / "report.md").read_text()
    section = report[report.index("## What this answer depends on"):]
    assert "full − baseline" in section and "### disaster" in section
    assert "at scale 0.01 (reduced: a screen ranks assumptions" in section
    assert [ln.split(" | ")[0].strip("| ") for ln in section.splitlines()
            if ln.startswith("| ") and " – " in ln] == depends["top"]


def test_the_default_studys_screen_runs_at_most_at_the_screen_scale(monkeypatch):
    import argparse

    import scenarios.sensitivity_study as study_screen
    from cli import study
    from scenarios.defaults import SCREEN_SCALE

    asked = []
    monkeypatch.setattr(study_screen, "screen", lambda *a, **k: asked.append(a[3]) or [])
    for scale in (1.0, 0.01):
        args = argparse.Namespace(depends=True, designs=["baseline", "full"],
                                  scenarios=["disaster"], city="kumamoto", scale=scale, seed=0,
                                  engine=None)
        study._depends(args, "local")
    assert asked == [SCREEN_SCALE, 0.01] and SCREEN_SCALE < 1


def test_the_depends_section_reads_as_text_with_ranges_and_signed_effects():
    from scenarios.sensitivity_report import headline
    from scenarios.sensitivity_study import text_section, top_rows

    bases, fixed = bases_for("disaster", ["baseline", "full"], scale=0.01)
    r = analyse(bases, trajectories=2, samples=0, seed=1, only=TINY, executor="local",
                design_keys=fixed)
    head, rows = top_rows(r)
    assert head[:2] == ["assumption", "range"] and [row[0] for row in rows] == r.top(3, headline(r))
    assert rows[0][1].endswith("(now 0.800)") or rows[0][1].endswith("(now 0.600)")
    assert all(cell[0] in "+−0" for row in rows for cell in row[2:])
    assert text_section([r]).startswith("What this answer depends on\n")


def test_a_fitted_demand_figure_is_moved_for_its_own_run_only():
    from calibration.params import fitted
    from scenarios.sensitivity_runs import points, run_points

    (base,), fixed = bases_for("certificates", ["full"], scale=0.01,
                               overrides={"days": 1, "demand_share": 0.02})
    fs = factors_for(base, fixed, ["calibration:monday_factor"])[0]
    assert fs[0].base == pytest.approx(1.3)  # the committed fit's Monday factor
    before = fitted()
    made = [point_params(base, fs, np.array([v])) for v in (1.0, 1.6)]
    quiet, busy = run_points(points([p for p, _ in made], [c for _, c in made], 0), "local")
    assert made[1][1] == (("monday_factor", 1.6),)
    assert busy.kpis["visits"] > quiet.kpis["visits"] * 1.25  # the first day is a Monday (x1.43)
    assert fitted() is before
