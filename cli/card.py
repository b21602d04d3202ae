"""`run.py card`: look at a synthetic card, or run a one-day trust drill at two kinds of reader."""

from __future__ import annotations

import argparse
from collections import Counter

from cli import add_format, emit
from twin.presets import DEFAULT_CITY


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `card` subcommand with `show` and `drill`."""
    p = sub.add_parser("card", help="inspect a synthetic My Number card or run a card-reader trust drill",
                       description="Cards, JPKI certificates and readers (see docs/trust.md).")
    acts = p.add_subparsers(dest="action", required=True, metavar="{show,drill}")
    show = acts.add_parser("show", help="status, validity, certificates, PIN tries and apps of one card",
                           description="Print one synthetic card: status, validity, certificates, PIN tries, "
                           "free-area apps and its (synthetic) PINs. Pick it by --serial or --resident; "
                           "by default the first card holder.")
    drill = acts.add_parser("drill", help="a day of authentications at a list-based and an online reader",
                            description="Authenticate card holders at two readers through one day while some "
                            "report their cards lost: one reader relies on the daily revocation list, the "
                            "other asks online status. Prints outcomes by reason, including revoked cards "
                            "accepted inside the list window.")
    for q in (show, drill):
        q.add_argument("--city", default=DEFAULT_CITY, help=f"city preset (default: {DEFAULT_CITY})")
        q.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
        q.add_argument("--scale", type=float, default=0.01, help="share of the population (default: 0.01)")
        q.add_argument("--algorithm", default="ed25519", choices=("ed25519", "p256", "rsa2048"),
                       help="signature algorithm of the authority and cards (default: ed25519)")
        add_format(q)
    show.add_argument("--serial", type=int, help="card serial number (製造番号)")
    show.add_argument("--resident", type=int, help="resident id (shows the resident's newest card)")
    drill.add_argument("--taps", type=int, default=300, help="authentications per reader (default: 300)")
    drill.add_argument("--lost", type=float, default=0.05, help="share of cards reported lost that day (default 0.05)")
    drill.add_argument("--typo", type=float, default=0.1, help="chance a PIN entry is mistyped (default 0.1)")
    p.set_defaults(func=run)


def _setup(args: argparse.Namespace):
    from twin.card import CardRegistry
    from twin.clock import jst
    from twin.pki import CertificateAuthority
    from twin.population import build_city

    now = jst(2026, 4, 1, 9)
    city = build_city(args.city, seed=args.seed, scale=args.scale)
    ca = CertificateAuthority(seed=args.seed, algorithm=args.algorithm)
    return now, ca, CardRegistry.from_city(city, ca, now)


def run(args: argparse.Namespace) -> int:
    """Dispatch to show or drill."""
    return _show(args) if args.action == "show" else _drill(args)


def _show(args: argparse.Namespace) -> int:
    from twin.card.rules import NO_DAY, date_of_day
    from twin.errors import NotFound

    now, _, reg = _setup(args)
    serial = args.serial
    if serial is None and args.resident is not None:
        serial = reg.serial_of_resident(args.resident) if 0 <= args.resident < reg.population else None
        if serial is None:
            raise NotFound(f"resident {args.resident} holds no card in this city")
    serial = int(reg.serial[0]) if serial is None else serial
    row, card, pins = reg.row_of(serial), reg.card(serial), reg.pins(serial)
    signing = reg.sign_from[row] != NO_DAY
    data = {"serial": serial, "resident_id": card.resident_id, "status": card.status(now),
            "name": card.face.name, "address": card.face.address, "birth_date": str(card.face.birth_date),
            "card_issued": str(date_of_day(int(reg.issued[row]))), "card_valid_until": str(date_of_day(int(reg.expiry[row]))),
            "user_certificate_until": str(date_of_day(int(reg.user_until[row]))),
            "signing_certificate_until": str(date_of_day(int(reg.sign_until[row]))) if signing else None,
            "tries_left": {app: card.tries_left(app) for app in ("user", "signing", "support")},
            "apps": list(card.apps), "pins": {"user": pins.user, "signing": pins.signing, "support": pins.support}}
    text = "\n".join(f"{k:<26}{v}" for k, v in data.items())
    emit(data, args.format, f"card {serial} (synthetic) at 2026-04-01 09:00 JST\n{text}")
    return 0


def _drill(args: argparse.Namespace) -> int:
    import numpy as np

    from twin.card import mistype
    from twin.clock import HOUR
    from twin.errors import ValidationError
    from twin.reader import Reader
    from twin.trust_errors import TrustError
    from twin.trust_events import RevokedAcceptedInWindow

    if args.taps < 1 or not 0 <= args.lost <= 1 or not 0 <= args.typo <= 1:
        raise ValidationError("--taps must be >= 1 and --lost, --typo within [0, 1]")
    now, ca, reg = _setup(args)
    rng = np.random.default_rng(args.seed)
    serials = rng.choice(reg.serial[: len(reg)], size=min(args.taps, len(reg)), replace=False)
    lost_at = {int(s): now + rng.uniform(0, 12 * HOUR) for s in serials if rng.random() < args.lost}
    taps = sorted((now + rng.uniform(0, 14 * HOUR), int(s)) for s in serials)
    readers = {"list": Reader(ca, reg, reader_id="kiosk-list"), "online": Reader(ca, reg, reader_id="pay-online",
                                                                                  revocation="online")}
    for r in readers.values():
        r.refresh(now)
    out = {mode: Counter() for mode in readers}
    for at, serial in taps:
        for s in [s for s, t in lost_at.items() if t <= at and reg.status_name(reg.row_of(s), at) == "active"]:
            reg.report_loss(s, lost_at[s])
        pin = reg.pins(serial).user
        for mode, reader in readers.items():
            entry = mistype(pin, rng) if rng.random() < args.typo else pin
            try:
                reader.authenticate(serial, entry, at)
                out[mode]["accepted"] += 1
            except TrustError as err:
                out[mode][err.code] += 1
    window = Counter(e.where for e in reg.events.of(RevokedAcceptedInWindow))
    data = {mode: dict(c) | {"revoked_accepted_in_window": window[readers[mode].reader_id]}
            for mode, c in out.items()}
    lines = [f"{len(taps)} card holders, {len(lost_at)} cards reported lost during the day ({args.algorithm})"]
    for mode, d in data.items():
        refused = ", ".join(f"{k} {v}" for k, v in sorted(d.items()) if k not in ("accepted", "revoked_accepted_in_window"))
        lines.append(f"  {mode:<7} accepted {d.get('accepted', 0)} (of which {d['revoked_accepted_in_window']} "
                     f"revoked inside the list window); refused: {refused or 'none'}")
    emit(data, args.format, "\n".join(lines))
    return 0
