"""Recalibrating from a drill's kiosk side: known kiosk visit times come back, PIN refusals are read when the
journal holds them, redirects are counted per shelter, and one parameter file serves both scenarios."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from calibration.drill import read_drill
from calibration.drill_kiosks import assemble, read_kiosks
from calibration.fit_drill import fit_drill, validation_rows
from calibration.fit_kiosks import fit_kiosks
from scenarios.params import parse_overrides
from tests.loop.drill_helpers import make_drill
from tests.loop.kiosk_drill_helpers import (
    GOOD_AUTHS,
    KIOSK_IDLE_BREAKS,
    KNOWN_KIOSK,
    REDIRECTED,
    TAMPERED_AUTHS,
    VISITS_PER_KIOSK,
    fill_a_shelter,
    make_kiosk_auths,
    make_kiosk_drill,
)
from twin.errors import ValidationError

MU_TOL, SIGMA_TOL = 0.12, 0.08  # about 3 standard errors at 136 gaps per kiosk


def _make(folder, store: str = "sqlite") -> dict:
    made = make_drill(folder, store=store)
    return {**made, **make_kiosk_drill(folder, store=store), "auths": make_kiosk_auths(folder, store=store),
            "full_shelter": fill_a_shelter(folder, made["taps"], store=store)}


@pytest.fixture(scope="module")
def drill(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kdrill")
    return folder, _make(folder)


@pytest.fixture(scope="module")
def fitted(drill):
    return fit_drill(read_drill(drill[0]), kiosks=read_kiosks(drill[0]))


def test_each_kiosks_known_visit_time_is_fitted_back_within_tolerance(drill, fitted):
    kiosk = fitted.kiosk
    assert kiosk.documents == drill[1]["documents"] > drill[1]["visits"] == kiosk.visits  # two documents, one visit
    for site, (mu, sigma) in drill[1]["kiosks"].items():
        got = kiosk.per_kiosk[site]
        assert abs(got.mu - mu) < MU_TOL and abs(got.sigma - sigma) < SIGMA_TOL, (site, got)
        assert got.n == VISITS_PER_KIOSK - 1 - KIOSK_IDLE_BREAKS  # the idle breaks were dropped, nothing else
    assert kiosk.service.dropped_idle == KIOSK_IDLE_BREAKS * len(KNOWN_KIOSK)


def test_the_certificates_section_holds_the_pooled_kiosk_mean_and_no_pin_share_the_journal_cannot_give(fitted):
    mixture = sum(math.exp(m + s * s / 2) for m, s in KNOWN_KIOSK.values()) / len(KNOWN_KIOSK)
    assert abs(fitted.kiosk.service.mean_s / mixture - 1) < 0.1
    assert fitted.overrides_by_scenario() == {"disaster": fitted.overrides(),
                                              "certificates": {"kiosk_service_mean_s": fitted.kiosk.service.mean_s}}
    assert "not identifiable" in fitted.to_dict()["not_fitted"]["certificates.pin_mistype_probability"]


def test_kiosk_authentications_are_counted_with_their_refusal_codes(drill, fitted):
    assert drill[1]["auths"] == {"recorded": GOOD_AUTHS, "refused": ["forged"] * TAMPERED_AUTHS}
    pin = fitted.kiosk.pin
    assert (pin.tries, pin.wrong, pin.refusals) == (GOOD_AUTHS + TAMPERED_AUTHS, 0, {"forged": TAMPERED_AUTHS})


def test_a_known_wrong_pin_share_in_the_answers_is_read_back_with_an_interval_that_covers_it():
    rng = np.random.default_rng(3)
    p, n = 0.08, 1500
    wrong = rng.random(n) < p
    answers = [json.dumps({"status": "rejected", "error": "wrong_pin"} if w else {"status": "recorded", "result": {}})
               for w in wrong] + [json.dumps({"status": "rejected", "error": "pin_locked"})] * 4
    fit = fit_kiosks(assemble([], answers))
    lo, hi = fit.pin.interval()
    share = fit.overrides()["pin_mistype_probability"]
    assert share == pytest.approx(wrong.sum() / (n + 4)) and lo < p < hi and 0 <= lo < share < hi <= 1
    assert fit.service is None and "only 0 busy gaps" in fit.not_fitted["kiosk_service_mean_s"]
    assert "kiosk_service_mean_s" not in fit.overrides()


def test_redirects_are_counted_per_shelter_and_shown_in_the_validation_table(drill, fitted):
    per = fitted.redirects["per_shelter"][str(drill[1]["full_shelter"])]
    assert per["redirected"] == REDIRECTED and per["no_room"] == 0
    assert fitted.redirects["redirected"] == REDIRECTED
    rows = {r["figure"]: r for r in validation_rows(fitted)}
    assert rows["card check-ins redirected (share)"]["drill_s"] == pytest.approx(REDIRECTED / fitted.redirects["checkins"])
    assert rows["kiosk transaction mean (s)"]["drill_s"] == fitted.kiosk.service.mean_s


def test_one_parameter_file_runs_the_disaster_and_the_certificates_scenarios(drill, cli, tmp_path):
    out = tmp_path / "p.json"
    res = cli("calibrate", "--from-drill", str(drill[0]), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "kiosk service time: lognormal" in res.stdout and "not identifiable" in res.stdout
    assert f"redirects (a count, not fitted): {REDIRECTED} of" in res.stdout and "forged 3" in res.stdout
    written = json.loads(out.read_text())
    kiosk_mean = written["overrides_by_scenario"]["certificates"]["kiosk_service_mean_s"]
    assert written["provenance"]["kiosk_documents"] == drill[1]["documents"]
    certs = cli("scenario", "certificates", "--set", f"@{out}", "--scale", "0.01", "--params", "--format", "json")
    assert certs.returncode == 0, certs.stderr
    assert json.loads(certs.stdout)["kiosk_service_mean_s"] == pytest.approx(kiosk_mean)
    dis = cli("scenario", "disaster", "--set", f"@{out}", "--scale", "0.01", "--params", "--format", "json")
    assert dis.returncode == 0, dis.stderr
    assert json.loads(dis.stdout)["card_tap_mean_s"] == pytest.approx(written["overrides"]["card_tap_mean_s"])
    with pytest.raises(ValidationError, match="holds no parameters for the payments scenario .it has: certificates, "
                       "disaster."):
        parse_overrides([f"@{out}"], "payments")


def test_a_drill_without_kiosks_keeps_the_disaster_file_as_before(tmp_path):
    make_drill(tmp_path)
    assert read_kiosks(tmp_path) is None
    fit = fit_drill(read_drill(tmp_path), kiosks=None)
    assert fit.overrides_by_scenario() == {"disaster": fit.overrides()} and "kiosk" not in fit.to_dict()["fit"]
    with pytest.raises(ValidationError, match="kiosk_busy_gap|positive"):
        from argparse import Namespace

        from cli.calibrate_drill import run_drill

        run_drill(Namespace(from_drill=str(tmp_path), drill_instance=None, busy_gap=None, kiosk_busy_gap=-1.0,
                            output=None, format="text"))


def test_a_file_of_one_section_still_applies_without_naming_the_scenario(drill, tmp_path):
    p = tmp_path / "p.json"
    p.write_text(json.dumps({"overrides": {"kiosk_service_mean_s": 99.0}}))
    assert parse_overrides([f"@{p}"], "certificates") == {"kiosk_service_mean_s": 99.0}
