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
    from calibration.fit_drill import (
        BUSY_GAP_S,
        fit_drill,
        table_text,
        validation_rows,
        write_drill_params,
    )

    busy = BUSY_GAP_S if args.busy_gap is None else args.busy_gap
    if not busy > 0:
        raise ValidationError(f"--busy-gap must be a positive number of seconds, got {busy}")
    target = Path(args.output or "drill_params.json")
    from calibration.drill_postgres import is_dsn, where

    shown = f"postgresql://{where(args.from_drill)}" if is_dsn(args.from_drill) else args.from_drill
    print(f"calibrate: reading the drill in {shown} ...", file=sys.stderr, flush=True)
    fit = fit_drill(read_drill(args.from_drill, args.drill_instance), busy)
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
        f"parameters written to {path}; use them with: run.py scenario disaster --set @{path}",
        "", table_text(fit)])
    emit({"params_path": str(path), **fit.to_dict(), "validation": validation_rows(fit)}, args.format, text)
    return 0
