"""`run.py calibrate` through a subprocess, as a user runs it."""

from __future__ import annotations

import json

from calibration.params import PARAMS_PATH, load_params


def test_calibrate_writes_the_parameters_where_asked_prints_the_table_and_strict_fails(cli, tmp_path):
    before = PARAMS_PATH.read_bytes()
    out = tmp_path / "p.json"
    res = cli("calibrate", "--output", str(out), "--no-scenarios", "--strict")
    assert res.returncode == 1, res.stderr  # --strict: some published figures fail (shown, not hidden)
    assert "published" in res.stdout and "verdict" in res.stdout
    assert "PASS" in res.stdout and "FAIL" in res.stdout
    assert load_params(out).checkin["card_tap"].mean_s > 0
    assert PARAMS_PATH.read_bytes() == before  # the committed file is untouched


def test_calibrate_json_holds_params_validation_and_tally(cli, tmp_path):
    res = cli("calibrate", "--output", str(tmp_path / "p.json"), "--format", "json", "--no-scenarios")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert set(data) == {"params_path", "params", "validation", "summary"}
    verdicts = {r["verdict"] for r in data["validation"]}
    assert verdicts <= {"pass", "fail", "cannot reproduce"}
    assert sum(data["summary"].values()) == len(data["validation"])
    assert data["summary"]["fail"] > 0 and data["summary"]["pass"] > data["summary"]["fail"]
    assert all(r["source"] for r in data["validation"])


def test_an_output_path_that_cannot_be_written_is_a_clear_error(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = cli("calibrate", "--output", str(blocker / "p.json"), "--no-scenarios")
    assert res.returncode == 2
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert errors and "cannot write the fitted parameters" in errors[0] and "p.json" in errors[0]
