"""Replications until the answer is clear: rounds, the stopping rule, and what the CLI reports."""

from __future__ import annotations

import json
import math

import pytest

from scenarios.precision import check_target, more_reps, run_until_precise, selected
from scenarios.runner import make_params
from scenarios.sweep import run_sweep
from twin.errors import ValidationError

TINY = {"scale": 0.01, "city_seed": 1, "duration_s": 10.0, "offered_rate_per_s": 10.0,
        "payer_pool": 50, "writer_kill_before_commit_at_s": [4.0],
        "writer_kill_after_commit_at_s": [], "network_drop_at_s": []}
SETS = [a for k, v in TINY.items() for a in ("--set", f"{k}={json.dumps(v)}")]


def _row(rel: float, met: bool, target: float = 0.05) -> dict:
    return {"rel_half_width": rel, "met": met, "target": target}


def test_a_round_adds_what_the_half_width_suggests_at_most_doubling_and_never_past_the_cap():
    assert more_reps([_row(0.06, False)], 10, 100) == 5  # 10 x (0.06/0.05)^2 = 14.4 -> 15
    assert more_reps([_row(0.5, False)], 4, 100) == 4  # would need 400: at most double
    assert more_reps([_row(0.5, False)], 4, 6) == 2  # the cap
    assert more_reps([_row(math.nan, False)], 3, 20) == 3  # no interval yet: double
    assert more_reps([_row(0.01, True), _row(0.0, True)], 3, 20) == 0
    assert more_reps([_row(0.5, False)], 20, 20) == 0


def test_headline_kpis_are_driven_by_default_and_unknown_kpis_refused_by_name():
    assert [k.name for k in selected("payments")] == ["throughput_per_s", "latency_p99_ms",
                                                      "lost", "duplicated"]
    with pytest.raises(ValidationError, match="unknown KPI.*latency_p98_ms"):
        selected("payments", ["latency_p98_ms"])


def test_rounds_continue_the_seed_streams_of_one_bigger_sweep():
    params = [make_params("payments", d, overrides=TINY) for d in ("baseline", "full")]
    lines: list[str] = []
    rounds = run_until_precise([("payments", params)], 0.001, max_reps=4, first_reps=2, seed=3,
                               executor="local", kpis=["throughput_per_s"], say=lines.append)[0]
    once = run_sweep("payments", params, reps=4, seed=3, executor="local")
    assert rounds.reps == 4 and rounds.kpis().sort("design", "rep", "kpi").equals(
        once.kpis().sort("design", "rep", "kpi"))
    assert len(lines) == 2 and "after 2 replications" in lines[0] and "throughput_per_s ±" in lines[0]
    (row,) = rounds.precision
    assert row["reps"] == 4 and row["met"] is False and row["rel_half_width"] > 0.001


def test_the_scenario_command_stops_once_the_target_is_met_and_says_so(cli):
    out = cli("scenario", "payments", "--precision", "0.5", "--reps", "2", "--kpis",
              "throughput_per_s", "--format", "json", *SETS)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    rounds = [line for line in out.stderr.splitlines() if "replications (target ±50%)" in line]
    assert "after 2 replications" in rounds[0]
    assert "✓" in rounds[-1] and not any("✓" in line for line in rounds[:-1])  # stops when met
    (row,) = data["precision"]
    assert row["kpi"] == "throughput_per_s" and row["met"] is True
    assert row["rel_half_width"] <= 0.5 and row["reps"] == len(data["reps"]) <= 20


def test_the_sweep_command_reports_a_target_it_could_not_meet(cli, tmp_path):
    out = cli("sweep", "--scenario", "payments", "--designs", "full", "--reps", "2",
              "--precision", "0.0001", "--max-reps", "3", "--kpis", "latency_p99_ms",
              "--sequential", "--out", str(tmp_path), *SETS)
    assert out.returncode == 0, out.stderr
    assert "after 3 replications" in out.stderr and "latency_p99_ms ±" in out.stderr
    assert "payment latency, 99th percentile (ms): 3 replications" in out.stdout
    assert "NOT met (cap reached)" in out.stdout
    report = (tmp_path / "report.md").read_text()
    assert "Precision target: 95 % half-width ≤ 0.01% of the mean" in report
    assert "NOT met (cap reached)" in report and "3 replication(s) per design" in report


def test_bad_precision_settings_are_refused_with_what_is_wrong(cli):
    out = cli("scenario", "payments", "--precision", "1.5", *SETS)
    assert out.returncode == 2
    assert "--precision must be a relative half-width in (0, 1)" in out.stderr
    with pytest.raises(ValidationError, match="--max-reps must be at least the first round"):
        check_target(0.05, max_reps=3, first_reps=5)
    with pytest.raises(ValidationError, match="first round of at least 2"):
        check_target(0.05, max_reps=3, first_reps=1)
