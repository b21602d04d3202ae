"""The nine service sections of a rollout design, and the table of every section by key.

The plan-level sections (rollout, costs, dependencies) and the `Section` base that checks every
field are in `twin.design_sections`; keys follow SERVICES.md: onecard, linkage, certificates,
vitals, portal, business, safety, payments, faceid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from twin.design_schema import (
    Problem,
    choice,
    choices,
    count,
    flag,
    real,
)
from twin.design_sections import (
    ASSUMED,
    CERTIFICATE_TYPES,
    FEE_TYPES,
    ONECARD_APPS,
    SOKA_COUNTER_COST,
    Costs,
    Dependencies,
    Rollout,
    Section,
    enabled_field,
    linkage_task_catalogue,
    phase_field,
)


@dataclass(frozen=True)
class Safety(Section):
    """Card-tap safety confirmation (カードによる安否確認): shelter check-in and child watch."""

    KEY: ClassVar[str] = "safety"
    enabled: bool = enabled_field()
    phase: int = phase_field()
    readers_per_shelter: int = count(2, 0, 100, "readers per shelter", "card readers at each shelter desk")
    paper_form_staff_per_shelter: int = count(2, 0, 100, "staff per shelter", "staff taking paper forms (the path for residents without a card)")
    check_in_key: str = choice("card_serial", ("card_serial", "card_face", "my_number"), "what a tap records: the card serial number, the card's 4 basic items, or the My Number (refused by the review)")
    hq_report_interval_min: float = real(60.0, 1.0, 1440.0, "minutes", "interval between head-count reports from each shelter to the disaster HQ")
    reader_offline_probability: float = real(0.05, 0.0, 1.0, "probability 0-1", "chance that a reader loses the network during the event")
    reader_outage_mean_min: float = real(30.0, 0.0, 1440.0, "minutes", "mean duration of one reader outage (taps are queued meanwhile)")
    family_lookup: bool = flag(True, "household members may look up where the others checked in")
    child_watch: bool = flag(False, "readers at schools and cram schools notify guardians of a child's tap")
    child_watch_guardian_consent: bool = flag(True, "only children whose guardian consented are tracked")
    child_watch_notify_within_s: float = real(60.0, 1.0, 3600.0, "seconds", "deadline for the guardian's notice after a tap")
    child_watch_retention_days: int = count(30, 1, 3650, "days", "how long child-watch taps are kept")


@dataclass(frozen=True)
class Certificates(Section):
    """Convenience-store and kiosk issuance (コンビニ交付・キオスク端末) next to ward counters."""

    KEY: ClassVar[str] = "certificates"
    enabled: bool = enabled_field()
    phase: int = phase_field()
    auth_method: str = choice("jpki", ("jpki", "ordinance_app"), "jpki: the card's user certificate (公的個人認証方式); ordinance_app: a free-area app set by ordinance (条例利用方式)")
    store_kiosks: bool = flag(True, "issuance at convenience-store kiosks")
    public_kiosks_per_ward: int = count(0, 0, 100, "kiosks per ward", "kiosks in public buildings of each ward")
    kiosk_open_hour: float = real(6.5, 0.0, 24.0, "hour of day (JST)", "kiosk opening time, 6.5 = 6:30", "FACTS.md: 6:30-23:00 daily")
    kiosk_close_hour: float = real(23.0, 0.0, 24.0, "hour of day (JST)", "kiosk closing time", "FACTS.md: 6:30-23:00 daily")
    kiosk_closed_new_year: bool = flag(True, "kiosks closed 29 Dec - 3 Jan")
    kiosk_certificate_types: tuple[str, ...] = choices(CERTIFICATE_TYPES, CERTIFICATE_TYPES, "certificate types offered at kiosks")
    family_register_weekdays_only: bool = flag(True, "family-register certificates at kiosks on weekdays 9:00-17:00 only")
    kiosk_fee_yen: int = count(200, 0, 10_000, "yen per certificate", "fee at a kiosk", "FACTS.md: typically ¥200-300")
    counter_fee_yen: int = count(300, 0, 10_000, "yen per certificate", "fee at a counter", "FACTS.md: kiosk often ¥50-150 below the counter")
    counter_windows_per_ward: int = count(4, 0, 100, "windows per ward", "staffed certificate windows at each ward office (the path for residents without a card)")
    kiosk_cost_per_certificate_yen: float = real(300.0, 0.0, 100_000.0, "yen per certificate", "city's cost of one kiosk-issued certificate (store commission, issuance server, J-LIS)", ASSUMED)
    counter_cost_per_certificate_yen: float = real(900.0, 0.0, 100_000.0, "yen per certificate", "city's cost of one counter-issued certificate", SOKA_COUNTER_COST)

    def cross_problems(self) -> list[Problem]:
        """Kiosks open before they close; an enabled service has some kiosk."""
        out = []
        if self.kiosk_open_hour >= self.kiosk_close_hour:
            out.append(Problem("certificates.kiosk_close_hour", f"expected an hour after kiosk_open_hour ({self.kiosk_open_hour}), got {self.kiosk_close_hour}"))
        if self.enabled and not self.store_kiosks and self.public_kiosks_per_ward == 0:
            out.append(Problem("certificates.public_kiosks_per_ward", "expected at least 1 kiosk per ward when store_kiosks is false and the service is enabled, got 0"))
        if self.enabled and not self.kiosk_certificate_types:
            out.append(Problem("certificates.kiosk_certificate_types", "expected at least one certificate type when the service is enabled, got []"))
        return out


@dataclass(frozen=True)
class OneCard(Section):
    """One-card (ワンカード化): city cards become apps in the chip's free area."""

    KEY: ClassVar[str] = "onecard"
    enabled: bool = enabled_field()
    phase: int = phase_field()
    apps: tuple[str, ...] = choices(("library", "seal", "facility"), ONECARD_APPS, "municipal apps installed in the card chip's free area (空き領域)")
    keep_old_cards: bool = flag(True, "old city cards keep working (the path for residents without a card)")
    face_sticker: bool = flag(True, "a sticker on the card face shows app data (e.g. the library number)")
    use_jlis_app_system: bool = flag(True, "install/remove apps through the system J-LIS provides (fees to J-LIS apply)")

    def cross_problems(self) -> list[Problem]:
        """An enabled one-card puts at least one app in the free area."""
        if self.enabled and not self.apps:
            return [Problem("onecard.apps", "expected at least one app when the service is enabled, got []")]
        return []


