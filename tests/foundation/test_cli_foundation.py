"""The command line as a user meets it: through a subprocess."""

from __future__ import annotations

import json
import re


def test_check_id_says_valid_my_number_and_exits_0(cli):
    out = cli("check-id", "123456789018")
    assert out.returncode == 0 and "My Number, valid" in out.stdout


def test_check_id_exits_1_for_a_wrong_check_digit(cli):
    out = cli("check-id", "7000012050003", "--format", "json")
    assert out.returncode == 1
    assert json.loads(out.stdout) == {"kind": "corporate_number", "number": "7000012050003", "valid": False}


def test_check_id_exits_2_for_malformed_input(cli):
    assert cli("check-id", "12345").returncode == 2
    out = cli("check-id", "12345678901x")
    assert out.returncode == 2 and "not digits only" in out.stdout


def test_city_prints_a_json_summary(cli):
    out = cli("city", "kumamoto", "--scale", "0.01", "--seed", "1", "--format", "json")
    assert out.returncode == 0, out.stderr
    s = json.loads(out.stdout)
    assert s["residents"] == 7389 and s["wards"] == 5 and s["facilities"]["counter"] == 5


def test_an_unknown_city_is_a_clear_error_with_exit_2(cli):
    out = cli("city", "tokyo")
    assert out.returncode == 2 and "unknown city 'tokyo'" in out.stderr and "yokohama" in out.stderr


def test_every_subcommand_has_help(cli):
    top = cli("--help")
    assert top.returncode == 0
    # subcommands stand at four spaces; wrapped help lines are indented deeper
    commands = [m.group(1) for m in re.finditer(r"^    ([a-z][\w-]*)", top.stdout, re.M)]
    assert {"city", "check-id", "study"} <= set(commands)
    for name in commands:
        out = cli(name, "--help")
        assert out.returncode == 0 and "usage:" in out.stdout, name
