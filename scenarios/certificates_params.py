"""Parameters of the peak certificate-demand scenario: calibrated demand, design fields, assumptions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from scenarios.params import ScenarioParams, param
from twin.card_mac import KEY_MODES
from twin.errors import ValidationError

ASSUMED = " (assumption, unverified)"
CERT_TYPES = ("residence_record", "residence_record_items", "seal_registration",
              "tax_certificate", "family_register", "family_register_attachment")


@dataclass(frozen=True)
class CertificatesParams(ScenarioParams):
    """Parameters of the peak certificate-demand scenario."""

    scenario = "certificates"
    start_date: str = param("2026-03-30", unit="JST date", doc="first day simulated (default: "
                            "the Monday of the peak moving-season week)")
    days: int = param(7, unit="days", doc="days simulated", lo=1, hi=366)
    requests_per_resident_per_year: float = param(1.0, unit="certificates", doc="certificates "
                                                  "per resident per year (calibrated)", lo=0.0)
    demand_share: float = param(1.0, unit="share", doc="share of the whole city's demand "
                                "simulated (below 1 for quick looks: cut the counter windows "
                                "too, or the queues are too short)", lo=1e-6, hi=1.0)
    copies_mean: float = param(1.5, unit="certificates/visit", doc="certificates asked for in "
                               "one visit" + ASSUMED, lo=1.0, hi=10.0)
    type_mix: tuple[float, ...] = param((0.45, 0.05, 0.15, 0.20, 0.12, 0.03), unit="shares",
                                        doc="residence record, items, seal, tax, family register, "
                                        "attachment" + ASSUMED, lo=0.0)
    ward_office_share: float = param(0.35, unit="share", doc="counter visits made at the ward "
                                     "office (the rest go to branch offices, not simulated)"
                                     + ASSUMED, lo=0.0, hi=1.0)
    card_ownership: float = param(0.0, unit="share", doc="card holders among residents (0: the "
                                  "city's own rate); extra cards go to random non-holders",
                                  lo=0.0, hi=0.99)
    kiosk_holder_probability: float = param(0.0, unit="probability", doc="chance a card "
                                            "holder's visit goes to a kiosk at equal fees and store "
                                            "density (0: calibrated to national volumes at the "
                                            "city's card ownership)", lo=0.0, hi=1.0)
    fee_odds_per_100_yen: float = param(1.3, unit="odds ratio", doc="kiosk odds multiplier per "
                                        "¥100 the kiosk is cheaper than the counter" + ASSUMED,
                                        lo=0.1)
    distance_scale_km: float = param(2.0, unit="km", doc="a kiosk 2 km nearer than the nearest "
                                     "store multiplies the kiosk odds by e" + ASSUMED, lo=0.01)
    kiosk_line_tolerance: int = param(2, unit="people", doc="a kiosk user who finds this many "
                                      "waiting walks on to the next kiosk" + ASSUMED, lo=1)
    pin_mistype_probability: float = param(0.05, unit="probability", doc="an entered PIN is "
                                           "wrong" + ASSUMED, lo=0.0, hi=1.0)
    kiosk_service_mean_s: float = param(180.0, unit="s", doc="one kiosk transaction (calibrated)",
                                        lo=1.0)
    counter_service_mean_s: float = param(360.0, unit="s", doc="one counter visit at a window "
                                          "(calibrated: Sakai guide, 2 min per person ahead)",
                                          lo=1.0)
    service_sigma: float = param(0.5, unit="log-sd", doc="spread of service times", lo=0.0, hi=3.0)
    counter_open_hour: float = param(8.5, unit="hour", doc="counters open (calibrated)", lo=0.0,
                                     hi=24.0)
    counter_close_hour: float = param(17.25, unit="hour", doc="counters close", lo=0.0, hi=24.0)
    counter_windows_per_ward: int = param(4, unit="windows", doc="staffed windows at each ward "
                                          "office (design)", lo=1, hi=100)
    counter_patience_min: float = param(120.0, unit="min", doc="median time a visitor waits "
                                        "before leaving the line" + ASSUMED, lo=1.0)
    balk_expected_wait_min: float = param(180.0, unit="min", doc="visitors who see a longer "
                                          "expected wait leave at once" + ASSUMED, lo=0.0)
    max_visits: int = param(3, unit="visits", doc="tries before a resident gives up" + ASSUMED,
                            lo=1, hi=10)
    kiosks_enabled: bool = param(True, unit="", doc="kiosk issuance exists (design: "
                                 "certificates.enabled)")
    store_kiosks: bool = param(True, unit="", doc="kiosks in convenience stores (design)")
    public_kiosks_per_ward: int = param(0, unit="kiosks", doc="kiosks in public buildings per "
                                        "ward (design)", lo=0, hi=100)
    kiosk_open_hour: float = param(6.5, unit="hour", doc="kiosks open (design; FACTS.md 6:30)",
                                   lo=0.0, hi=24.0)
    kiosk_close_hour: float = param(23.0, unit="hour", doc="kiosks close (design; 23:00)", lo=0.0,
                                    hi=24.0)
    kiosk_certificate_types: tuple[str, ...] = param(CERT_TYPES, unit="", doc="certificate "
                                                     "types offered at kiosks (design)",
                                                     choices=CERT_TYPES)
    family_register_weekdays_only: bool = param(True, unit="", doc="family-register "
                                                "certificates at kiosks on weekdays 9-17 (design)")
    kiosk_fee_yen: int = param(300, unit="yen", doc="fee at a kiosk (design)", lo=0)
    counter_fee_yen: int = param(300, unit="yen", doc="fee at a counter (design)", lo=0)
    kiosk_cost_per_certificate_yen: float = param(300.0, unit="yen", doc="city's cost of a "
                                                  "kiosk certificate (design)", lo=0.0)
    counter_cost_per_certificate_yen: float = param(900.0, unit="yen", doc="city's cost of a "
                                                    "counter certificate (design; Soka FY2020)",
                                                    lo=0.0)
    public_kiosk_upkeep_yen_per_year: float = param(600_000.0, unit="yen/year", doc="upkeep of "
                                                    "one public kiosk (design)", lo=0.0)
    attachment_share: float = param(0.10, unit="share", doc="certificates that are attachments "
                                    "to city applications" + ASSUMED, lo=0.0, hi=1.0)
    held_elsewhere_share: float = param(0.2, unit="share", doc="applicants whose data another "
                                        "authority holds (moved in this year)" + ASSUMED,
                                        lo=0.0, hi=1.0)
    linkage_internal_tasks: tuple[str, ...] = param((), unit="", doc="applications whose "
                                                    "attachments linkage replaces inside the city "
                                                    "(design, when linkage is enabled)")
    linkage_external_tasks: tuple[str, ...] = param((), unit="", doc="the same with other "
                                                    "authorities (design)")
    kiosk_p_network_down: float = param(0.002, unit="probability", doc="a kiosk request cannot "
                                        "reach the issuance server" + ASSUMED, lo=0.0, hi=1.0)
    kiosk_p_paper_out: float = param(0.001, unit="probability", doc="a print runs out of paper"
                                     + ASSUMED, lo=0.0, hi=1.0)
    paper_refill_h: float = param(2.0, unit="h", doc="time until staff refill a kiosk"
                                  + ASSUMED, lo=0.0)
    key_mode: str = param("hmac", unit="", doc="card keys of the simulated cards: hmac (a "
                          "per-card secret, every rule kept, fastest), ed25519, p256 or rsa2048 (the "
                          "real card's, slowest); outcomes are identical in every mode",
                          choices=KEY_MODES)
    engine: str = param("fast", unit="", doc="simulation engine: 'fast' (a lean event loop with "
                        "Kiefer-Wolfowitz service points, same outcomes) or 'simpy' (the reference)",
                        choices=("fast", "simpy"))
    series_step_min: float = param(30.0, unit="min", doc="time-series step", lo=1.0)

    def validate(self) -> None:
        """Dates parse, hours order, the type mix has six shares."""
        start_day(self.start_date)
        if len(self.type_mix) != len(CERT_TYPES) or sum(self.type_mix) <= 0:
            raise ValidationError(f"parameter 'type_mix' needs {len(CERT_TYPES)} shares with a "
                                  f"positive sum ({', '.join(CERT_TYPES)}), got {list(self.type_mix)}")
        for what in ("counter", "kiosk"):
            if getattr(self, f"{what}_open_hour") >= getattr(self, f"{what}_close_hour"):
                raise ValidationError(f"{what}_open_hour must be before {what}_close_hour")

    @classmethod
    def calibrated(cls) -> dict[str, Any]:
        """Demand rate, kiosk preference, service times and office hours from calibration/."""
        from calibration.params import fitted

        f = fitted()
        return {"requests_per_resident_per_year": f.demand.requests_per_resident_per_year,
                "kiosk_service_mean_s": f.kiosk.service_time.mean_s,
                "counter_service_mean_s": f.counter.service_time.mean_s,
                "service_sigma": f.counter.service_time.sigma,
                "counter_open_hour": f.counter.open_hour, "counter_close_hour": f.counter.close_hour}

    @classmethod
    def from_design(cls, design: Any) -> dict[str, Any]:
        """Kiosks, fees, windows, costs and linkage tasks from the design."""
        if design is None:
            return {}
        c, link, costs = design.certificates, design.linkage, design.costs
        return {"design": design.name, "kiosks_enabled": c.enabled,
                "store_kiosks": c.store_kiosks, "public_kiosks_per_ward": c.public_kiosks_per_ward,
                "kiosk_certificate_types": c.kiosk_certificate_types,
                "kiosk_open_hour": c.kiosk_open_hour, "kiosk_close_hour": c.kiosk_close_hour,
                "family_register_weekdays_only": c.family_register_weekdays_only,
                "kiosk_fee_yen": c.kiosk_fee_yen, "counter_fee_yen": c.counter_fee_yen,
                "counter_windows_per_ward": max(c.counter_windows_per_ward, 1),
                "kiosk_cost_per_certificate_yen": c.kiosk_cost_per_certificate_yen,
                "counter_cost_per_certificate_yen": c.counter_cost_per_certificate_yen,
                "public_kiosk_upkeep_yen_per_year": float(costs.kiosk_upkeep_yen_per_year),
                "linkage_internal_tasks": link.internal_tasks if link.enabled else (),
                "linkage_external_tasks": link.external_tasks if link.enabled else ()}


def start_day(text: str) -> dt.date:
    """The scenario's first day from 'YYYY-MM-DD'."""
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValidationError(f"parameter 'start_date' must look like 2026-03-30, got {text!r}") from None