@dataclass(frozen=True)
class Linkage(Section):
    """Linkage without attachments (情報連携による添付書類の省略): internal (庁内) and external (庁外)."""

    KEY: ClassVar[str] = "linkage"
    enabled: bool = enabled_field()
    phase: int = phase_field()
    internal_tasks: tuple[str, ...] = choices(("child_allowance", "nursery_admission", "school_aid"), tuple(linkage_task_catalogue()), "tasks whose attachments are replaced by exchanges inside the city (庁内連携)")
    external_tasks: tuple[str, ...] = choices((), tuple(linkage_task_catalogue()), "tasks exchanging with other authorities (庁外連携)")

    def cross_problems(self) -> list[Problem]:
        """An enabled linkage names at least one task."""
        if self.enabled and not (self.internal_tasks or self.external_tasks):
            return [Problem("linkage.internal_tasks", "expected at least one task in internal_tasks or external_tasks when the service is enabled, got none")]
        return []


@dataclass(frozen=True)
class Vitals(Section):
    """Vital records (バイタル情報参照): e-maternal and e-medication handbooks."""

    KEY: ClassVar[str] = "vitals"
    enabled: bool = enabled_field()
    phase: int = phase_field()
    records: tuple[str, ...] = choices(("maternal", "medication"), ("maternal", "medication"), "handbooks residents can read with their card")
    link_key: str = choice("card", ("card", "my_number"), "what links a resident to the records: an access key on the card, or the My Number (refused by the review)")
    clinic_consent_required: bool = flag(True, "clinics read records only with the holder's recorded consent")
    break_glass: bool = flag(True, "registered emergency services may read without consent, logged and notified")
    keep_paper_handbooks: bool = flag(True, "paper handbooks stay (the path for residents without a card)")

    def cross_problems(self) -> list[Problem]:
        """An enabled service offers at least one handbook."""
        if self.enabled and not self.records:
            return [Problem("vitals.records", "expected at least one record type when the service is enabled, got []")]
        return []


