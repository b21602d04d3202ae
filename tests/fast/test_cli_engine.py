"""`--engine` on the command line, as a user runs it."""

from __future__ import annotations

import json

from scenarios.erlang import mmc
from scenarios.mmc import simulate_mmc


def test_validate_queue_on_the_fast_engine_is_near_erlang_c(cli):
    out = cli("validate-queue", "--customers", "200000", "--seed", "2", "--engine", "fast",
              "--format", "json")
    assert out.returncode == 0, out.stderr
    sim, exact = json.loads(out.stdout)["simulated"], mmc(0.5, 5.0, 4)
    assert abs(sim["p_wait"] / exact.p_wait - 1) < 0.03
    assert abs(sim["mean_wait"] / exact.mean_wait - 1) < 0.05


def test_the_m_m_c_check_gives_the_same_figures_on_both_engines():
    fast = simulate_mmc(0.5, 5.0, 3, 10_000, 5, engine="fast").to_dict()
    assert fast == simulate_mmc(0.5, 5.0, 3, 10_000, 5, engine="simpy").to_dict()


def test_the_disaster_scenario_prints_the_same_kpis_on_both_engines_fast_by_default(cli):
    args = ["scenario", "disaster", "--design", "full", "--scale", "0.01", "--seed", "4",
            "--set", "horizon_h=24", "--format", "json"]
    fast, ref = cli(*args), cli(*args, "--engine", "simpy")
    assert fast.returncode == 0 and ref.returncode == 0, fast.stderr + ref.stderr
    f, r = json.loads(fast.stdout), json.loads(ref.stdout)
    assert f["params"]["engine"] == "fast" and r["params"]["engine"] == "simpy"
    f["kpis"].pop("simulation_events"), r["kpis"].pop("simulation_events")
    assert f["kpis"] == r["kpis"] and f["kpis"]["evacuees"] > 0


def test_asking_a_simpy_only_scenario_for_the_fast_engine_is_a_clear_error(cli):
    out = cli("scenario", "payments", "--engine", "fast")
    assert out.returncode == 2
    assert "payments scenario has no fast engine" in out.stderr


def test_an_unknown_engine_is_refused(cli):
    out = cli("scenario", "disaster", "--set", "engine=turbo")
    assert out.returncode == 2 and "engine" in out.stderr and "turbo" in out.stderr
