"""Child watch: consented children only, guardian notified through the portal in time, retention."""

from __future__ import annotations

import polars as pl
import pytest

from tests.services.safety_helpers import T0
from twin.clock import DAY
from twin.errors import Conflict, Forbidden, NotFound
from twin.identity import Assurance, Identity
from twin.services.card_serials import UnknownCard
from twin.services.childwatch import ChildWatch, ChildWatchParams, NotGuardian
from twin.services.portal import Portal
from twin.services.procedures import InsufficientAssurance
from twin.services.safety_events import (
    ChildTapIgnored,
    ConsentRefused,
    GuardianNotified,
    NotificationFailed,
)
from twin.services.shelters import UnknownReader


def _family_with_child_card(city, adults_needed: int = 1) -> tuple[int, int, int]:
    """(guardian, child, child's card serial): an adult and a card-holding child of one household."""
    r = city.residents
    kids = r.filter((pl.col("age") < 18) & pl.col("has_card")).sort("resident_id")
    for kid in kids.iter_rows(named=True):
        adults = r.filter((pl.col("household_id") == kid["household_id"]) & (pl.col("age") >= 18))
        if adults.height >= adults_needed:
            return int(adults["resident_id"][0]), kid["resident_id"], kid["card_serial"]
    raise AssertionError("no household with a card-holding child")


