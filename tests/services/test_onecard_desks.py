"""One-card desks: library loans and holds, seal registration, facility booking, hospital reception."""

from __future__ import annotations

import numpy as np
import pytest

from twin.clock import DAY, HOUR, jst
from twin.errors import Conflict, Forbidden, NotFound, ValidationError
from twin.identity import Assurance, Identity
from twin.services.onecard import NotAMember, OneCard, OneCardParams, OrdinanceMissing
from twin.services.onecard_desks import FacilityBooking, HospitalReception, SealRegistry
from twin.services.onecard_library import Library, LibraryEvent, LibraryParams
from twin.services.portal import Portal

T0 = jst(2026, 4, 1, 10)
ALL = ("library", "seal", "facility", "hospital")


def card_pin(rid: int, at: float = T0) -> Identity:
    return Identity(rid, "jpki_user_cert", Assurance.HIGH, at, card_serial=5000 + rid)


def tap(rid: int, at: float = T0) -> Identity:
    return Identity(rid, "card_serial", Assurance.MEDIUM, at, card_serial=5000 + rid)


@pytest.fixture
def oc() -> OneCard:
    oc = OneCard(OneCardParams(apps=ALL, art18_ordinances=ALL))
    for rid in (1, 2, 3):
        oc.install(card_pin(rid), "library", T0)
    return oc


def test_a_card_tap_borrows_and_an_old_card_borrows_too(oc):
    lib = Library(oc, np.array([2, 1]))
    old = oc.issue_old_card(9, "library", T0)
    assert lib.checkout(tap(1), 0, T0) == T0 + 14 * DAY
    assert lib.checkout(old, 1, T0) == T0 + 14 * DAY
    assert lib.loans(9)["copy_id"].to_list() == [1]
    with pytest.raises(Conflict, match="already on loan"):
        lib.checkout(tap(2), 0, T0)


def test_a_resident_without_the_app_or_an_old_card_cannot_borrow(oc):
    lib = Library(oc, np.array([1]))
    with pytest.raises(NotAMember):
        lib.checkout(tap(4), 0, T0)


def test_returns_report_days_late_and_overdue_items_block_new_loans(oc):
    lib = Library(oc, np.array([3]))
    lib.checkout(tap(1), 0, T0)
    with pytest.raises(Forbidden, match="overdue"):
        lib.checkout(tap(1, T0 + 15 * DAY), 1, T0 + 15 * DAY)
    assert lib.return_copy(0, T0 + 16 * DAY) == 2
    assert lib.checkout(tap(1, T0 + 16 * DAY), 1, T0 + 16 * DAY) == T0 + 30 * DAY
    with pytest.raises(Conflict):
        lib.return_copy(2, T0)


def test_the_loan_limit_is_enforced(oc):
    lib = Library(oc, np.array([3]), LibraryParams(max_loans=2))
    lib.checkout(tap(1), 0, T0)
    lib.checkout(tap(1), 1, T0)
    with pytest.raises(Forbidden, match="limit is 2"):
        lib.checkout(tap(1), 2, T0)


def test_holds_queue_in_order_and_the_first_is_told_on_the_portal(oc):
    portal = Portal()
    lib = Library(oc, np.array([1]), notify=portal.deliver)
    with pytest.raises(Conflict, match="on the shelf"):
        lib.place_hold(tap(2), 0, T0)
    lib.checkout(tap(1), 0, T0)
    assert lib.place_hold(tap(2), 0, T0) == 1
    assert lib.place_hold(tap(3), 0, T0) == 2
    with pytest.raises(Conflict):
        lib.place_hold(tap(2), 0, T0)
    lib.return_copy(0, T0 + DAY)
    assert portal.mailbox(card_pin(2, T0 + DAY), T0 + DAY)["topic"].to_list() == [
        "library:hold_ready"
    ]
    with pytest.raises(Conflict, match="held for another member"):
        lib.checkout(tap(3, T0 + DAY), 0, T0 + DAY)
    lib.checkout(tap(2, T0 + 2 * DAY), 0, T0 + 2 * DAY)
    assert lib.loans(2)["copy_id"].to_list() == [0]


def test_an_uncollected_hold_lapses_to_the_next_in_queue(oc):
    lib = Library(oc, np.array([1]), LibraryParams(hold_pickup_days=7))
    lib.checkout(tap(1), 0, T0)
    lib.place_hold(tap(2), 0, T0)
    lib.place_hold(tap(3), 0, T0)
    lib.return_copy(0, T0 + DAY)
    later = T0 + 9 * DAY
    assert lib.checkout(tap(3, later), 0, later) == later + 14 * DAY
    actions = [e.action for e in lib.events.of(LibraryEvent)]
    assert actions[-3:] == ["hold_lapsed", "hold_ready", "checkout"]


