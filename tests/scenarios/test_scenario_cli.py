"""`run.py scenario`: same arguments, same bytes; parameters listed; bad input refused."""

from __future__ import annotations

import json

SMALL = ["--scale", "0.01", "--set", "city_seed=1", "--set", "duration_s=10",
         "--set", "offered_rate_per_s=10", "--set", "payer_pool=50"]


def test_the_same_arguments_print_the_same_json_bytes_without_wall_clock_fields(cli):
    args = ["scenario", "payments", "--design", "full", "--seed", "4", "--format", "json", *SMALL]
    first, second = cli(*args), cli(*args)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    data = json.loads(first.stdout)
    assert data["scenario"] == "payments" and data["seed"] == {"seed": 4}
    assert data["params"]["design"] == "full" and data["kpis"]["lost"] == 0
    assert "s wall" in first.stderr and "s wall" not in first.stdout


def test_replications_print_means_with_confidence_intervals(cli):
    out = cli("scenario", "payments", "--reps", "2", "--format", "json", *SMALL)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert len(data["reps"]) == 2 and data["summary"]["requests"]["n"] == 2
    assert data["reps"][0]["seed"]["spawn_key"] == [0]
    text = cli("scenario", "payments", "--reps", "2", *SMALL)
    assert "mean [95% CI]" in text.stdout and "[2/2]" in text.stderr


def test_params_lists_the_resolved_parameters_with_units(cli):
    out = cli("scenario", "disaster", "--design", "full", "--params")
    assert out.returncode == 0, out.stderr
    assert "readers_per_shelter" in out.stdout and "readers" in out.stdout
    data = json.loads(cli("scenario", "disaster", "--design", "full", "--params",
                          "--format", "json").stdout)
    assert data["readers_per_shelter"] == 4 and data["face_check_enabled"] is True


def test_unknown_parameters_designs_and_design_keys_are_refused_by_name(cli):
    bad = cli("scenario", "disaster", "--set", "readers_per_shelterr=3")
    assert bad.returncode == 2 and "did you mean 'readers_per_shelter'" in bad.stderr
    nodesign = cli("scenario", "disaster", "--design", "nosuch")
    assert nodesign.returncode == 2 and "unknown design 'nosuch'" in nodesign.stderr
    key = cli("scenario", "disaster", "--set", "safety.readers=3")
    assert key.returncode == 2 and "safety.readers" in key.stderr


def test_a_design_key_override_reaches_the_scenario(cli):
    out = cli("scenario", "disaster", "--design", "full", "--set",
              "safety.readers_per_shelter=7", "--params", "--format", "json")
    assert json.loads(out.stdout)["readers_per_shelter"] == 7


def test_the_certificate_scenario_prints_the_same_bytes_in_two_processes_and_in_process(cli):
    from scenarios import certificates
    from scenarios.runner import make_params

    sets = {"days": 1, "demand_share": 0.02, "city_seed": 1}
    args = ["scenario", "certificates", "--design", "full", "--seed", "2", "--scale", "0.01",
            "--format", "json"] + [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]
    first, second = cli(*args), cli(*args)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    here = certificates.run(make_params("certificates", "full", scale=0.01, overrides=sets), 2)
    assert json.loads(first.stdout)["kpis"] == json.loads(json.dumps(here.to_dict()))["kpis"]
