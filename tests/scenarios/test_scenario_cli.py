"""`run.py scenario`: same arguments, same bytes; parameters listed; bad input refused."""

from __future__ import annotations

import json

import pytest

from scenarios import certificates
from scenarios.runner import make_params

SMALL = ["--scale", "0.01", "--set", "city_seed=1", "--set", "duration_s=10",
         "--set", "offered_rate_per_s=10", "--set", "payer_pool=50"]


def test_one_run_prints_json_with_its_seed_and_kpis_and_no_wall_clock(cli):
    out = cli("scenario", "payments", "--design", "full", "--seed", "4", "--format", "json", *SMALL)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert out.stdout.splitlines()[1].startswith('  "REDUCED_SCALE": "Reduced scale: population '
                                                 'scale 0.01')  # the first key says the scale
    assert data["scenario"] == "payments" and data["seed"] == {"seed": 4}
    assert data["params"]["design"] == "full" and data["kpis"]["lost"] == 0
    assert "s wall" in out.stderr and "s wall" not in out.stdout


def test_the_same_arguments_print_the_same_bytes_in_two_processes_and_match_in_process(cli):
    sets = {"days": 1, "demand_share": 0.02, "city_seed": 1}
    args = ["scenario", "certificates", "--design", "full", "--seed", "2", "--scale", "0.01",
            "--format", "json"] + [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]
    first, second = cli(*args), cli(*args)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    here = certificates.run(make_params("certificates", "full", scale=0.01, overrides=sets), 2)
    assert json.loads(first.stdout)["kpis"] == json.loads(json.dumps(here.to_dict()))["kpis"]


def test_replications_print_means_with_confidence_intervals(cli):
    out = cli("scenario", "payments", "--reps", "2", "--format", "json", *SMALL)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert len(data["reps"]) == 2 and data["summary"]["requests"]["n"] == 2
    assert data["reps"][0]["seed"]["spawn_key"] == [0] and "[2/2]" in out.stderr


def test_params_resolve_the_design_and_its_dotted_overrides(cli):
    out = cli("scenario", "disaster", "--design", "full", "--set", "safety.readers_per_shelter=7",
              "--params", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["readers_per_shelter"] == 7 and data["face_check_enabled"] is True


def test_unknown_parameters_and_designs_are_refused_by_name(cli):
    bad = cli("scenario", "disaster", "--set", "readers_per_shelterr=3")
    assert bad.returncode == 2 and "did you mean 'readers_per_shelter'" in bad.stderr
    nodesign = cli("scenario", "disaster", "--design", "nosuch")
    assert nodesign.returncode == 2 and "unknown design 'nosuch'" in nodesign.stderr
    nostaff = cli("scenario", "disaster", "--set", "face_check_enabled=true", "--set", "face_checkers_per_ward=0")
    assert nostaff.returncode == 2 and "face_checkers_per_ward >= 1" in nostaff.stderr


def test_an_unknown_design_key_is_refused_by_name():
    from twin.errors import ValidationError

    with pytest.raises(ValidationError, match="safety.readers"):
        make_params("disaster", "full", overrides={"safety.readers": 3})
