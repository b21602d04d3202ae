"""One-card: app management under the Art. 18 ordinance, old cards, and the cost account."""

from __future__ import annotations

import pytest

from twin.clock import HOUR, jst
from twin.errors import Conflict, Forbidden, NotFound, ValidationError
from twin.identity import Assurance, Identity
from twin.services._checks import WeakIdentity
from twin.services.onecard import (
    AppInstalled,
    NotAMember,
    OldCard,
    OneCard,
    OneCardCosts,
    OneCardParams,
    OneCardRefused,
    OrdinanceMissing,
    cost_account,
)

T0 = jst(2026, 4, 1, 10)
ALL = ("library", "seal", "facility", "hospital")


def card_pin(rid: int, serial: int | None = None, at: float = T0) -> Identity:
    return Identity(rid, "jpki_user_cert", Assurance.HIGH, at, card_serial=serial or 5000 + rid)


def tap(rid: int, serial: int | None = None, at: float = T0) -> Identity:
    return Identity(rid, "card_serial", Assurance.MEDIUM, at, card_serial=serial or 5000 + rid)


def service(**over) -> OneCard:
    return OneCard(OneCardParams(**{"apps": ALL, "art18_ordinances": ALL, **over}))


def test_an_app_without_the_art18_ordinance_is_refused_and_logged():
    oc = service(art18_ordinances=("seal",))
    with pytest.raises(OrdinanceMissing, match="Art. 18"):
        oc.install(card_pin(1), "library", T0)
    (refusal,) = oc.events.of(OneCardRefused)
    assert (refusal.resident_id, refusal.app, refusal.action) == (1, "library", "install")
    assert oc.installed("library") == 0


def test_an_app_the_design_does_not_offer_is_refused():
    oc = service(apps=("seal",))
    with pytest.raises(Forbidden, match="does not offer"):
        oc.install(card_pin(1), "library", T0)


def test_installing_needs_the_card_and_pin_not_a_tap():
    oc = service()
    with pytest.raises(WeakIdentity):
        oc.install(tap(1), "library", T0)
    assert oc.events.of(OneCardRefused)[-1].action == "install"


def test_an_installed_app_lets_a_card_tap_stand_for_its_holder():
    oc = service()
    oc.install(card_pin(1), "library", T0)
    assert oc.holder("library", tap(1), T0 + 60) == 1
    (ev,) = oc.events.of(AppInstalled)
    assert (ev.resident_id, ev.card_serial, ev.app, ev.retired_old_card) == (
        1,
        5001,
        "library",
        False,
    )


def test_a_card_without_the_app_or_someone_elses_card_is_not_a_member():
    oc = service()
    oc.install(card_pin(1), "library", T0)
    with pytest.raises(NotAMember):
        oc.holder("seal", tap(1), T0)
    with pytest.raises(NotAMember):
        oc.holder("library", tap(2, serial=5001), T0)  # resident 2 presenting resident 1's card


def test_the_hospital_app_opens_only_with_the_pin():
    oc = service()
    oc.install(card_pin(1), "hospital", T0)
    with pytest.raises(WeakIdentity):
        oc.holder("hospital", tap(1), T0)
    assert oc.holder("hospital", card_pin(1), T0) == 1


def test_old_cards_keep_working_for_residents_without_a_my_number_card():
    oc = service()
    old = oc.issue_old_card(7, "library", T0)
    assert oc.holder("library", old, T0) == 7
    with pytest.raises(Conflict):
        oc.issue_old_card(7, "library", T0)
    with pytest.raises(NotAMember):
        oc.holder("library", OldCard("library", 999), T0)
    with pytest.raises(NotAMember):
        oc.holder("seal", OldCard("library", old.number), T0)


def test_without_keep_old_cards_installing_retires_the_old_card():
    oc = service(keep_old_cards=False)
    old = oc.issue_old_card(1, "library", T0)
    oc.install(card_pin(1), "library", T0)
    with pytest.raises(NotAMember, match="retired"):
        oc.holder("library", old, T0)
    assert oc.events.of(AppInstalled)[-1].retired_old_card


def test_with_keep_old_cards_both_the_card_and_the_old_card_work():
    oc = service(keep_old_cards=True)
    old = oc.issue_old_card(1, "library", T0)
    oc.install(card_pin(1), "library", T0)
    assert oc.holder("library", old, T0) == oc.holder("library", tap(1), T0) == 1


def test_removing_an_app_ends_its_use_and_removing_twice_is_not_found():
    oc = service()
    oc.install(card_pin(1), "library", T0)
    oc.remove(card_pin(1), "library", T0 + 10)
    with pytest.raises(NotAMember):
        oc.holder("library", tap(1), T0 + 20)
    with pytest.raises(NotFound):
        oc.remove(card_pin(1), "library", T0 + 30)


