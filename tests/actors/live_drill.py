"""The shared live service's drill with real cards: a CA and cards made with `cryptography` (not a test module).

The shared service (tests/actors/conftest.py) starts with the spec fields `run.py serve --trust-ca
FILE --drill-cards FILE` makes (`cli.serve_drill`), so the drill-card tests need no service of
their own; virtual cards stay accepted (the default), so no other test sees a difference.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from tests.actors.live_helpers import T_LIVE
from tests.card import drill_pki

YEAR = 365 * 86400.0
FIRST_HOLDER = 1800  # the card holders (in city order) the drill cards play: 1800, 1801, 1802


@dataclass
class Drill:
    """The drill's cards by name, the residents they play (resident_id, card_serial), the spec fields."""

    cards: dict[str, drill_pki.Issued]
    plays: dict[str, dict[str, Any]]
    fields: dict[str, object]


def drill_cards(residents: pl.DataFrame, folder: Path) -> Drill:
    """A drill CA with P-256 and RSA-2048 cards enrolled, one unenrolled, one expired, one of another CA."""
    from cli.serve_drill import spec_fields

    ca = drill_pki.authority("Drill Card CA", T_LIVE - 2 * YEAR, T_LIVE + 5 * YEAR)
    other_ca = drill_pki.authority("Another City Card CA", T_LIVE - YEAR, T_LIVE + YEAR)
    cards = {"p256": drill_pki.card(ca, T_LIVE - YEAR, T_LIVE + YEAR),
             "rsa": drill_pki.card(ca, T_LIVE - YEAR, T_LIVE + YEAR, kind="rsa"),
             "lost": drill_pki.card(ca, T_LIVE - YEAR, T_LIVE + YEAR),
             "expired": drill_pki.card(ca, T_LIVE - 2 * YEAR, T_LIVE - 86400),
             "unenrolled": drill_pki.card(ca, T_LIVE - YEAR, T_LIVE + YEAR),
             "stranger": drill_pki.card(other_ca, T_LIVE - YEAR, T_LIVE + YEAR)}
    rows = residents.filter(pl.col("has_card")).slice(FIRST_HOLDER, 3).select("resident_id", "card_serial")
    plays = dict(zip(("p256", "rsa", "lost"), rows.rows(named=True), strict=True))
    plays["expired"] = plays["p256"]
    (folder / "ca.pem").write_bytes(ca.pem)
    (folder / "cards.csv").write_text(drill_pki.enrolment(*[(cards[k], r["resident_id"]) for k, r in plays.items()]))
    fields = spec_fields(argparse.Namespace(trust_ca=str(folder / "ca.pem"), drill_cards=str(folder / "cards.csv"),
                                            drill_cards_only=False))
    return Drill(cards, plays, fields)
