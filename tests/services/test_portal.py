"""Portal e-procedures: e-mailbox, login rules, push notices and take-up."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from twin.clock import MINUTE, jst
from twin.errors import NotFound, ValidationError
from twin.events import EventLog
from twin.identity import Assurance, Identity
from twin.services._checks import WeakIdentity
from twin.services.portal import (
    FeePaidOnline,
    MailboxRead,
    MessageDelivered,
    MessagesDelivered,
    Portal,
    PortalParams,
    PortalRefused,
)
from twin.services.portal_push import (
    TakeUpParams,
    benefits_after,
    draw_applicants,
    household_guardians,
)

T0 = jst(2026, 4, 1, 10)


def card_pin(resident_id: int, at: float = T0) -> Identity:
    return Identity(
        resident_id, "jpki_user_cert", Assurance.HIGH, at, card_serial=10**9 + resident_id
    )


def test_deliver_returns_increasing_message_ids_and_records_an_event():
    portal = Portal()
    assert portal.deliver(7, "tax", "Your bill is ready", T0) == 1
    assert portal.deliver(8, "tax", "Your bill is ready", T0) == 2
    assert [type(e) for e in portal.events] == [MessageDelivered, MessageDelivered]
    assert portal.events.of(MessageDelivered)[1].resident_id == 8


def test_a_resident_reads_only_their_own_messages_in_order():
    portal = Portal()
    portal.deliver(7, "a", "first", T0)
    portal.deliver(8, "b", "not yours", T0)
    portal.deliver(7, "c", "second", T0 + 1)
    box = portal.mailbox(card_pin(7), T0 + 2)
    assert box["body"].to_list() == ["first", "second"]
    assert box["message_id"].to_list() == [1, 3]
    assert portal.events.of(MailboxRead)[-1].messages == 2


def test_reading_another_residents_mailbox_is_refused_and_logged():
    portal = Portal()
    portal.deliver(8, "b", "private", T0)
    with pytest.raises(WeakIdentity, match="may not act for resident 8"):
        portal.mailbox(card_pin(7), T0 + 1, resident_id=8)
    refused = portal.events.of(PortalRefused)
    assert len(refused) == 1 and refused[0].resident_id == 7 and refused[0].action == "read mailbox"


def test_a_card_tap_without_pin_cannot_open_the_mailbox():
    portal = Portal()
    tap = Identity(7, "card_serial", Assurance.MEDIUM, T0, card_serial=1)
    with pytest.raises(WeakIdentity, match="needs assurance HIGH"):
        portal.mailbox(tap, T0)


def test_a_login_older_than_the_session_limit_must_authenticate_again():
    portal = Portal(PortalParams(session_seconds=30 * MINUTE))
    assert portal.mailbox(card_pin(7), T0 + 29 * MINUTE).height == 0
    with pytest.raises(WeakIdentity, match="authenticate again"):
        portal.mailbox(card_pin(7), T0 + 31 * MINUTE)


def test_an_identity_from_the_future_is_invalid_input():
    with pytest.raises(ValidationError):
        Portal().mailbox(card_pin(7, at=T0 + 10), T0)


def test_mark_read_affects_unread_count_and_refuses_anothers_message():
    portal = Portal()
    mine = portal.deliver(7, "a", "x", T0)
    theirs = portal.deliver(8, "a", "y", T0)
    assert portal.unread_count(7) == 1
    portal.mark_read(card_pin(7), mine, T0 + 5)
    assert portal.unread_count(7) == 0
    assert portal.mailbox(card_pin(7), T0 + 6)["read_at"].to_list() == [T0 + 5]
    assert portal.mailbox(card_pin(7), T0 + 6, unread_only=True).height == 0
    with pytest.raises(NotFound):
        portal.mark_read(card_pin(7), theirs, T0 + 5)
    with pytest.raises(NotFound):
        portal.mark_read(card_pin(7), 99, T0 + 5)


def test_deliver_many_sends_one_message_each_and_one_batch_event():
    portal = Portal(events=EventLog())
    ids = portal.deliver_many(np.array([3, 4, 5]), "notice", "hello", T0)
    assert ids.tolist() == [1, 2, 3]
    (batch,) = portal.events.of(MessagesDelivered)
    assert (batch.count, batch.first_id) == (3, 1)
    assert portal.messages_frame()["resident_id"].to_list() == [3, 4, 5]


def test_empty_topic_is_refused():
    with pytest.raises(ValidationError):
        Portal().deliver(1, "", "x", T0)


def test_a_birth_pushes_a_child_allowance_notice_once_and_take_up_is_measured():
    portal = Portal()
    assert "child_allowance" in benefits_after("birth")
    assert portal.notify_eligible(np.array([10, 11, 11]), "child_allowance", T0) == 2
    assert portal.notify_eligible(np.array([11]), "child_allowance", T0 + 1) == 0  # no repeat
    assert portal.notify_eligible(np.array([12]), "child_allowance", T0, push=False) == 1
    assert portal.mailbox(card_pin(10), T0 + 1)["topic"].to_list() == [
        "eligibility:child_allowance"
    ]
    assert portal.mailbox(card_pin(12), T0 + 1).height == 0
    portal.record_counter_application(10, "child_allowance", T0 + 60)
    portal.record_counter_application(12, "child_allowance", T0 + 60)
    portal.record_counter_application(99, "child_allowance", T0 + 60)  # not eligible: not counted
    t = portal.take_up("child_allowance")
    assert (t.eligible, t.notified, t.applied, t.applied_notified, t.applied_unnotified) == (
        3,
        2,
        2,
        1,
        1,
    )
    assert t.share == pytest.approx(2 / 3)
    assert t.share_notified == 0.5 and t.share_unnotified == 1.0


def test_an_unknown_life_event_is_refused_naming_the_known_ones():
    with pytest.raises(ValidationError, match="known events: .*birth"):
        benefits_after("lottery_win")


def test_the_household_guardian_is_the_eldest_working_age_adult():
    residents = pl.DataFrame(
        {
            "resident_id": [0, 1, 2, 3, 4, 5],
            "household_id": [0, 0, 0, 1, 1, 2],
            "age": [0, 34, 31, 70, 2, 40],
        }
    )
    assert household_guardians(residents, np.array([0, 4])).tolist() == [1, 3]


def test_take_up_params_reject_unknown_keys_and_bad_probabilities():
    with pytest.raises(ValidationError, match="unknown key 'p_apply'"):
        TakeUpParams.from_dict({"p_apply": 0.5})
    with pytest.raises(ValidationError, match="probability"):
        TakeUpParams(p_apply_notified=1.5)
    with pytest.raises(ValidationError, match="unknown key 'colour'"):
        PortalParams.from_dict({"colour": "blue"})


def test_notified_residents_apply_more_often_with_the_default_assumptions():
    rng = np.random.default_rng(3)
    notified = np.arange(20_000) % 2 == 0
    applied = draw_applicants(rng, notified, TakeUpParams())
    assert applied[notified].mean() == pytest.approx(0.90, abs=0.01)
    assert applied[~notified].mean() == pytest.approx(0.70, abs=0.01)


def test_a_fee_paid_on_the_portal_posts_once_even_if_the_resident_clicks_twice():
    from twin.services.payments import Ledger

    ledger = Ledger.in_memory()
    portal = Portal()
    first = portal.pay(card_pin(7), "app-1", "tax_certificate", 300, T0, ledger)
    again = portal.pay(card_pin(7), "app-1", "tax_certificate", 300, T0 + 5, ledger)
    assert again.replayed and again.posting_id == first.posting_id
    assert ledger.balance("revenue:tax_certificate") == 300
    paid = portal.events.of(FeePaidOnline)
    assert [(e.resident_id, e.amount, e.replayed) for e in paid] == [
        (7, 300, False),
        (7, 300, True),
    ]


def test_a_payment_needs_a_card_and_pin_login_and_a_reference():
    from twin.services.payments import Ledger

    ledger = Ledger.in_memory()
    tap = Identity(7, "card_serial", Assurance.MEDIUM, T0, card_serial=1)
    with pytest.raises(WeakIdentity):
        Portal().pay(tap, "app-1", "tax_certificate", 300, T0, ledger)
    with pytest.raises(ValidationError, match="reference"):
        Portal().pay(card_pin(7), "", "tax_certificate", 300, T0, ledger)
    assert ledger.balance("revenue:tax_certificate") == 0


def test_births_in_a_city_push_notices_and_take_up_is_measured_from_real_applications(small_city):
    r = small_city.residents
    babies = r.filter(pl.col("age") == 0)["resident_id"].to_numpy()
    half = babies.size // 2
    portal = Portal()
    pushed = portal.on_life_event(r, "birth", babies[:half], T0)
    quiet = portal.on_life_event(r, "birth", babies[half:], T0, push=False)
    parents_pushed, parents_quiet = pushed["child_allowance"], quiet["child_allowance"]
    assert set(pushed) == {"child_allowance", "child_medical_subsidy"}
    assert parents_pushed.size > 10 and np.isin(parents_pushed, r["resident_id"].to_numpy()).all()
    ages = dict(zip(r["resident_id"].to_list(), r["age"].to_list(), strict=True))
    assert all(ages[p] >= 18 for p in parents_pushed)
    assert portal.unread_count(int(parents_pushed[0])) == 2  # child allowance and medical subsidy
    only_quiet = np.setdiff1d(parents_quiet, parents_pushed)
    assert only_quiet.size > 10 and all(portal.unread_count(int(p)) == 0 for p in only_quiet)
    rng = np.random.default_rng(11)
    everyone = np.concatenate([parents_pushed, parents_quiet])
    told = np.isin(everyone, parents_pushed)
    applied = draw_applicants(rng, told, TakeUpParams(p_apply_notified=0.9, p_apply_unnotified=0.5))
    for rid in everyone[applied]:
        portal.record_counter_application(int(rid), "child_allowance", T0 + 3 * 86400)
    t = portal.take_up("child_allowance")
    assert t.eligible == np.unique(everyone).size
    assert t.applied == np.unique(everyone[applied]).size
    assert t.share_notified > t.share_unnotified