class Outbox:
    """A notify callable that can be made to fail."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str, str, float]] = []
        self.down = False

    def __call__(self, resident_id: int, topic: str, body: str, now: float) -> int:
        if self.down:
            raise ConnectionError("portal unreachable")
        self.sent.append((resident_id, topic, body, now))
        return len(self.sent)


@pytest.fixture
def outbox():
    return Outbox()


@pytest.fixture
def watch(small_city, outbox):
    return ChildWatch.from_city(small_city, outbox)


def _school(city) -> int:
    return int(city.facilities.filter(pl.col("kind") == "school")["facility_id"][0])


def _pin(rid: int) -> Identity:
    return Identity(rid, "jpki_user_cert", Assurance.HIGH, T0)


def test_a_consented_childs_tap_reaches_the_guardians_portal_mailbox_in_time(small_city):
    portal = Portal()
    watch = ChildWatch.from_city(small_city, portal.deliver)
    guardian, child, serial = _family_with_child_card(small_city)
    watch.enrol(child, _pin(guardian), T0)
    reader = watch.register_reader(_school(small_city), T0)
    assert watch.tap(reader, serial, T0 + 30) is True
    notices = watch.notices_frame()
    assert notices.select("child_id", "guardian_id", "delay_s", "on_time").rows() == [(child, guardian, 0.0, True)]
    inbox = portal.messages_frame().filter(pl.col("resident_id") == guardian)
    assert inbox.select("message_id", "topic", "delivered_at").rows() == [
        (notices["message_id"][0], "child_watch", T0 + 30)]
    assert portal.unread_count(guardian) == 1
    ev = watch.events.of(GuardianNotified)[0]
    assert (ev.child_id, ev.guardian_id, ev.late) == (child, guardian, False)


def test_a_tap_by_a_child_without_consent_is_not_tracked_or_notified(small_city, watch, outbox):
    _, _, serial = _family_with_child_card(small_city)
    reader = watch.register_reader(_school(small_city), T0)
    assert watch.tap(reader, serial, T0) is False
    assert outbox.sent == [] and watch.records_frame().height == 0
    ignored = watch.events.of(ChildTapIgnored)
    assert [(e.reader_id, e.reason) for e in ignored] == [(reader, "not_enrolled")]  # no resident named


def test_only_an_adult_of_the_childs_household_identified_with_the_pin_may_consent(small_city, watch):
    guardian, child, _ = _family_with_child_card(small_city)
    r = small_city.residents
    other_adult = int(r.filter((pl.col("household_id") != r["household_id"][child]) & (pl.col("age") >= 30))
                      ["resident_id"][0])
    with pytest.raises(NotGuardian, match="not an adult of child"):
        watch.enrol(child, _pin(other_adult), T0)
    with pytest.raises(InsufficientAssurance, match="HIGH"):
        watch.enrol(child, Identity(guardian, "card_serial", Assurance.MEDIUM, T0), T0)
    with pytest.raises(Forbidden, match="child watch is for children"):
        watch.enrol(guardian, _pin(guardian), T0)
    assert watch.guardian_of == {}
    assert [(e.child_id, e.guardian_id, e.reason) for e in watch.events.of(ConsentRefused)] == [
        (child, other_adult, "not_guardian"), (child, guardian, "insufficient_assurance"),
        (guardian, guardian, "forbidden")]


def test_a_failed_delivery_stays_pending_and_is_flagged_late_when_retried_after_the_deadline(small_city, watch, outbox):
    guardian, child, serial = _family_with_child_card(small_city)
    watch.enrol(child, _pin(guardian), T0)
    reader = watch.register_reader(_school(small_city), T0)
    outbox.down = True
    assert watch.tap(reader, serial, T0 + 10) is True
    assert len(watch.pending) == 1 and watch.overdue(T0 + 60) == [] and len(watch.overdue(T0 + 71)) == 1
    assert watch.events.of(NotificationFailed)[0].reason == "ConnectionError: portal unreachable"
    outbox.down = False
    assert watch.dispatch(T0 + 100) == 1
    assert watch.pending == [] and watch.events.of(GuardianNotified)[0].late is True
    assert watch.notices_frame().select("delay_s", "on_time").rows() == [(90.0, False)]


def test_a_repeat_tap_inside_the_window_is_not_notified_again(small_city, watch, outbox):
    guardian, child, serial = _family_with_child_card(small_city)
    watch.enrol(child, _pin(guardian), T0)
    reader = watch.register_reader(_school(small_city), T0)
    assert [watch.tap(reader, serial, T0 + t) for t in (0, 60, 601)] == [True, False, True]
    assert len(outbox.sent) == 2


def test_records_older_than_the_retention_period_are_deleted(small_city, outbox):
    watch = ChildWatch.from_city(small_city, outbox, params=ChildWatchParams(retention_days=30))
    guardian, child, serial = _family_with_child_card(small_city)
    watch.enrol(child, _pin(guardian), T0)
    reader = watch.register_reader(_school(small_city), T0)
    for day in range(40):
        watch.tap(reader, serial, T0 + day * DAY)
    assert watch.records_frame().height == 40
    deleted = watch.purge(T0 + 40 * DAY)
    kept = watch.records_frame()["at"].to_list()
    assert deleted == 2 * 10 and kept == [T0 + d * DAY for d in range(10, 40)]
    assert watch.notices_frame().height == 30


def test_withdrawing_consent_stops_tracking_and_deletes_the_childs_records(small_city, watch, outbox):
    guardian, child, serial = _family_with_child_card(small_city)
    watch.enrol(child, _pin(guardian), T0)
    reader = watch.register_reader(_school(small_city), T0)
    watch.tap(reader, serial, T0)
    assert watch.withdraw(child, _pin(guardian), T0 + 10) == 2
    assert watch.records_frame().height == 0 and watch.notices_frame().height == 0
    assert watch.tap(reader, serial, T0 + 2000) is False and len(outbox.sent) == 1


def test_a_second_guardian_cannot_take_over_an_enrolment(small_city, watch):
    guardian, child, _ = _family_with_child_card(small_city, adults_needed=2)
    watch.enrol(child, _pin(guardian), T0)
    watch.enrol(child, _pin(guardian), T0 + 1)  # the same guardian again: fine
    hh = small_city.residents["household_id"][child]
    other = small_city.residents.filter((pl.col("household_id") == hh) & (pl.col("age") >= 18)
                                        & (pl.col("resident_id") != guardian))["resident_id"][0]
    with pytest.raises(Conflict, match="already enrolled"):
        watch.enrol(child, _pin(int(other)), T0 + 2)
    with pytest.raises(NotGuardian, match="not enrolled by"):
        watch.withdraw(child, _pin(int(other)), T0 + 3)
    assert watch.guardian_of == {child: guardian}
    assert [e.reason for e in watch.events.of(ConsentRefused)] == ["conflict", "not_guardian"]


def test_taps_from_unregistered_readers_or_unknown_cards_are_refused_and_logged(small_city, watch):
    guardian, child, _ = _family_with_child_card(small_city)
    with pytest.raises(UnknownReader):
        watch.tap(9, 12345, T0)
    reader = watch.register_reader(_school(small_city), T0)
    with pytest.raises(UnknownCard):
        watch.tap(reader, 12345, T0)
    shelter = int(small_city.facilities.filter(pl.col("kind") == "shelter")["facility_id"][0])
    with pytest.raises(NotFound, match="not a school or cram school"):
        watch.register_reader(shelter, T0)
    assert [e.reason for e in watch.events.of(ChildTapIgnored)] == ["unknown_reader", "unknown_card"]


def test_the_notice_names_the_place_and_time_but_no_my_number(small_city, watch, outbox):
    guardian, child, serial = _family_with_child_card(small_city)
    watch.enrol(child, _pin(guardian), T0)
    reader = watch.register_reader(_school(small_city), T0)
    watch.tap(reader, serial, T0)
    (rid, topic, body, _), = outbox.sent
    my_number = f"{small_city.residents['my_number'][child]:012d}"
    assert (rid, topic) == (guardian, "child_watch") and "school" in body and "JST" in body
    assert my_number not in body
