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
    assert "| checkin_wait_p95_min | min |" in report
    for stem in ("disaster_kpis", "disaster_series", "payments_requests", "payments_kpi_table"):
        assert pl.read_parquet(tmp_path / f"{stem}.parquet").height > 0
    assert len(list(tmp_path.glob("*.png"))) >= 4