def test_the_cost_account_counts_savings_and_fees_with_the_given_unit_costs():
    costs = OneCardCosts(
        old_card_issue_yen=500,
        old_card_manage_yen_per_year=150,
        jlis_fee_per_install_yen=100,
        jlis_fee_per_year_yen=10_000,
    )
    oc = service(keep_old_cards=False, costs=costs)
    oc.issue_old_card(1, "library", T0)
    for rid in (1, 2, 3):
        oc.install(card_pin(rid), "library", T0)
    frame = oc.costs(years=2)
    assert dict(frame.rows()) == {
        "old card issuance saved": 2 * 500,  # residents 2 and 3 never needed an old card
        "old card management saved": 1 * 150 * 2,  # resident 1's old card retired
        "fees to the card agency (J-LIS)": -(3 * 100 + 2 * 10_000),
        "net": 1000 + 300 - 20_300,
    }


def test_without_the_jlis_system_no_fees_are_paid():
    params = OneCardParams(apps=ALL, art18_ordinances=ALL, use_jlis_app_system=False)
    assert dict(cost_account(params, 10, 0, 10, 1.0).rows())["fees to the card agency (J-LIS)"] == 0


def test_params_refuse_unknown_apps_keys_and_negative_costs():
    with pytest.raises(ValidationError, match="unknown app 'karaoke'"):
        OneCardParams(apps=("karaoke",))
    with pytest.raises(ValidationError, match="unknown key 'colour'"):
        OneCardParams.from_dict({"colour": 1})
    with pytest.raises(ValidationError, match="non-negative"):
        OneCardCosts(old_card_issue_yen=-1)
    p = OneCardParams.from_dict({"apps": ["library"], "costs": {"old_card_issue_yen": 10}})
    assert p.costs.old_card_issue_yen == 10 and p.apps == ("library",)


def test_the_real_chip_and_reader_install_an_app_after_card_and_pin(small_city):
    from twin.card import CardRegistry
    from twin.pki import CertificateAuthority
    from twin.reader import Reader

    ca = CertificateAuthority(seed=7, algorithm="ed25519")
    reg = CardRegistry.from_city(small_city, ca, T0, ordinances=("library",))
    serial = int(reg.serial[0])
    card = reg.card(serial)
    me = Reader(ca, reg, reader_id="counter-1").authenticate(card, reg.pins(serial).user, T0)
    assert me.assurance == Assurance.HIGH and me.card_serial == serial
    oc = service()
    oc.install(me, "library", T0, chip=card)
    assert card.apps == ("library",)
    tapped = Reader(ca, reg, reader_id="library-1").read_serial(card, T0 + HOUR)
    assert oc.holder("library", tapped, T0 + HOUR) == me.resident_id
    oc.remove(me, "library", T0 + 60, chip=card)
    assert card.apps == ()


def test_the_chip_refuses_too_when_its_registry_has_no_ordinance_and_a_wrong_card_is_refused(
    small_city,
):
    from twin.card import CardRegistry
    from twin.pki import CertificateAuthority
    from twin.reader import Reader
    from twin.trust_errors import OrdinanceMissing as ChipOrdinanceMissing

    ca = CertificateAuthority(seed=7, algorithm="ed25519")
    reg = CardRegistry.from_city(small_city, ca, T0, ordinances=())
    s0, s1 = int(reg.serial[0]), int(reg.serial[1])
    me = Reader(ca, reg, reader_id="counter-1").authenticate(reg.card(s0), reg.pins(s0).user, T0)
    oc = service()
    with pytest.raises(ChipOrdinanceMissing):
        oc.install(me, "seal", T0, chip=reg.card(s0))
    with pytest.raises(Forbidden, match="authenticated"):
        oc.install(me, "seal", T0, chip=reg.card(s1))
    assert oc.installed("seal") == 0


def test_the_design_files_map_onto_onecard_params():
    from pathlib import Path

    from twin.design import load_design

    root = Path(__file__).resolve().parents[2]
    full = OneCardParams.from_design(load_design(root / "designs" / "full.toml").service("onecard"))
    assert full.apps == ALL and full.art18_ordinances == ALL and full.keep_old_cards
    base = OneCardParams.from_design(
        load_design(root / "designs" / "baseline.toml").service("onecard")
    )
    oc = OneCard(base)
    with pytest.raises((Forbidden, OrdinanceMissing)):
        oc.install(card_pin(1), "library", T0)
