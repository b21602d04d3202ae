"""`run.py calibrate --from-drill DATA_FOLDER`: fit the disaster scenario to what a drill recorded."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli import emit
from twin.errors import ValidationError


def run_drill(args: argparse.Namespace) -> int:
    """Read the drill's journals, fit, write the parameter file, print the side-by-side table."""
    from calibration.drill import read_drill
    from calibration.drill_kiosks import read_kiosks
    from calibration.fit_drill import (
        BUSY_GAP_S,
        fit_drill,
        table_text,
        validation_rows,
        write_drill_params,
    )
    from calibration.fit_kiosks import KIOSK_BUSY_GAP_S, kiosk_text

    busy = BUSY_GAP_S if args.busy_gap is None else args.busy_gap
    kiosk_busy = KIOSK_BUSY_GAP_S if getattr(args, "kiosk_busy_gap", None) is None else args.kiosk_busy_gap
    for name, value in (("--busy-gap", busy), ("--kiosk-busy-gap", kiosk_busy)):
        if not value > 0:
            raise ValidationError(f"{name} must be a positive number of seconds, got {value}")
    target = Path(args.output or "drill_params.json")
    from calibration.drill_postgres import is_dsn, where

    shown = f"postgresql://{where(args.from_drill)}" if is_dsn(args.from_drill) else args.from_drill
    print(f"calibrate: reading the drill in {shown} ...", file=sys.stderr, flush=True)
    fit = fit_drill(read_drill(args.from_drill, args.drill_instance), busy,
                    read_kiosks(args.from_drill, args.drill_instance), kiosk_busy)
    path = write_drill_params(fit, target)
    prov, card = fit.provenance, fit.card
    text = "\n".join([
        f"drill of {prov['drill_date']} ({prov['first_checkin_jst']} to {prov['last_checkin_jst']}): "
        f"{prov['card_taps']} card taps at {prov['readers']} readers in {prov['shelters']} shelters, "
        f"{prov['desk_checkins']} desk check-ins",
        f"card service time: lognormal mu {card.mu:.3f} +- {card.mu_se:.3f}, sigma {card.sigma:.3f} +- "
        f"{card.sigma_se:.3f} (mean {card.mean_s:.1f} s) from {card.n} busy gaps; "
        f"{card.dropped_idle} idle and {card.dropped_zero} zero gaps dropped; KS p = {card.ks_pvalue:.3f}",
        "paper forms, face checks: counts only (" + fit.not_fitted["paper_form"] + ")",
        *([] if fit.kiosk is None else [kiosk_text(fit.kiosk)]),
        _redirect_text(fit.redirects),
        f"parameters written to {path}; use them with: run.py scenario "
        f"{'|'.join(fit.overrides_by_scenario())} --set @{path}",
        "", table_text(fit)])
    emit({"params_path": str(path), **fit.to_dict(), "validation": validation_rows(fit)}, args.format, text)
    return 0


def _redirect_text(red: dict) -> str:
    """The redirect count per shelter, one line."""
    if not red.get("checkins"):
        return "redirects: no card check-in answers recorded"
    worst = sorted(red["per_shelter"].items(), key=lambda kv: -kv[1]["share_redirected"])[:3]
    shown = ", ".join(f"shelter {s} {r['redirected']}/{r['checkins']}" for s, r in worst if r["redirected"])
    return (f"redirects (a count, not fitted): {red['redirected']} of {red['checkins']} card check-ins "
            f"({red['share_redirected']:.1%})" + (f"; most: {shown}" if shown else ""))