@dataclass(frozen=True)
class Portal(Section):
    """Portal e-procedures (マイナポータルによる電子手続)."""

    KEY: ClassVar[str] = "portal"
    enabled: bool = enabled_field()
    phase: int = phase_field()
    mailbox: bool = flag(True, "e-mailbox (電子私書箱) for notices from the city")
    push_notices: bool = flag(True, "push notices when a resident becomes eligible for a benefit (プッシュ型)")
    e_applications: bool = flag(True, "applications filed online")
    e_applications_use_linkage: bool = flag(True, "online applications fetch attachments through linkage (needs linkage enabled)")
    e_payment: bool = flag(True, "fees paid online through the ledger")
    keep_counter_procedures: bool = flag(True, "the same procedures stay open at counters and on paper (the path for residents without a card or a device)")


@dataclass(frozen=True)
class Business(Section):
    """Business procedures (事業者手続の簡略化) keyed by the corporate number."""

    KEY: ClassVar[str] = "business"
    enabled: bool = enabled_field()
    phase: int = phase_field()
    features: tuple[str, ...] = choices(
        ("basic_info", "qualifications", "procurement_notices", "subsidy_notices", "license_renewal"),
        ("basic_info", "qualifications", "procurement_notices", "subsidy_notices", "license_renewal"),
        "what business accounts offer",
    )


@dataclass(frozen=True)
class Payments(Section):
    """E-payment and administrative points (電子的支払・行政ポイント)."""

    KEY: ClassVar[str] = "payments"
    enabled: bool = enabled_field()
    phase: int = phase_field()
    channels: tuple[str, ...] = choices(("kiosk", "counter", "portal"), ("kiosk", "counter", "portal"), "where fees can be paid electronically (counter also takes cash: the path for residents without a card)")
    fee_types: tuple[str, ...] = choices(FEE_TYPES, FEE_TYPES, "fees that can be paid electronically")
    uses_free_area_app: bool = flag(True, "wallet and points live in a free-area app on the card (needs an Art. 18 ordinance)")
    points_per_civic_activity: int = count(100, 0, 100_000, "points per activity", "points granted for one civic activity (volunteering, health checkup …)")
    point_value_yen: float = real(1.0, 0.0, 1_000.0, "yen per point", "what one point is worth when redeemed")
    point_expiry_days: int = count(365, 1, 3650, "days", "points expire this long after they are granted")

    def cross_problems(self) -> list[Problem]:
        """An enabled service has a channel and a fee type."""
        out = []
        if self.enabled and not self.channels:
            out.append(Problem("payments.channels", "expected at least one channel when the service is enabled, got []"))
        if self.enabled and not self.fee_types:
            out.append(Problem("payments.fee_types", "expected at least one fee type when the service is enabled, got []"))
        return out


@dataclass(frozen=True)
class FaceId(Section):
    """Face-photo identity check (顔写真データによる本人確認) after a disaster."""

    KEY: ClassVar[str] = "faceid"
    enabled: bool = enabled_field()
    phase: int = phase_field()
    false_accept_rate: float = real(0.001, 0.0, 1.0, "probability 0-1", "chance the matcher accepts another person's face")
    false_reject_rate: float = real(0.03, 0.0, 1.0, "probability 0-1", "chance the matcher rejects the right person")
    interview_min: float = real(10.0, 0.0, 240.0, "minutes", "length of the identity interview (聴聞) held with the photo check")
    checkers_per_ward: int = count(2, 0, 100, "staff per ward", "staff doing face checks in each ward")
    interview_only_fallback: bool = flag(True, "people with no registered photo (never applied for a card) are checked by interview alone (the path for residents without a card)")


SERVICE_SECTIONS: dict[str, type[Section]] = {
    "onecard": OneCard,
    "linkage": Linkage,
    "certificates": Certificates,
    "vitals": Vitals,
    "portal": Portal,
    "business": Business,
    "safety": Safety,
    "payments": Payments,
    "faceid": FaceId,
}
SECTIONS: dict[str, type[Section]] = {"rollout": Rollout, "costs": Costs, "dependencies": Dependencies, **SERVICE_SECTIONS}
