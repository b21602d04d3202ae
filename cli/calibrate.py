"""`run.py calibrate`: refit the parameters to the published figures and print the validation table."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cli import add_format, emit


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `calibrate` subcommand."""
    p = sub.add_parser(
        "calibrate",
        help="refit parameters to published figures, write params.json, print the validation table",
        description="Refit the scenarios' parameters (check-in times, evacuation curve, kiosk share, "
        "demand peaks) to the sourced figures in calibration/data with SciPy, write them to "
        "calibration/fitted/params.json (what the scenarios read by default), and print a validation "
        "table: each published figure, the twin's own value, the relative error and pass/fail "
        "against the stated tolerance. Figures the twin cannot reproduce are listed as such. "
        "Exit 0, or 1 with --strict when a figure fails.",
    )
    p.add_argument("--output", "--out", type=Path, default=None,
                   help="where to write the fitted parameters (default: calibration/fitted/params.json; "
                   "with --from-drill: drill_params.json)")
    p.add_argument("--from-drill", default=None, metavar="DATA_FOLDER|DSN",
                   help="fit to what a drill recorded in a live service's data folder (or its "
                   "postgresql:// store) instead (card reader service times, arrivals); write a "
                   "parameter file for `run.py scenario disaster --set @FILE` (see docs/twin-loop.md)")
    p.add_argument("--drill-instance", default=None, metavar="ID",
                   help="with a --from-drill DSN: which service's journals, when the database holds "
                   "several (the 'instance' in the data folder's service.json)")
    p.add_argument("--busy-gap", type=float, default=None, metavar="S",
                   help="with --from-drill: longest gap between two taps at a reader still counted "
                   "as service, not idle time (default: 180)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampling in the validation (default: 0)")
    p.add_argument("--no-scenarios", action="store_true",
                   help="skip the checks that run the scenarios at small scale (faster)")
    p.add_argument("--strict", action="store_true", help="exit 1 if any figure fails its tolerance")
    add_format(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Fit, write, validate, report."""
    from calibration.fit import fit_all, write_params
    from calibration.params import PARAMS_PATH
    from calibration.validate import table_text, tally_of, validation_table
    from twin.errors import ValidationError

    if args.from_drill is not None:
        from cli.calibrate_drill import run_drill

        return run_drill(args)
    if args.busy_gap is not None or args.drill_instance is not None:
        raise ValidationError("--busy-gap and --drill-instance apply only with --from-drill")
    target = Path(args.output or PARAMS_PATH)
    if target.is_dir() or (target.parent.exists() and not target.parent.is_dir()):
        raise ValidationError(f"cannot write the fitted parameters to {target}: not a file path in a folder")
    t0 = time.perf_counter()
    print("calibrate: fitting with SciPy ...", file=sys.stderr, flush=True)
    fits = fit_all()
    path = write_params(fits.params, target)
    print(f"calibrate: wrote {path}; validating ...", file=sys.stderr, flush=True)
    rows = validation_table(fits, seed=args.seed, scenarios=not args.no_scenarios)
    tally = tally_of(rows)
    print(f"calibrate: done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    data = {"params_path": str(path), "params": fits.params.to_dict(),
            "validation": [r.to_dict() for r in rows], "summary": tally}
    text = f"fitted parameters written to {path} ({fits.params.fitted_with})\n\n{table_text(rows)}"
    emit(data, args.format, text)
    return 1 if args.strict and tally["fail"] else 0
