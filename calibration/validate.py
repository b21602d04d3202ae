"""The validation table: every published figure next to a value the twin computes itself."""

from __future__ import annotations

import numpy as np
import polars as pl

from calibration.checks import Check, Published, check, number
from calibration.data import table
from calibration.fit import Fits
from calibration.params import FittedParams

TOL_TRIAL = 0.5  # one trial's mean vs the pooled fit: sites differ by about exp(sigma) ~ 1.65x
TOL_EVAC = 0.1  # the Kumamoto peak share and the Noto one-month ratio
TOL_PEAK_TIME = 0.5  # the two events peak 13 h and 32 h after the shock: one curve sits between
TOL_VOLUME = 0.25  # national volumes against an unverified ownership series


def checkin_checks(params: FittedParams, rng: np.random.Generator, n: int = 20_000) -> list[Check]:
    """Each trial's mean against the mean of n times drawn from the fitted distribution."""
    draws = {m: st.sample(rng, n) for m, st in params.checkin.items()}
    how = f"mean of {n:,} draws from the fitted lognormal"
    out = []
    for r in table("checkin_trials").iter_rows(named=True):
        pub = Published(r["low"], r["high"])
        if r["statistic"] == "ratio":
            slow, fast = r["method"].split("/")
            twin = float(draws[slow].mean() / draws[fast].mean())
            out.append(check("check-in", f"{r['trial']}: {slow} / {fast}", pub, twin, "x", TOL_TRIAL,
                             f"ratio of the {how}s", r["source"]))
            continue
        twin = float(draws[r["method"]].mean())
        out.append(check("check-in", f"{r['trial']}: {r['method']} mean", pub, twin, "s", TOL_TRIAL, how, r["source"]))
    return out


def evacuation_checks(fits: Fits) -> list[Check]:
    """Kumamoto's peak share, Noto's one-month decline and both peak times, from the fitted curve."""
    curve, obs = fits.params.evacuation, fits.evacuation.observations
    kum = obs.filter(pl.col("event") == "kumamoto_2016").row(0, named=True)
    noto = {r["observation"]: r for r in obs.filter(pl.col("event") == "noto_2024").iter_rows(named=True)}
    share = kum["evacuees"] / kum["area_population"]
    ratio = noto["one_month"]["evacuees"] / noto["peak"]["evacuees"]
    twin_ratio = float(curve.present_share(noto["one_month"]["hours"]) / curve.present_share(noto["peak"]["hours"]))
    how = "the fitted curve's present_share()"
    return [
        check("evacuation", "Kumamoto 2016: share of the prefecture in shelters at the peak",
              Published(share, share), float(curve.present_share(kum["hours"])), "share", TOL_EVAC, how,
              kum["source"]),
        check("evacuation", "Noto 2024: 1 Feb (Ishikawa) / 2 Jan 5:00 (all prefectures)",
              Published(ratio, ratio), twin_ratio, "ratio", TOL_EVAC, how, noto["one_month"]["source"]),
        *(check("evacuation", f"{r['event']}: hours from the shock to the peak",
                Published(r["hours"], r["hours"]), curve.time_to_peak_h, "h", TOL_PEAK_TIME,
                "the fitted time_to_peak_h (one curve for both events)", r["source"])
          for r in (kum, noto["peak"])),
    ]


def kiosk_checks(fits: Fits) -> list[Check]:
    """National convenience-store volumes: requests x the fitted kiosk share at that year's ownership."""
    kiosk, out = fits.params.kiosk, []
    for r in fits.kiosk.volumes.iter_rows(named=True):
        twin = fits.kiosk.national_requests * float(kiosk.share_of_demand(r["ownership"]))
        pub = Published(r["certificates"], None if r["bound"] == "lower" else r["certificates"])
        out.append(check("kiosk", f"FY{r['fiscal_year']}: convenience-store certificates", pub, twin, "certificates",
                         TOL_VOLUME, f"national requests x share_of_demand({r['ownership']:.2f})", r["source"]))
    return out


def validation_table(fits: Fits, seed: int = 0, scenarios: bool = True) -> list[Check]:
    """Every validation row, in a fixed order, from one seed."""
    from calibration import validate_city, validate_peaks, validate_scenarios

    rng = np.random.default_rng(seed)
    rows = [*checkin_checks(fits.params, rng), *evacuation_checks(fits), *kiosk_checks(fits)]
    rows += [*validate_peaks.calendar_checks(fits.params, rng), *validate_peaks.hour_checks(fits.params, rng)]
    rows += validate_peaks.counter_guide_checks(fits.params, rng)
    if scenarios:
        rows += validate_peaks.queueing_checks(seed)
    rows += [*validate_city.ownership_checks(seed), *validate_city.structure_checks(seed=seed)]
    if scenarios:
        rows += validate_scenarios.scenario_checks(fits.params, seed)
    return rows


def frame(rows: list[Check]) -> pl.DataFrame:
    """The validation table as a polars frame."""
    return pl.DataFrame([r.to_dict() for r in rows], infer_schema_length=None)


def _fmt(x: float | None, unit: str) -> str:
    """A twin value for the text table."""
    return "-" if x is None else f"{number(x)} {unit}".strip()


def table_text(rows: list[Check]) -> str:
    """The validation table as aligned text with a closing tally."""
    head = ("area", "figure", "published", "twin", "error", "tol", "verdict")
    body = [(r.area, r.figure, r.published, _fmt(r.twin, r.unit),
             "-" if r.rel_error is None else f"{r.rel_error:+.1%}", f"{r.tolerance:.0%}", r.verdict.upper())
            for r in rows]
    widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in [head, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    tally = tally_of(rows)
    lines.append(f"\n{tally['pass']} pass, {tally['fail']} fail, {tally['cannot reproduce']} cannot reproduce "
                 f"(of {len(rows)} published figures)")
    return "\n".join(lines)


def tally_of(rows: list[Check]) -> dict[str, int]:
    """How many rows pass, fail, or cannot be reproduced."""
    out = {"pass": 0, "fail": 0, "cannot reproduce": 0}
    for r in rows:
        out[r.verdict] += 1
    return out
