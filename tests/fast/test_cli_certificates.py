"""The certificate peak from the command line: both engines and every key mode print the same KPIs."""

from __future__ import annotations

import json

import pytest

from scenarios import certificates
from scenarios.runner import make_params
from twin.errors import ValidationError

ARGS = ["scenario", "certificates", "--design", "full", "--scale", "0.01", "--seed", "3",
        "--set", "days=1", "--set", "demand_share=0.03", "--set", "pin_mistype_probability=0.3",
        "--format", "json"]


def test_the_certificate_peak_prints_the_same_kpis_on_both_engines_and_key_modes(cli):
    out = cli(*ARGS, "--engine", "simpy", "--set", "key_mode=ed25519")
    assert out.returncode == 0, out.stderr
    printed = json.loads(out.stdout)
    assert (printed["params"]["engine"], printed["params"]["key_mode"]) == ("simpy", "ed25519")
    overrides = {"days": 1, "demand_share": 0.03, "pin_mistype_probability": 0.3}
    default = certificates.run(make_params("certificates", "full", scale=0.01, overrides=overrides), 3)
    assert (default.params["engine"], default.params["key_mode"]) == ("fast", "hmac")
    assert json.loads(json.dumps(default.to_dict()))["kpis"] == printed["kpis"]
    assert printed["kpis"]["kiosk_certificates"] > 0


def test_an_unknown_key_mode_is_refused_naming_the_valid_ones():
    # the CLI turns this ValidationError into exit 2 (tests/fast/test_cli_engine.py runs that path)
    with pytest.raises(ValidationError, match="key_mode.*rsa2048.*dsa1024"):
        make_params("certificates", "full", overrides={"key_mode": "dsa1024"})
