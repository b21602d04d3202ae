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
