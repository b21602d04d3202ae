"""Each chapter-4 table of the report is reflected in the review, with its refusals (one class per service)."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.design import Design, load_design, with_overrides
from twin.policy import review

DESIGNS = Path(__file__).resolve().parents[2] / "designs"
KUMAMOTO_NO_CARD = 174_372  # 738,865 x (1 - 0.764), rounded


def only(service: str, **fields) -> Design:
    """A Kumamoto design with only `service` enabled, fields overridden."""
    overrides = {f"{service}.enabled": True, **{f"{service}.{k}": v for k, v in fields.items()}}
    return with_overrides(Design(name="t", city="kumamoto"), overrides)


def rules(r) -> set[str]:
    return {x.rule for x in r.refusals}


class TestOneCard:
    def test_one_card_needs_an_art_18_ordinance_and_no_pia(self):
        s = review(only("onecard")).service("onecard")
        assert s.legal_status == "ordinance"
        assert "My Number Act Art. 18" in s.articles
        assert s.number_ordinances == ("art18",)
        assert s.pia_required is False and s.spi_file is False
        assert "card_app_management" in s.systems

    def test_one_card_keeps_old_cards_for_residents_without_a_card(self):
        s = review(only("onecard")).service("onecard")
        assert s.card_needed and s.residents_without_card == KUMAMOTO_NO_CARD
        assert s.non_card_path.startswith("the old city cards")

    def test_one_card_without_old_cards_is_refused(self):
        r = review(only("onecard", keep_old_cards=False))
        assert r.refused and rules(r) == {"no_non_card_path"}
        assert "174,372 in kumamoto" in r.refusals[0].reason
        assert "onecard.keep_old_cards = true" in r.refusals[0].reason

    def test_the_j_lis_app_system_brings_an_agency_fee_line(self):
        assert review(only("onecard")).service("onecard").agency_fees == ("jlis_app_system",)
        assert review(only("onecard", use_jlis_app_system=False)).service("onecard").agency_fees == ()


class TestLinkage:
    def test_linkage_needs_art_9_2_and_19_9_ordinances_and_a_pia(self):
        s = review(only("linkage")).service("linkage")
        assert s.legal_status == "ordinance"
        assert s.number_ordinances == ("art9_2", "art19_9")
        assert s.pia_required is True

    def test_art_19_9_is_needed_only_when_data_crosses_organs(self):
        s = review(only("linkage", internal_tasks=["child_allowance", "nursery_admission"])).service("linkage")
        assert s.number_ordinances == ("art9_2",)
        assert "school" not in s.systems

    def test_external_rule_linkage_alone_still_needs_art_9_2(self):
        s = review(only("linkage", internal_tasks=[], external_tasks=["child_medical_subsidy"])).service("linkage")
        assert s.number_ordinances == ("art9_2",)

    def test_statutory_external_linkage_alone_needs_no_city_number_ordinance(self):
        s = review(only("linkage", internal_tasks=[], external_tasks=["child_allowance"])).service("linkage")
        assert s.number_ordinances == ()
        assert s.pia_required is True

    def test_a_task_outside_the_three_fields_is_refused(self):
        r = review(only("linkage", internal_tasks=["child_allowance", "library_registration"]))
        assert rules(r) == {"linkage_task_outside_fields"}
        assert "library_registration" in r.refusals[0].reason
        assert r.service("linkage").legal_status == "not_allowed"

    def test_external_linkage_outside_the_permitted_table_is_refused(self):
        r = review(only("linkage", internal_tasks=["school_aid"], external_tasks=["sports_facility_discount"]))
        assert rules(r) == {"linkage_task_outside_fields", "linkage_external_not_permitted"}

    def test_linkage_needs_no_card_and_lists_the_attachments_it_removes(self):
        s = review(only("linkage", internal_tasks=["municipal_housing"])).service("linkage")
        assert s.card_needed is False and s.residents_without_card == 0
        assert any("tax_certificate, residence_record" in f.text for f in s.point(4))
        assert {"local_tax", "resident_registry", "number_linkage"} <= set(s.systems)


class TestCertificates:
    def test_kiosk_issuance_by_the_user_certificate_needs_no_number_ordinance(self):
        s = review(only("certificates", kiosk_fee_yen=300, counter_fee_yen=300)).service("certificates")
        assert s.legal_status == "allowed"
        assert s.ordinances == () and s.number_ordinances == ()
        assert s.pia_required is False

    def test_the_ordinance_app_method_needs_a_resident_registers_ordinance(self):
        s = review(only("certificates", auth_method="ordinance_app")).service("certificates")
        assert s.legal_status == "ordinance"
        assert set(s.number_ordinances) == {"juki_ordinance", "art18"}
        assert "card_app_management" in s.systems

    def test_a_kiosk_fee_below_the_counter_fee_means_amending_the_fee_ordinance(self):
        s = review(only("certificates", kiosk_fee_yen=200, counter_fee_yen=300)).service("certificates")
        assert s.ordinances == ("fee_ordinance",)
        assert any("kiosk ¥200 vs counter ¥300" in f.text for f in s.point(2))

    def test_public_kiosks_are_counted_per_ward(self):
        r = review(only("certificates", public_kiosks_per_ward=2))
        s = r.service("certificates")
        assert "public_kiosks" in s.systems
        assert any("Install 10 kiosks" in f.text for f in s.point(3))  # Kumamoto has 5 wards
        assert r.costs.public_kiosks_yen == 10 * 5_000_000

    def test_no_counter_windows_leaves_residents_without_a_card_no_path(self):
        r = review(only("certificates", counter_windows_per_ward=0))
        assert rules(r) == {"no_non_card_path"}
        assert "certificates.counter_windows_per_ward >= 1" in r.refusals[0].reason

    def test_the_baseline_is_national_only_and_accepted(self):
        r = review(load_design(DESIGNS / "baseline.toml"))
        assert not r.refused
        assert [s.service for s in r.services] == ["certificates"]
        assert r.ordinances_to_enact == ("pi_ordinance",)
        assert r.pias_needed == ()
        assert r.residents_on_non_card_path == KUMAMOTO_NO_CARD


class TestVitals:
    def test_vital_records_by_card_key_need_no_pia(self):
        s = review(only("vitals")).service("vitals")
        assert s.pia_required is False
        assert s.number_ordinances == ("art18",)
        assert s.legal_status == "ordinance"

    def test_vital_records_linked_by_my_number_are_refused(self):
        r = review(only("vitals", link_key="my_number"))
        assert rules(r) == {"vitals_keyed_by_my_number"}
        s = r.service("vitals")
        assert s.legal_status == "not_allowed"
        assert s.pia_required is True
        assert set(s.number_ordinances) == {"art9_2", "art19_9"}

    def test_clinic_reads_without_consent_are_refused(self):
        assert rules(review(only("vitals", clinic_consent_required=False))) == {"vitals_without_consent"}

    def test_dropping_the_paper_handbooks_is_refused(self):
        assert rules(review(only("vitals", keep_paper_handbooks=False))) == {"no_non_card_path"}


class TestPortal:
    def test_portal_needs_no_number_ordinance(self):
        d = with_overrides(only("portal"), {"linkage.enabled": True})
        s = review(d).service("portal")
        assert s.legal_status == "allowed" and s.number_ordinances == ()

    def test_portal_applications_through_linkage_need_a_pia(self):
        d = with_overrides(only("portal"), {"linkage.enabled": True})
        assert review(d).service("portal").pia_required is True
        assert review(only("portal", e_applications_use_linkage=False)).service("portal").pia_required is False

    def test_portal_applications_through_disabled_linkage_are_refused(self):
        assert rules(review(only("portal"))) == {"portal_linkage_disabled"}

    def test_closing_the_counters_to_portal_procedures_is_refused(self):
        d = only("portal", e_applications_use_linkage=False, keep_counter_procedures=False)
        assert rules(review(d)) == {"no_non_card_path"}


class TestBusiness:
    def test_business_procedures_need_no_ordinance_and_no_pia(self):
        s = review(only("business")).service("business")
        assert s.legal_status == "allowed"
        assert s.ordinances == () and s.number_ordinances == ()
        assert s.pia_required is False
        assert s.card_needed is False and s.residents_without_card == 0
        assert "corporate_portal_connection" in s.systems


class TestSafety:
    def test_safety_confirmation_uses_the_serial_number_and_needs_no_pia(self):
        s = review(only("safety")).service("safety")
        assert s.legal_status == "allowed"
        assert s.number_ordinances == ()
        assert s.pia_required is False
        assert "serial_link" in s.systems and "shelter" in s.systems

    def test_card_face_check_in_is_allowed_without_the_serial_system(self):
        s = review(only("safety", check_in_key="card_face")).service("safety")
        assert s.legal_status == "allowed" and "serial_link" not in s.systems

    def test_the_my_number_as_check_in_key_is_refused(self):
        r = review(only("safety", check_in_key="my_number"))
        assert rules(r) == {"shelter_key_my_number"}
        assert "card serial number or the 4 basic items" in r.refusals[0].reason
        assert r.refusals[0].basis.kind == "law" and r.refusals[0].basis.law == "My Number Act Art. 20"
        assert r.service("safety").legal_status == "not_allowed"

    def test_shelters_without_paper_forms_are_refused(self):
        r = review(only("safety", paper_form_staff_per_shelter=0))
        assert rules(r) == {"no_non_card_path"}

    def test_child_watch_needs_guardian_consent_and_school_systems(self):
        s = review(only("safety", child_watch=True)).service("safety")
        assert "school" in s.systems
        assert any("87,925 residents aged 0-14" in f.text for f in s.point(6))
        assert rules(review(only("safety", child_watch=True, child_watch_guardian_consent=False))) == {"child_watch_without_consent"}

    def test_readers_are_priced_per_shelter(self):
        r = review(only("safety", readers_per_shelter=3))
        assert r.city.shelters == 92  # 738,865 / 8,000 residents per shelter
        assert r.costs.shelter_readers_yen == 92 * 3 * 30_000


class TestPayments:
    def test_payments_in_the_free_area_need_art_18_and_no_pia(self):
        s = review(only("payments")).service("payments")
        assert s.number_ordinances == ("art18",)
        assert s.pia_required is False
        assert s.legal_status == "ordinance"

    def test_payments_without_a_free_area_app_need_no_number_ordinance(self):
        s = review(only("payments", uses_free_area_app=False)).service("payments")
        assert s.number_ordinances == () and s.legal_status == "allowed"
        assert "card_app_management" not in s.systems

    def test_payments_without_the_counter_channel_are_refused(self):
        r = review(only("payments", channels=["kiosk", "portal"]))
        assert rules(r) == {"no_non_card_path"}
        assert "payments.channels to include 'counter'" in r.refusals[0].reason


class TestFaceId:
    def test_face_checks_need_no_number_ordinance_and_no_pia(self):
        s = review(only("faceid")).service("faceid")
        assert s.legal_status == "allowed"
        assert s.number_ordinances == () and s.pia_required is False
        assert "face_photo_retrieval" in s.systems

    def test_face_checks_without_an_interview_only_path_are_refused(self):
        assert rules(review(only("faceid", interview_only_fallback=False))) == {"no_non_card_path"}


class TestTotals:
    def test_the_full_design_is_accepted_with_its_totals(self):
        r = review(load_design(DESIGNS / "full.toml"))
        assert not r.refused
        assert [s.service for s in r.services] == ["onecard", "linkage", "certificates", "vitals", "portal", "business", "safety", "payments", "faceid"]
        assert r.pias_needed == ("linkage", "portal")
        assert {"art9_2", "art19_9", "art18", "pi_ordinance", "fee_ordinance"} <= set(r.ordinances_to_enact)
        assert "juki_ordinance" not in r.ordinances_to_enact
        assert len(r.systems_touched) == len(set(r.systems_touched))
        assert r.residents_on_non_card_path == KUMAMOTO_NO_CARD
        assert r.residents_on_non_card_path_at_target == round(738_865 * 0.05)

    def test_the_phased_design_is_accepted(self):
        r = review(load_design(DESIGNS / "phased.toml"))
        assert not r.refused
        assert r.pias_needed == ("linkage", "portal")
        assert r.service("onecard").start_fiscal_year == 2028

    def test_the_pi_ordinance_amendment_is_needed_whatever_the_design(self):
        assert review(Design(name="nothing")).ordinances_to_enact == ("pi_ordinance",)

    def test_nobody_relies_on_a_non_card_path_when_no_service_needs_a_card(self):
        d = with_overrides(Design(name="t"), {"linkage.enabled": True, "business.enabled": True})
        assert review(d).residents_on_non_card_path == 0

    def test_refusals_from_several_services_are_all_listed(self):
        d = with_overrides(
            Design(name="t"),
            {"safety.enabled": True, "safety.check_in_key": "my_number", "vitals.enabled": True, "vitals.link_key": "my_number"},
        )
        assert [(x.service, x.rule) for x in review(d).refusals] == [("vitals", "vitals_keyed_by_my_number"), ("safety", "shelter_key_my_number")]

    def test_another_city_changes_the_counts(self):
        r = review(load_design(DESIGNS / "baseline.toml"), "yokohama")
        assert r.city.name == "yokohama"
        assert r.residents_on_non_card_path == round(3_777_491 * (1 - 0.721))

    def test_a_built_city_gives_its_own_counts(self, small_city):
        r = review(only("safety"), small_city)
        no_card = int((~small_city.residents["has_card"]).sum())
        assert r.residents_on_non_card_path == no_card
        assert r.city.shelters == int((small_city.facilities["kind"] == "shelter").sum())
        assert "built city kumamoto seed=1 scale=0.01" in r.city.basis

    @pytest.mark.parametrize("name", ["baseline", "full", "phased"])
    def test_every_finding_cites_the_report(self, name):
        r = review(load_design(DESIGNS / f"{name}.toml"))
        for s in r.services:
            assert {f.point for f in s.findings} >= {1, 2, 3, 4, 5, 6}, s.service
            for f in s.findings:
                assert f.ref and f.text and "{" not in f.text, (s.service, f)
