"""Parameters of the disaster check-in scenario: calibrated figures, design fields, assumptions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scenarios.params import ScenarioParams, param, parse_jst
from twin.errors import ValidationError

ASSUMED = " (assumption, unverified)"


@dataclass(frozen=True)
class DisasterParams(ScenarioParams):
    """Parameters of the disaster check-in scenario."""

    scenario = "disaster"
    quake_jst: str = param("2016-04-16T01:25", unit="JST", doc="time of the main shock "
                           "(default: the 2016 Kumamoto main shock)")
    horizon_h: float = param(48.0, unit="h", doc="simulated time after the quake", lo=1.0,
                             hi=24 * 30.0)
    evacuation_share: float = param(0.10, unit="share", doc="share of residents in shelters at "
                                    "the peak (Kumamoto 2016: about 10 %)", lo=1e-6, hi=1.0)
    time_to_peak_h: float = param(20.0, unit="h", doc="hours from the quake to the shelter "
                                  "peak (calibrated: Kumamoto 2016, Noto 2024)", lo=0.1)
    rise_shape: float = param(2.0, unit="", doc="Weibull shape of arrival times" + ASSUMED, lo=0.1)
    stay_decline_per_day: float = param(0.05, unit="1/day", doc="rate at which evacuees leave "
                                        "(calibrated: Noto 2024 decline)", lo=0.0, hi=10.0)
    household_together_share: float = param(0.6, unit="share", doc="households whose members "
                                            "arrive together" + ASSUMED, lo=0.0, hi=1.0)
    apart_distance_km: float = param(3.0, unit="km", doc="spread of where apart members start "
                                     "from (work, school)" + ASSUMED, lo=0.0)
    shelter_choice_decay_km: float = param(1.0, unit="km", doc="distance decay of the choice "
                                           "among the 3 nearest shelters" + ASSUMED, lo=0.01)
    shelter_capacity: int = param(0, unit="people", doc="places per shelter (0: each shelter's "
                                  "own capacity in the city's facilities)", lo=0)
    walk_speed_kmh: float = param(3.0, unit="km/h", doc="speed of a redirected group walking to "
                                  "the next shelter" + ASSUMED, lo=0.1)
    card_carried_share: float = param(0.8, unit="share", doc="card holders who have the card "
                                      "with them" + ASSUMED, lo=0.0, hi=1.0)
    no_id_share: float = param(0.03, unit="share", doc="evacuees who lost every ID" + ASSUMED,
                               lo=0.0, hi=1.0)
    readers_per_shelter: int = param(0, unit="readers", doc="card readers per shelter (design: "
                                     "safety.readers_per_shelter when enabled)", lo=0, hi=100)
    paper_staff_per_shelter: int = param(2, unit="staff", doc="staff taking paper forms per "
                                         "shelter (design)", lo=1, hi=100)
    staff_per_reader: float = param(0.5, unit="staff", doc="staff per reader desk (one "
                                    "supervises two self-service readers)" + ASSUMED, lo=0.0)
    card_tap_mean_s: float = param(21.1, unit="s", doc="mean check-in by card (calibrated to "
                                   "the trials: Odawara, Kanagawa, Kishiwada, Munakata)", lo=0.1)
    paper_form_mean_s: float = param(184.0, unit="s", doc="mean check-in by paper form "
                                     "(calibrated to the same trials)", lo=0.1)
    checkin_sigma: float = param(0.5, unit="log-sd", doc="lognormal spread of check-in times "
                                 "(calibrated)", lo=0.0, hi=3.0)
    face_check_enabled: bool = param(False, unit="", doc="people without ID get a face-photo "
                                     "check (design: faceid.enabled)")
    face_check_mean_s: float = param(600.0, unit="s", doc="mean face check plus interview "
                                     "(design: faceid.interview_min)", lo=1.0)
    face_checkers_per_ward: int = param(2, unit="staff", doc="face-check staff per ward "
                                        "(design)", lo=0, hi=100)
    false_accept_rate: float = param(0.001, unit="probability", doc="face matcher (design)",
                                     lo=1e-9, hi=0.5)
    false_reject_rate: float = param(0.03, unit="probability", doc="face matcher (design)",
                                     lo=1e-9, hi=0.5)
    family_lookup: bool = param(False, unit="", doc="household members can look each other up "
                                "in the shelter system (design: safety.family_lookup)")
    lookup_retry_min: float = param(60.0, unit="min", doc="first wait before a family looks up "
                                    "again (then x1.5 each time, at most 6 h)" + ASSUMED, lo=1.0)
    hq_report_interval_min: float = param(180.0, unit="min", doc="head-count reports to the HQ: "
                                          "by the system (design) or by phone (assumption: 3 h)",
                                          lo=1.0)
    reader_offline_probability: float = param(0.05, unit="probability", doc="chance a shelter's "
                                              "readers lose the network (design)", lo=0.0, hi=1.0)
    reader_outage_mean_min: float = param(30.0, unit="min", doc="mean outage (design)", lo=0.0)
    paper_entry_forms_per_hour: float = param(30.0, unit="forms/h per shelter", doc="staff "
                                              "transcribing paper forms into the system"
                                              + ASSUMED, lo=0.0)
    paper_entry_interval_min: float = param(60.0, unit="min", doc="how often transcribed forms "
                                            "are entered" + ASSUMED, lo=1.0)
    paper_wrong_resident_rate: float = param(0.02, unit="probability", doc="a transcribed form "
                                             "names another resident" + ASSUMED, lo=0.0, hi=1.0)
    paper_unreadable_rate: float = param(0.01, unit="probability", doc="a transcribed form "
                                         "matches nobody" + ASSUMED, lo=0.0, hi=1.0)
    paper_checkout_share: float = param(0.5, unit="share", doc="departures of paper-registered "
                                        "evacuees that the desk records" + ASSUMED, lo=0.0, hi=1.0)
    staff_hour_yen: float = param(3000.0, unit="yen/h", doc="cost of a staff hour (design)", lo=0)
    card_reader_yen: float = param(30000.0, unit="yen", doc="cost of one reader (design)", lo=0)
    series_step_min: float = param(15.0, unit="min", doc="time-series step", lo=1.0)
    engine: str = param("fast", unit="", doc="simulation engine: 'fast' (queue recursions, "
                        "same outcomes) or 'simpy' (the reference)", choices=("fast", "simpy"))

    def validate(self) -> None:
        """The quake time parses; the series fits the horizon; face checks have staff."""
        parse_jst(self.quake_jst, "quake_jst")
        if self.series_step_min > self.horizon_h * 60:
            raise ValidationError("series_step_min must not exceed the horizon")
        if self.face_check_enabled and self.face_checkers_per_ward < 1:
            raise ValidationError("face_check_enabled needs face_checkers_per_ward >= 1: people without "
                                  "ID would have no desk (set face_check_enabled to false for none)")

    @classmethod
    def calibrated(cls) -> dict[str, Any]:
        """Check-in times, face check and the evacuation curve from calibration/fitted."""
        from calibration.params import fitted

        f = fitted()
        ev = f.evacuation
        return {"card_tap_mean_s": f.checkin["card_tap"].mean_s,
                "paper_form_mean_s": f.checkin["paper_form"].mean_s,
                "checkin_sigma": f.checkin["card_tap"].sigma,
                "face_check_mean_s": f.face_check.mean_s,
                "evacuation_share": ev.peak_share, "time_to_peak_h": ev.time_to_peak_h,
                "rise_shape": ev.rise_shape, "stay_decline_per_day": ev.decline_per_day}

    @classmethod
    def from_design(cls, design: Any) -> dict[str, Any]:
        """Readers, staff, reports, outages, look-ups, face checks and costs from the design."""
        if design is None:
            return {}
        s, f, c = design.safety, design.faceid, design.costs
        out = {"design": design.name, "paper_staff_per_shelter": s.paper_form_staff_per_shelter,
               "staff_hour_yen": float(c.staff_hour_yen),
               "card_reader_yen": float(c.card_reader_yen), "face_check_enabled": f.enabled,
               "readers_per_shelter": s.readers_per_shelter if s.enabled else 0,
               "family_lookup": bool(s.enabled and s.family_lookup)}
        if s.enabled:
            out |= {"hq_report_interval_min": s.hq_report_interval_min,
                    "reader_offline_probability": s.reader_offline_probability,
                    "reader_outage_mean_min": s.reader_outage_mean_min}
        if f.enabled:
            out |= {"face_checkers_per_ward": f.checkers_per_ward,
                    "face_check_mean_s": f.interview_min * 60.0 or cls.calibrated()["face_check_mean_s"],
                    "false_accept_rate": f.false_accept_rate,
                    "false_reject_rate": f.false_reject_rate}
        return out
