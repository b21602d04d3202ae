"""`run.py card` through a subprocess, as a user runs it."""

from __future__ import annotations

import json


def test_card_show_prints_a_cards_status_validity_and_pins(cli):
    out = cli("card", "show", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["status"] == "active"
    assert data["tries_left"] == {"user": 3, "signing": 5, "support": 3}
    assert len(data["pins"]["user"]) == 4
    assert data["card_valid_until"] > data["card_issued"]


def test_card_drill_counts_the_list_window_only_at_the_list_reader(cli):
    out = cli("card", "drill", "--taps", "120", "--lost", "0.3", "--typo", "0", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["online"]["revoked_accepted_in_window"] == 0
    assert data["online"].get("card_revoked", 0) > 0
    assert data["list"]["revoked_accepted_in_window"] == data["online"]["card_revoked"]
    assert data["list"]["accepted"] == 120


def test_card_show_of_a_resident_without_a_card_is_a_clear_error(cli):
    out = cli("card", "show", "--resident", "99999999")
    assert out.returncode == 2
    assert "holds no card" in out.stderr


def test_card_drill_rejects_a_share_outside_zero_to_one(cli):
    out = cli("card", "drill", "--lost", "1.5")
    assert out.returncode == 2 and "within [0, 1]" in out.stderr
