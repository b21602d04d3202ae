"""Sweeps: Ray tasks with SeedSequence streams give the sequential results; KPI tables and files."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from scenarios.runner import make_params
from scenarios.sweep import plan, run_sweep
from twin.errors import ValidationError

QUICK = {"scale": 0.01, "city_seed": 1, "duration_s": 15.0, "offered_rate_per_s": 10.0,
         "payer_pool": 100, "writer_kill_before_commit_at_s": [5.0],
         "writer_kill_after_commit_at_s": [], "network_drop_at_s": []}


@pytest.fixture(scope="module")
def designs():
    return [make_params("payments", d, overrides=QUICK) for d in ("baseline", "full")]


def test_common_random_numbers_give_replication_r_the_same_stream_in_every_design(designs):
    tasks = plan("payments", designs, reps=3, seed=7)
    streams = {(t.design_index, t.rep): t.seed.spawn_key for t in tasks}
    assert streams[(0, 2)] == streams[(1, 2)] == (2,)
    assert len({t.seed.spawn_key for t in plan("payments", designs, 3, 7, False)}) == 6


def test_a_sweep_needs_replications_designs_and_a_known_scenario(designs):
    with pytest.raises(ValidationError, match="reps"):
        plan("payments", designs, reps=0, seed=0)
    with pytest.raises(ValidationError, match="at least one design"):
        plan("payments", [], reps=1, seed=0)
    with pytest.raises(ValidationError, match="unknown scenario 'payment'.*did you mean"):
        plan("payment", designs, reps=1, seed=0)


def test_ray_tasks_give_exactly_the_sequential_results(ray_session, designs):
    seen = []
    on_ray = run_sweep("payments", designs, reps=1, seed=5, executor="ray",
                       progress=lambda done, total, label: seen.append((done, total)))
    local = run_sweep("payments", designs, reps=1, seed=5, executor="local")
    assert on_ray.kpis().equals(local.kpis())
    assert [d for d, _ in seen] == [1, 2] and {t for _, t in seen} == {2}


def test_the_kpi_table_has_means_intervals_and_paired_differences(designs):
    sweep = run_sweep("payments", designs, reps=3, seed=1, executor="local")
    table = sweep.table()
    row = table.filter((pl.col("kpi") == "throughput_per_s") & (pl.col("design") == "full")).row(
        0, named=True)
    values = sweep.values(1, "throughput_per_s")
    assert row["n"] == 3 and row["mean"] == pytest.approx(values.mean())
    assert row["ci_low"] < row["mean"] < row["ci_high"]
    diff = sweep.differences().filter(pl.col("kpi") == "electronic_share").row(0, named=True)
    assert (diff["design"], diff["versus"], diff["verdict"]) == ("full", "baseline", "better")
    assert diff["difference"] == pytest.approx(
        np.mean(sweep.values(1, "electronic_share") - sweep.values(0, "electronic_share")))
    lost = sweep.differences().filter(pl.col("kpi") == "lost").row(0, named=True)
    assert lost["difference"] == 0 and lost["verdict"] == "no clear difference"


def test_the_sweep_command_runs_on_a_cluster_address_and_writes_its_files(ray_session, cli,
                                                                          tmp_path):
    address = ray_session.get_runtime_context().gcs_address
    sets = [a for k, v in QUICK.items() for a in ("--set", f"{k}={json.dumps(v)}")]
    out = cli("sweep", "--scenario", "payments", "--designs", "baseline", "full", "--reps", "2",
              "--address", address, "--out", str(tmp_path), "--format", "json", *sets)
    assert out.returncode == 0, out.stderr
    assert "[4/4]" in out.stderr and address in out.stderr
    data = json.loads(out.stdout)
    assert data["designs"] == ["baseline", "full"] and data["paired"] is True
    assert {r["kpi"] for r in data["kpi_table"]} >= {"lost", "latency_p99_ms"}
    kpis = pl.read_parquet(tmp_path / "payments_kpis.parquet")
    assert kpis.height == 2 * 2 * len(set(kpis["kpi"]))
    report = (tmp_path / "report.md").read_text()
    assert "| payments lost (must be 0) | requests |" in report and "baseline" in report
    assert list(tmp_path.glob("payments_*.png"))


def test_the_comparison_prints_each_design_with_intervals_and_the_difference(designs):
    from scenarios.report import comparison_text

    text = comparison_text(run_sweep("payments", designs, reps=2, seed=1, executor="local"))
    assert "baseline (mean [95% CI])" in text and "full − baseline" in text
    assert "fee payments made without cash" in text and "better" in text


def test_the_disaster_sweep_runs_every_listed_city_on_ray_with_a_table_per_city(ray_session, cli,
                                                                                tmp_path):
    address = ray_session.get_runtime_context().gcs_address
    out = cli("sweep", "--scenario", "disaster", "--designs", "full", "--reps", "1",
              "--cities", "shizuoka", "okayama", "--scale", "0.005", "--set", "horizon_h=6",
              "--address", address, "--out", str(tmp_path), "--format", "json")
    assert out.returncode == 0, out.stderr
    assert "in 2 cities" in out.stderr and "[2/2]" in out.stderr
    data = json.loads(out.stdout)
    assert set(data["cities"]) == {"shizuoka", "okayama"}
    evacuees = {}
    for city, table in data["cities"].items():
        assert table["scale"] == 0.005
        row = next(r for r in table["kpi_table"] if r["kpi"] == "evacuees")
        evacuees[city] = row["mean"]
        assert (tmp_path / city / "report.md").read_text().count(city) >= 1
    assert all(v > 0 for v in evacuees.values()) and evacuees["shizuoka"] != evacuees["okayama"]
    text = cli("sweep", "--scenario", "disaster", "--designs", "full", "--reps", "2",
               "--precision", "0.5", "--max-reps", "3", "--cities", "shizuoka", "okayama",
               "--scale", "0.005", "--set", "horizon_h=6", "--sequential",
               "--out", str(tmp_path / "text"))
    assert text.returncode == 0, text.stderr
    assert text.stderr.count("after 2 replications") == 2  # each city's own rounds
    assert "== shizuoka (scale 0.005) ==" in text.stdout and "== okayama (scale 0.005) ==" in text.stdout


def test_a_city_sweep_names_an_unknown_city_and_refuses_city_with_cities(cli, tmp_path):
    bad = cli("sweep", "--scenario", "disaster", "--designs", "full", "--cities", "shizuoka",
              "yokohamma", "--sequential", "--out", str(tmp_path))
    assert bad.returncode == 2 and "unknown city 'yokohamma'" in bad.stderr
    both = cli("sweep", "--scenario", "disaster", "--designs", "full", "--cities", "all",
               "--city", "sendai", "--sequential", "--out", str(tmp_path))
    assert both.returncode == 2 and "either --city or --cities" in both.stderr
