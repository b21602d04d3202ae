"""Fitted parameters (較正済みパラメータ) that the scenarios read by default.

`fitted()` loads `calibration/fitted/params.json`, which `run.py calibrate` writes from the
data in `calibration/data/` (every figure there has a source). Imports only numpy and the
standard library, so scenarios, actors and the dashboard can read it cheaply.

Keys of `FittedParams` (times in SECONDS unless the name says otherwise):

- `checkin`: mapping method -> `ServiceTime`, the time one person takes at a shelter desk.
  Methods: `card_tap` (My Number card on a reader), `paper_form` (handwritten form),
  `qr_web_form` (QR code to a web form on the evacuee's phone), `smartphone_app` (the card
  app on a phone). Fitted to the published trials (Odawara 2023, Kanagawa 2024, Kishiwada
  2025, Munakata, Kanazawa 2025); `ServiceTime.sources` names the trials used.
- `face_check`: `ServiceTime` of a face-photo identity check plus interview for a person
  without any ID (assumption: no published figure; `status == "assumption"`).
- `evacuation`: `EvacuationCurve` — `peak_share` (share of the population in shelters at the
  peak; Kumamoto 2016), `time_to_peak_h` (hours from the main shock to the peak; Kumamoto
  2016 and Noto 2024), `decline_per_day` (exponential decline rate of the shelter population
  after the peak, per day; Noto 2024), `rise_shape` (Weibull shape of the arrival times
  before the peak; assumption). `present_share(hours)` gives the curve;
  `sample_arrival_hours(rng, n)` draws arrival times (hours after the shock).
- `counter`: `CounterService` — `minutes_per_person_ahead` (Sakai Naka ward guide: about
  2 min per person ahead of you), `reference_windows` (staffed certificate windows per ward,
  assumption), `service_time` (one window's `ServiceTime` per request, mean =
  minutes_per_person_ahead x reference_windows; `service_time_for(windows)` rescales),
  `cost_yen_per_certificate` (Soka City FY2020 about ¥900, consultant ¥889),
  `open_hour` / `close_hour` (office hours, assumption 8:30-17:15).
- `kiosk`: `KioskService` — `service_time` (`ServiceTime` of one kiosk transaction;
  assumption), `share_scale` and `share_exponent` of the kiosk share of certificate demand,
  share = min(ownership, share_scale x ownership ** share_exponent), fitted to the national
  convenience-store volumes by fiscal year against card ownership; `share_of_demand(own)`,
  `holder_probability(own)` (chance a card holder uses a kiosk); `open_hour` / `close_hour`
  (6:30-23:00) and `closed_month_days` (29 Dec - 3 Jan).
- `demand`: `DemandProfile` — `requests_per_resident_per_year` (kiosk-eligible certificate
  requests, assumption), `day_of_week` (7 multipliers, Monday first, mean over weekdays 1),
  `peak_hour_centre` / `peak_hour_sd` (time-of-day bump, fitted to 11-14h Kobe/Fukuyama
  and 12-14h Sakai), `hour_base` (floor of the hourly weight), `season_peak_factor`,
  `season_peak_day` (day of year), `season_width_before_days` / `season_width_after_days`
  (the March-April moving-season bump; fitted to Ishigaki's 1-2 April peak and the
  mid-March-to-early-April guides), `tax_season_factor` (June-mid-July, assumption).
  `daily_factor(day_of_year, weekday)` and `hourly_weights(hours)` evaluate it.
- `sources`: mapping of every figure name used to its source text.
- `fitted_with`: library and versions used (e.g. "scipy 1.14.1").
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from calibration.quantities import (
    CounterService,
    DemandProfile,
    EvacuationCurve,
    KioskService,
    ServiceTime,
    check_keys,
)
from twin.errors import ValidationError

PARAMS_PATH = Path(__file__).resolve().parent / "fitted" / "params.json"
CHECKIN_METHODS = ("card_tap", "paper_form", "qr_web_form", "smartphone_app")

@dataclass(frozen=True, slots=True)
class FittedParams:
    """Every fitted parameter the scenarios use (see the module docstring for each key)."""

    checkin: Mapping[str, ServiceTime]
    face_check: ServiceTime
    evacuation: EvacuationCurve
    counter: CounterService
    kiosk: KioskService
    demand: DemandProfile
    sources: Mapping[str, str] = field(default_factory=dict)
    fitted_with: str = ""

    def __post_init__(self) -> None:
        missing = sorted(set(CHECKIN_METHODS) - set(self.checkin))
        extra = sorted(set(self.checkin) - set(CHECKIN_METHODS))
        if missing or extra:
            raise ValidationError(f"checkin methods: missing {missing}, unknown {extra}; expected {list(CHECKIN_METHODS)}")
        object.__setattr__(self, "checkin", MappingProxyType(dict(self.checkin)))
        object.__setattr__(self, "sources", MappingProxyType(dict(self.sources)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready nested dict (the layout of params.json)."""
        return {
            "checkin": {k: v.to_dict() for k, v in self.checkin.items()},
            "face_check": self.face_check.to_dict(),
            "evacuation": self.evacuation.to_dict(),
            "counter": self.counter.to_dict(),
            "kiosk": self.kiosk.to_dict(),
            "demand": self.demand.to_dict(),
            "sources": dict(self.sources),
            "fitted_with": self.fitted_with,
        }


def _build(cls: type, data: Mapping[str, Any], **nested: Any) -> Any:
    """Construct a dataclass from a dict, refusing unknown keys."""
    d = {**data, **nested}
    check_keys(cls, d)
    if "sources" in d and isinstance(d["sources"], list):
        d["sources"] = tuple(d["sources"])
    return cls(**d)


def params_from_dict(data: Mapping[str, Any]) -> FittedParams:
    """Build `FittedParams` from the params.json layout; unknown keys are errors."""
    check_keys(FittedParams, data)
    try:
        return FittedParams(
            checkin={k: ServiceTime.from_dict(v) for k, v in data["checkin"].items()},
            face_check=ServiceTime.from_dict(data["face_check"]),
            evacuation=_build(EvacuationCurve, data["evacuation"]),
            counter=_build(CounterService, data["counter"], service_time=ServiceTime.from_dict(data["counter"]["service_time"])),
            kiosk=_build(KioskService, data["kiosk"], service_time=ServiceTime.from_dict(data["kiosk"]["service_time"])),
            demand=_build(DemandProfile, data["demand"]),
            sources=data.get("sources", {}),
            fitted_with=data.get("fitted_with", ""),
        )
    except (TypeError, AttributeError) as exc:
        raise ValidationError(f"malformed fitted parameters: {exc}") from exc


def load_params(path: str | Path) -> FittedParams:
    """Read a params.json written by `run.py calibrate`."""
    p = Path(path)
    if not p.is_file():
        raise ValidationError(f"no fitted parameters at {p}; run `run.py calibrate --output {p}`")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{p} is not valid JSON: {exc}") from exc
    return params_from_dict(data)


_USING: ContextVar[FittedParams | None] = ContextVar("fitted_params_in_use", default=None)


@cache
def _committed() -> FittedParams:
    """The committed fitted parameters (calibration/fitted/params.json), read once."""
    return load_params(PARAMS_PATH)


def fitted() -> FittedParams:
    """The committed fitted parameters, or the ones a `using` block put in place."""
    return _USING.get() or _committed()


@contextmanager
def using(params: FittedParams) -> Iterator[FittedParams]:
    """Run the block (this thread or task only) with `params` in place of the committed ones."""
    token = _USING.set(params)
    try:
        yield params
    finally:
        _USING.reset(token)
