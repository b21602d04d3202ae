"""`run.py serve --trust-ca --drill-cards` as a user runs it: bad files refused (exit 2) before anything starts."""

from __future__ import annotations

import argparse
import json
import re

import polars as pl
import pytest

from tests.card import drill_pki
from twin.clock import jst
from twin.errors import ValidationError

T = jst(2026, 4, 6, 10)
YEAR = 365 * 86400.0


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A drill CA, one card, and files: the CA's PEM, a card's PEM (not a CA), junk."""
    d = tmp_path_factory.mktemp("drill-pki")
    ca = drill_pki.authority("Drill Card CA", T - YEAR, T + 5 * YEAR)
    card = drill_pki.card(ca, T - YEAR, T + YEAR)
    (d / "ca.pem").write_bytes(ca.pem)
    (d / "card.pem").write_bytes(card.pem)
    (d / "junk.pem").write_text("this is not a certificate\n")
    return d, card


def holder_and_not(small_city) -> tuple[int, int]:
    r = small_city.residents
    return (int(r.filter(pl.col("has_card"))["resident_id"][0]),
            int(r.filter(~pl.col("has_card"))["resident_id"][0]))


def serve(cli, tmp_path, *args: str):
    return cli("serve", "--data", str(tmp_path / "d"), "--scale", "0.01", *args, timeout=120)


@pytest.mark.parametrize(("ca", "rows", "words"), [
    ("junk.pem", "{fp},{holder}", "--trust-ca {dir}/junk.pem holds no PEM certificate"),
    ("card.pem", "{fp},{holder}", "is not a CA certificate"),
    ("ca.pem", "not-hex-at-all,{holder}", "line 2: the fingerprint must be 64 hex digits"),
])
def test_bad_drill_files_are_refused_with_exit_2_before_anything_starts(cli, tmp_path, pki, small_city, ca, rows,
                                                                        words):
    d, card = pki
    values = {"fp": card.fingerprint, "holder": holder_and_not(small_city)[0], "dir": d}
    (tmp_path / "cards.csv").write_text("fingerprint,resident_id\n" + rows.format(**values) + "\n")
    r = serve(cli, tmp_path, "--trust-ca", str(d / ca), "--drill-cards", str(tmp_path / "cards.csv"))
    assert r.returncode == 2 and words.format(**values) in r.stderr, r.stderr
    assert "starting Ray" not in r.stdout and not (tmp_path / "d").exists()


def options(**kw) -> argparse.Namespace:
    return argparse.Namespace(**{"trust_ca": None, "drill_cards": None, "drill_cards_only": False, **kw})


@pytest.mark.parametrize(("rows", "words"), [
    ("{fp},{nobody}", "is enrolled for resident {nobody}, whom kumamoto at scale 0.01 does not have"),
    ("{fp},{no_card}", "who holds no card in the twin"),
])
def test_an_enrolment_naming_a_resident_without_a_twin_card_is_refused_before_ray_starts(tmp_path, pki, small_city,
                                                                                          rows, words):
    from actors.spec import ServiceSpec
    from cli.serve_drill import check, spec_fields

    d, card = pki
    values = {"fp": card.fingerprint, "no_card": holder_and_not(small_city)[1], "nobody": 10**9}
    (tmp_path / "cards.csv").write_text("fingerprint,resident_id\n" + rows.format(**values) + "\n")
    fields = spec_fields(options(trust_ca=str(d / "ca.pem"), drill_cards=str(tmp_path / "cards.csv")))
    with pytest.raises(ValidationError, match=re.escape(words.format(**values))):
        check(ServiceSpec(data_dir=str(tmp_path / "d"), scale=0.01, **fields))


@pytest.mark.parametrize(("kw", "words"), [
    ({"trust_ca": "ca.pem"}, "--trust-ca and --drill-cards go together"),
    ({"trust_ca": "ca.pem", "drill_cards": "missing.csv"}, "--drill-cards missing.csv: no such file"),
])
def test_incomplete_drill_options_are_refused_naming_what_is_missing(pki, kw, words):
    from cli.serve_drill import spec_fields

    d, _ = pki
    with pytest.raises(ValidationError, match=re.escape(words)):
        spec_fields(options(**{k: str(d / v) if v == "ca.pem" else v for k, v in kw.items()}))


def test_drill_cards_only_without_a_drill_ca_is_refused(tmp_path):
    from actors.spec import ServiceSpec

    with pytest.raises(ValidationError, match="needs --trust-ca and --drill-cards"):
        ServiceSpec(data_dir=str(tmp_path), drill_cards_only=True)


def test_the_drill_settings_reach_the_serve_config_for_a_cluster(cli, tmp_path, pki, small_city):
    from actors.drill import cards
    from actors.spec import ServiceSpec

    d, card = pki
    holder, _ = holder_and_not(small_city)
    (tmp_path / "cards.csv").write_text(drill_pki.enrolment((card, holder)))
    r = serve(cli, tmp_path, "--trust-ca", str(d / "ca.pem"), "--drill-cards", str(tmp_path / "cards.csv"),
              "--drill-cards-only", "--print-config")
    assert r.returncode == 0, r.stderr
    args = json.loads("".join(line for line in r.stdout.splitlines(True) if not line.startswith("#")))[
        "applications"][0]["args"]
    assert args["trust_ca"] == (d / "ca.pem").read_text() and args["drill_cards_only"] is True
    spec = ServiceSpec(**{k: v for k, v in args.items() if k != "replicas"})
    assert cards(spec).enrolled == {card.fingerprint: holder}
