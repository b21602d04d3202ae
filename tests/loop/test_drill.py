"""Recalibrating from a drill: known service times come back out of the journals, through the CLI too."""

from __future__ import annotations

import json
import math

import pytest

from calibration.drill import read_drill
from calibration.fit_drill import fit_drill
from scenarios.params import parse_overrides
from tests.loop.drill_helpers import IDLE_BREAKS, KNOWN, TAPS_PER_READER, make_drill
from twin.errors import ValidationError

MU_TOL, SIGMA_TOL = 0.12, 0.08  # about 2.5 standard errors at 150 gaps per reader


@pytest.fixture(scope="module")
def drill(tmp_path_factory):
    folder = tmp_path_factory.mktemp("drill")
    return folder, make_drill(folder)


def test_the_journals_give_back_every_tap_with_its_readers_shelter(drill):
    folder, made = drill
    data = read_drill(folder)
    assert data.taps == made["taps"]
    for reader, shelter in made["shelters"].items():
        assert set(data.tap_shelter[data.tap_reader == reader].tolist()) == {shelter}


def test_each_readers_known_lognormal_is_fitted_back_within_tolerance(drill):
    fit = fit_drill(read_drill(drill[0]))
    for reader, (mu, sigma) in KNOWN.items():
        got = fit.per_reader[reader]
        assert abs(got.mu - mu) < MU_TOL and abs(got.sigma - sigma) < SIGMA_TOL, (reader, got)
        assert got.n == TAPS_PER_READER - 1 - IDLE_BREAKS  # the idle breaks were dropped, nothing else
    assert fit.card.dropped_idle == IDLE_BREAKS * len(KNOWN)


def test_the_pooled_card_mean_is_the_mixture_of_the_readers_means(drill):
    fit = fit_drill(read_drill(drill[0]))
    mixture = sum(math.exp(m + s * s / 2) for m, s in KNOWN.values()) / len(KNOWN)
    assert abs(fit.card.mean_s / mixture - 1) < 0.1
    assert fit.overrides() == {"card_tap_mean_s": fit.card.mean_s, "checkin_sigma": fit.card.sigma}


def test_calibrate_from_drill_writes_a_parameter_file_the_disaster_scenario_runs_with(drill, cli, tmp_path):
    out = tmp_path / "p.json"
    res = cli("calibrate", "--from-drill", str(drill[0]), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "published" in res.stdout and "drill" in res.stdout and "kishiwada_2025" in res.stdout
    assert "<- drill nearest" in res.stdout
    written = json.loads(out.read_text())
    assert written["provenance"]["card_taps"] == drill[1]["taps"]
    assert written["provenance"]["drill_date"] and written["fit"]["card_tap"]["busy_gaps"] > 300
    run = cli("scenario", "disaster", "--set", f"@{out}", "--scale", "0.01", "--params", "--format", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["card_tap_mean_s"] == pytest.approx(written["overrides"]["card_tap_mean_s"])


def test_a_bad_drill_folder_gets_a_clear_error_and_exit_2(tmp_path, cli):
    res = cli("calibrate", "--from-drill", str(tmp_path / "missing"))
    assert res.returncode == 2 and "does not exist" in res.stderr, res.stderr


@pytest.mark.parametrize(("make", "says"), [
    (lambda p: (p / "f.txt").write_text("x") and p / "f.txt", "is not a folder"),
    (lambda p: p, "no shelter-group journals"),
    (lambda p: (p / "shelters_0.sqlite").write_text("not sqlite") and p, "not a readable shelter journal"),
])
def test_other_bad_drill_folders_are_named_in_the_error(tmp_path, make, says):
    with pytest.raises(ValidationError, match=says):
        read_drill(make(tmp_path))


def test_a_missing_or_foreign_parameter_file_is_a_clear_error(tmp_path):
    with pytest.raises(ValidationError, match="cannot read the parameter file"):
        parse_overrides([f"@{tmp_path / 'nope.json'}"])
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ValidationError, match="no 'overrides' object"):
        parse_overrides([f"@{tmp_path / 'x.json'}"])
