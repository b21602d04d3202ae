"""`run.py serve`'s options for a drill with real cards: the card CA, the enrolled cards, virtual cards or not."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add --trust-ca, --drill-cards and --drill-cards-only to the serve parser."""
    p.add_argument("--trust-ca", default=None, metavar="FILE",
                   help="PEM certificate(s) of the CA that issued a drill's physical cards (test cards); an "
                   "enrolled card's signature is then accepted as its synthetic resident's card (login, kiosk). "
                   "Only chain, validity, key and fingerprint are read, never the subject (docs/endpoints.md)")
    p.add_argument("--drill-cards", default=None, metavar="FILE",
                   help="CSV with header fingerprint,resident_id: each card certificate's SHA-256 fingerprint "
                   "and the synthetic resident (a card holder of the twin) its volunteer plays")
    p.add_argument("--drill-cards-only", action="store_true",
                   help="refuse the twin's own virtual cards where a card signature is checked (login, kiosk); "
                   "default: both are accepted, for a mixed drill")


def spec_fields(args: argparse.Namespace) -> dict[str, object]:
    """The service spec's drill fields from the options, both files read and checked (errors before any start)."""
    from actors.drill import read_files

    fields: dict[str, object] = read_files(args.trust_ca, args.drill_cards)
    if args.drill_cards_only:
        fields["drill_cards_only"] = True
    return fields


def check(spec) -> str:
    """Refuse an enrolment naming residents the served city lacks; the banner line (or "")."""
    if not spec.trust_ca:
        return ""
    from actors import drill, world

    drill.check_enrolment(spec, world.city(spec).residents)
    return drill.summary(spec)