def test_unknown_copies_and_titles_are_not_found(oc):
    lib = Library(oc, np.array([1]))
    with pytest.raises(NotFound):
        lib.checkout(tap(1), 5, T0)
    with pytest.raises(NotFound):
        lib.place_hold(tap(1), 3, T0)


def test_the_seal_app_replaces_the_seal_registration_card():
    oc = OneCard(OneCardParams(apps=ALL, art18_ordinances=ALL))
    seals = SealRegistry(oc)
    assert seals.register(card_pin(1), T0, on_card=True) is None
    old = seals.register(card_pin(2), T0, on_card=False)
    assert seals.present(tap(1), T0) == 1
    assert seals.present(old, T0) == 2
    assert oc.counts["old_issued"] == 1
    with pytest.raises(Conflict):
        seals.register(card_pin(1), T0, on_card=True)


def test_a_seal_needs_an_in_person_check_and_abolished_seals_do_not_certify():
    oc = OneCard(OneCardParams(apps=ALL, art18_ordinances=ALL))
    seals = SealRegistry(oc)
    with pytest.raises(Forbidden):
        seals.register(tap(1), T0, on_card=True)
    seals.register(card_pin(1), T0, on_card=True)
    seals.abolish(card_pin(1), T0 + 60)
    with pytest.raises(Forbidden, match="no registered seal"):
        seals.present(tap(1, T0 + 120), T0 + 120)


def test_seal_on_card_without_the_ordinance_is_refused_and_the_old_card_path_remains():
    oc = OneCard(OneCardParams(apps=ALL, art18_ordinances=()))
    seals = SealRegistry(oc)
    with pytest.raises(OrdinanceMissing):
        seals.register(card_pin(1), T0, on_card=True)
    old = seals.register(card_pin(1), T0, on_card=False)
    assert seals.present(old, T0) == 1


def test_facility_slots_are_booked_once_within_limits(oc):
    oc.install(card_pin(1), "facility", T0)
    oc.install(card_pin(2), "facility", T0)
    fb = FacilityBooking(oc, [10, 11], max_active=2)
    start = jst(2026, 4, 3, 9)
    bid = fb.book(tap(1), 10, start, T0)
    with pytest.raises(Conflict):
        fb.book(tap(2), 10, start, T0)
    fb.book(tap(1), 11, start, T0)
    with pytest.raises(Forbidden, match="limit 2"):
        fb.book(tap(1), 10, start + HOUR, T0)
    with pytest.raises(NotFound):
        fb.cancel(tap(2), bid, T0)
    fb.cancel(tap(1), bid, T0)
    assert fb.book(tap(2), 10, start, T0) == 3
    assert fb.bookings()["resident_id"].to_list() == [1, 2]


def test_facility_bookings_refuse_bad_slots_and_unknown_facilities(oc):
    oc.install(card_pin(1), "facility", T0)
    fb = FacilityBooking(oc, [10])
    with pytest.raises(ValidationError):
        fb.book(tap(1), 10, T0 - HOUR, T0)
    with pytest.raises(ValidationError):
        fb.book(tap(1), 10, jst(2026, 4, 3, 9, 30), T0)
    with pytest.raises(ValidationError):
        fb.book(tap(1), 10, T0 + 200 * DAY, T0)
    with pytest.raises(NotFound):
        fb.book(tap(1), 99, jst(2026, 4, 3, 9), T0)


def test_hospital_reception_gives_the_patient_number_and_daily_tickets():
    oc = OneCard(OneCardParams(apps=ALL, art18_ordinances=ALL))
    oc.install(card_pin(1), "hospital", T0)
    oc.install(card_pin(2), "hospital", T0)
    desk = HospitalReception(oc)
    p1, p2 = desk.register_patient(1, T0), desk.register_patient(2, T0)
    assert (p1, p2) == (100_001, 100_002)
    assert desk.check_in(card_pin(1), T0) == (p1, 1)
    assert desk.check_in(card_pin(2), T0 + 60) == (p2, 2)
    assert desk.check_in(card_pin(1, T0 + DAY), T0 + DAY) == (p1, 1)  # a new day restarts tickets
    old = oc.issue_old_card(3, "hospital", T0)
    with pytest.raises(NotFound, match="first-visit"):
        desk.check_in(old, T0)
