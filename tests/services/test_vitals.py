"""Vital records: holder and guardian reads, clinic consent, break-glass, never the My Number."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from twin.clock import DAY, HOUR, jst, local_date
from twin.errors import Conflict, Forbidden, NotFound, ValidationError
from twin.identity import Assurance, Identity
from twin.services._checks import WeakIdentity
from twin.services.portal import Portal
from twin.services.vitals import (
    NoConsent,
    NotAGuardian,
    VitalAccess,
    VitalRecords,
    VitalsParams,
)
from twin.services.vitals_guardians import guardians_from_households

T0 = jst(2026, 4, 1, 10)
# 0 mother (34), 1 baby (0), 2 father (36), 3 adult son (20) of 0 and 2, 4 a stranger
PEOPLE = pl.DataFrame(
    {
        "resident_id": [0, 1, 2, 3, 4],
        "household_id": [0, 0, 0, 0, 1],
        "birth_date": [
            dt.date(1991, 5, 1),
            dt.date(2026, 1, 10),
            dt.date(1989, 7, 7),
            dt.date(2006, 3, 31),
            dt.date(1970, 1, 1),
        ],
        "my_number": [123456789018, 234567890127, 345678901236, 456789012345, 567890123454],
    }
)


def pin(rid: int, at: float = T0) -> Identity:
    return Identity(rid, "jpki_user_cert", Assurance.HIGH, at, card_serial=7000 + rid)


@pytest.fixture
def vr() -> VitalRecords:
    portal = Portal()
    v = VitalRecords(PEOPLE, notify=portal.deliver)
    v.portal = portal  # type: ignore[attr-defined]
    for child, guardian in guardians_from_households(PEOPLE, T0):
        v.add_guardian(child, guardian)
    v.record(0, "maternal", "pregnancy_checkup", "week 20: normal", "health_centre", T0 - 200 * DAY)
    v.record(1, "maternal", "vaccination", "Hib 1st dose", "clinic:sakura", T0 - 10 * DAY)
    v.record(3, "medication", "allergy", "penicillin", "clinic:sakura", T0 - 30 * DAY)
    v.record(
        3, "medication", "prescription", "amoxicillin NOT given", "pharmacy:kita", T0 - 29 * DAY
    )
    v.register_clinic("sakura")
    v.register_emergency_service("central_ambulance")
    return v


def test_guardians_are_the_two_eldest_parent_aged_adults_of_a_minors_household():
    assert guardians_from_households(PEOPLE, T0) == [(1, 0), (1, 2)]  # not the 20-year-old brother


def test_the_holder_reads_their_own_handbook_with_card_and_pin(vr):
    rows = vr.read(pin(3), 3, "medication", T0)
    assert rows["detail"].to_list() == ["penicillin", "amoxicillin NOT given"]
    ev = vr.events.of(VitalAccess)[-1]
    assert (ev.subject, ev.reader, ev.basis, ev.rows) == (3, "resident:3", "holder", 2)


def test_a_pinless_tap_cannot_open_a_handbook(vr):
    with pytest.raises(WeakIdentity):
        vr.read(Identity(3, "card_serial", Assurance.MEDIUM, T0, 7003), 3, "medication", T0)
    assert vr.events.of(VitalAccess)[-1].basis == "refused"


def test_a_guardian_reads_a_minor_childs_handbook(vr):
    assert vr.read(pin(0), 1, "maternal", T0)["detail"].to_list() == ["Hib 1st dose"]
    assert vr.events.of(VitalAccess)[-1].basis == "guardian"


def test_a_parent_cannot_read_an_adult_childs_record_as_a_guardian(vr):
    vr.add_guardian(3, 0)  # even if once recorded as his guardian
    with pytest.raises(NotAGuardian, match="is an adult"):
        vr.read(pin(0), 3, "medication", T0)
    refused = vr.events.of(VitalAccess)[-1]
    assert (refused.subject, refused.reader, refused.basis) == (3, "resident:0", "refused")


def test_guardianship_ends_on_the_eighteenth_birthday():
    people = PEOPLE.with_columns(
        birth_date=pl.Series(
            [
                dt.date(1991, 5, 1),
                dt.date(2008, 4, 2),
                dt.date(1989, 7, 7),
                dt.date(2006, 3, 31),
                dt.date(1970, 1, 1),
            ]
        )
    )
    v = VitalRecords(people)
    v.add_guardian(1, 0)
    v.read(pin(0, jst(2026, 4, 1, 23)), 1, "maternal", jst(2026, 4, 1, 23))
    with pytest.raises(NotAGuardian):
        v.read(pin(0, jst(2026, 4, 2, 0)), 1, "maternal", jst(2026, 4, 2, 0))


def test_a_stranger_cannot_read(vr):
    with pytest.raises(NotAGuardian):
        vr.read(pin(4), 1, "maternal", T0)


def test_a_clinic_without_consent_is_refused_and_logged(vr):
    with pytest.raises(NoConsent):
        vr.clinic_read("sakura", 3, "medication", T0)
    assert vr.events.of(VitalAccess)[-1].reader == "clinic:sakura"


def test_a_clinic_reads_with_consent_until_the_holder_revokes_it(vr):
    cid = vr.grant_consent(pin(3), "sakura", "medication", T0)
    assert vr.clinic_read("sakura", 3, "medication", T0 + HOUR).height == 2
    with pytest.raises(NoConsent):
        vr.clinic_read("sakura", 3, "maternal", T0 + HOUR)  # consent is per handbook
    vr.revoke_consent(pin(3, T0 + 2 * HOUR), cid, T0 + 2 * HOUR)
    with pytest.raises(NoConsent, match="revoked"):
        vr.clinic_read("sakura", 3, "medication", T0 + 3 * HOUR)
    with pytest.raises(Conflict):
        vr.revoke_consent(pin(3, T0 + 2 * HOUR), cid, T0 + 2 * HOUR)


def test_a_consent_with_an_end_lapses(vr):
    vr.grant_consent(pin(3), "sakura", "medication", T0, until=T0 + DAY)
    vr.clinic_read("sakura", 3, "medication", T0 + HOUR)
    with pytest.raises(NoConsent):
        vr.clinic_read("sakura", 3, "medication", T0 + 2 * DAY)


def test_only_the_holder_or_a_minors_guardian_gives_or_revokes_consent(vr):
    with pytest.raises(NotAGuardian):
        vr.grant_consent(pin(0), "sakura", "medication", T0, subject=3)
    cid = vr.grant_consent(pin(2), "sakura", "maternal", T0, subject=1)
    assert vr.clinic_read("sakura", 1, "maternal", T0).height == 1
    with pytest.raises(NotAGuardian):
        vr.revoke_consent(pin(4), cid, T0)
    with pytest.raises(NotFound):
        vr.grant_consent(pin(3), "unknown", "medication", T0)
    with pytest.raises(Forbidden):
        vr.clinic_read("unknown", 3, "medication", T0)


def test_break_glass_reads_are_logged_and_told_to_the_holder_afterwards(vr):
    rows = vr.break_glass("central_ambulance", 3, "unconscious after a traffic accident", T0)
    assert rows["detail"].to_list()[0] == "penicillin"
    box = vr.portal.mailbox(pin(3), T0)
    assert box["topic"].to_list() == ["vitals:break_glass"]
    assert "central_ambulance" in box["body"][0]
    log = vr.access_log(pin(3), T0 + 1)
    assert log.select("reader", "basis").rows()[-1] == (
        "emergency:central_ambulance",
        "break_glass",
    )


def test_break_glass_on_a_minor_also_tells_the_guardians(vr):
    vr.params = VitalsParams()  # medication handbook offered
    vr.break_glass("central_ambulance", 1, "seizure", T0)
    told = (
        vr.portal.messages_frame()
        .filter(pl.col("topic") == "vitals:break_glass")["resident_id"]
        .to_list()
    )
    assert told == [0, 1, 2]


def test_an_unregistered_service_cannot_break_the_glass_and_a_reason_is_required(vr):
    with pytest.raises(Forbidden, match="not a registered emergency service"):
        vr.break_glass("weekly_tabloid", 3, "curious", T0)
    with pytest.raises(ValidationError, match="reason"):
        vr.break_glass("central_ambulance", 3, "  ", T0)
    assert vr.portal.messages_frame().height == 0


def test_break_glass_can_be_switched_off_by_the_design():
    v = VitalRecords(PEOPLE, VitalsParams(break_glass=False))
    v.register_emergency_service("central_ambulance")
    with pytest.raises(Forbidden):
        v.break_glass("central_ambulance", 3, "collapse", T0)


def test_the_records_are_never_keyed_by_the_my_number(vr):
    with pytest.raises(ValidationError, match="never keyed by the My Number"):
        VitalsParams(link_key="my_number")
    numbers = set(PEOPLE["my_number"].to_list())
    stored = {v for col in vr._cols.values() for v in col}
    assert not numbers & stored
    assert {vr.handbook_no(r) for r in range(5)}.isdisjoint(numbers)
    assert "my_number" not in vr._cols


def test_unknown_handbooks_entries_and_residents_are_refused(vr):
    with pytest.raises(ValidationError):
        vr.record(3, "dental", "checkup", "", "x", T0)
    with pytest.raises(ValidationError):
        vr.record(3, "medication", "vaccination", "", "x", T0)
    with pytest.raises(NotFound):
        vr.record(99, "medication", "allergy", "", "x", T0)
    with pytest.raises(ValidationError, match="unknown key"):
        VitalsParams.from_dict({"link": "card"})


def test_the_access_log_is_the_holders_and_a_guardians_of_a_minor(vr):
    vr.read(pin(0), 1, "maternal", T0)
    assert vr.access_log(pin(2), T0, subject=1)["basis"].to_list() == ["guardian"]
    with pytest.raises(NotAGuardian):
        vr.access_log(pin(4), T0, subject=1)


def test_a_real_card_and_pin_through_the_reader_opens_the_handbook(small_city):
    from twin.card import CardRegistry
    from twin.pki import CertificateAuthority
    from twin.reader import Reader

    ca = CertificateAuthority(seed=7, algorithm="ed25519")
    reg = CardRegistry.from_city(small_city, ca, T0)
    serial = int(reg.serial[3])
    me = Reader(ca, reg, reader_id="home-pc").authenticate(
        reg.card(serial), reg.pins(serial).user, T0
    )
    v = VitalRecords(small_city.residents)
    v.record(me.resident_id, "medication", "allergy", "pollen", "clinic:a", T0 - DAY)
    assert v.read(me, me.resident_id, "medication", T0 + 60)["detail"].to_list() == ["pollen"]
    tapped = Reader(ca, reg, reader_id="home-pc").read_serial(reg.card(serial), T0)
    with pytest.raises(WeakIdentity):
        v.read(tapped, me.resident_id, "medication", T0 + 60)


def test_household_guardians_in_a_built_city_are_adults_of_minors_at_most_two_each(small_city):
    pairs = pl.DataFrame(
        guardians_from_households(small_city.residents, T0),
        schema=["child", "guardian"],
        orient="row",
    )
    today = local_date(T0)  # ages on the day asked (the `age` column is as of the city's census day)
    ages = {rid: today.year - b.year - ((today.month, today.day) < (b.month, b.day))
            for rid, b in zip(small_city.residents["resident_id"].to_list(),
                              small_city.residents["birth_date"].to_list(), strict=True)}
    assert pairs.height > 500
    assert all(ages[c] < 18 <= ages[g] for c, g in pairs.iter_rows())
    assert pairs.group_by("child").len()["len"].max() <= 2


def test_the_design_files_map_onto_vitals_params_and_a_my_number_link_is_refused():
    from pathlib import Path

    from twin.design import load_design, with_overrides

    root = Path(__file__).resolve().parents[2]
    full = load_design(root / "designs" / "full.toml")
    assert VitalsParams.from_design(full.service("vitals")).records == ("maternal", "medication")
    bad = with_overrides(full, {"vitals.link_key": "my_number"})
    with pytest.raises(ValidationError, match="never keyed by the My Number"):
        VitalsParams.from_design(bad.service("vitals"))
