"""The default study: `run.py` alone runs it; it prints the comparison and writes results/."""

from __future__ import annotations

import json

import polars as pl


def test_run_py_without_a_subcommand_runs_the_study_and_writes_its_files(cli, tmp_path):
    out = cli("--scenarios", "disaster", "payments", "--reps", "2", "--scale", "0.01",
              "--sequential", "--out", str(tmp_path), "--format", "json", "--no-depends")
    assert out.returncode == 0, out.stderr
    assert "scale 0.01" in out.stderr and "[8/8]" in out.stderr
    data = json.loads(out.stdout)
    assert data["designs"] == ["baseline", "full"] and data["reps"] == 2
    kpis = {(r["kpi"], r["design"]): r for r in data["kpi_table"]}
    assert kpis[("lost", "full")]["mean"] == 0 and kpis[("lost_checkins", "full")]["n"] == 2
    diffs = {(r["kpi"], r["design"]): r for r in data["differences"]}
    assert diffs[("paper_share", "full")]["verdict"] == "better"
    report = (tmp_path / "report.md").read_text()
    assert "## disaster" in report and "## payments" in report and "![" in report
    assert "| check-in wait, 95th percentile | min |" in report
    for stem in ("disaster_kpis", "disaster_series", "payments_requests", "payments_kpi_table"):
        assert pl.read_parquet(tmp_path / f"{stem}.parquet").height > 0
    assert len(list(tmp_path.glob("*.png"))) >= 4


def test_the_study_with_a_precision_target_says_per_kpi_whether_it_was_met_and_measures_crn(
        cli, tmp_path):
    out = cli("study", "--scenarios", "payments", "--reps", "2", "--max-reps", "2",
              "--precision", "0.5", "--crn-check", "--scale", "0.01", "--sequential",
              "--out", str(tmp_path), "--format", "json")
    assert out.returncode == 0, out.stderr
    assert "payments after 2 replications (target ±50%): throughput_per_s ±" in out.stderr
    data = json.loads(out.stdout)
    rows = {r["kpi"]: r for r in data["precision"]["payments"]}
    assert set(rows) == {"throughput_per_s", "latency_p99_ms", "lost", "duplicated"}
    assert all(r["reps"] == 2 and r["met"] == (r["rel_half_width"] <= 0.5) for r in rows.values())
    crn = {r["kpi"]: r for r in data["crn"]}
    assert crn["throughput_per_s"]["reps"] == 2 and crn["throughput_per_s"]["var_independent"] > 0
    report = (tmp_path / "report.md").read_text()
    assert "- payment throughput (requests/s): 2 replications, ±" in report
    assert "Common random numbers, measured over 2 replications per way" in report
