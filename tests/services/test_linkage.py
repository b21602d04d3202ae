"""The broker: agency-specific codes, the permission table, and the record of every exchange."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from twin.clock import jst
from twin.errors import Forbidden, NotFound, ValidationError
from twin.identity import Assurance, Identity
from twin.ids import synthetic_my_numbers
from twin.services.linkage import LinkageExchanged, LinkageRefused, NotPermitted, UnknownCode
from twin.services.linkage_messages import AgencyCode, LinkageRequest
from twin.services.linkage_network import LinkageNetwork
from twin.services.linkage_tables import (
    LinkageScope,
    Permission,
    PermissionTable,
    load_agencies,
)
from twin.services.portal import Portal

T0 = jst(2026, 4, 6, 10)
PEOPLE = pl.DataFrame(
    {"resident_id": np.arange(6, dtype=np.int64), "my_number": synthetic_my_numbers(6, 5)}
)


def network(internal=("child_allowance", "school_aid"), external=()) -> LinkageNetwork:
    net = LinkageNetwork.build(PEOPLE, LinkageScope.of(internal, external), master_key=b"k" * 32)
    net.system("city.tax").offer(
        np.array([1, 2]), "resident_tax_income", [3_200_000, 1_800_000], T0
    )
    net.system("other.tax").offer(np.array([3]), "resident_tax_income", [2_500_000], T0)
    return net


def test_codes_differ_per_organ_but_the_mayors_divisions_share_one():
    b = network().broker
    tax, child, edu, other = (
        b.issue_codes(a, np.array([1]))[0]
        for a in ("city.tax", "city.child_care", "city.education", "other.tax")
    )
    assert tax == child  # one organ (the mayor) is one information requester
    assert len({tax.value, edu.value, other.value}) == 3
    assert all(c.value.isalpha() and len(c.value) == 32 for c in (tax, edu, other))


def test_codes_differ_per_resident_and_are_stable_for_one_key_but_not_across_keys():
    a = network().broker.issue_codes("city.tax", np.array([1, 2, 1]))
    assert a[0] == a[2] and a[0] != a[1]
    other_key = LinkageNetwork.build(PEOPLE, LinkageScope.of(()), master_key=b"x" * 32)
    assert other_key.broker.issue_codes("city.tax", np.array([1]))[0] != a[0]


def test_an_agency_keeps_records_under_its_own_internal_numbers():
    net = network()
    tax, edu = net.system("city.tax"), net.system("city.education")
    edu.enroll([4, 2])
    assert tax.internal_number(1) == 1 and tax.internal_number(2) == 2
    assert edu.internal_number(4) == 1 and edu.internal_number(2) == 2
    with pytest.raises(NotFound):
        tax.internal_number(5)


def test_the_board_of_education_gets_income_from_tax_under_its_own_code():
    net = network()
    resp = net.system("city.education").ask(
        2, "school_aid", ("resident_tax_income",), "city.tax", T0
    )
    assert resp.as_dict() == {"resident_tax_income": 1_800_000}
    assert resp.subject == net.system("city.education").code_of(2)
    assert resp.subject != net.system("city.tax").code_of(2)
    (ev,) = net.broker.events.of(LinkageExchanged)
    assert (ev.requester, ev.provider, ev.task, ev.items, ev.at) == (
        "city.education",
        "city.tax",
        "school_aid",
        ("resident_tax_income",),
        T0,
    )


def test_a_resident_without_a_copy_is_answered_as_missing():
    resp = (
        network()
        .system("city.child_care")
        .ask(4, "child_allowance", ("resident_tax_income",), "city.tax", T0)
    )
    assert resp.values == () and resp.missing == ("resident_tax_income",)


def test_a_request_outside_the_permission_table_is_refused_and_logged():
    net = network()
    with pytest.raises(NotPermitted, match="outside the permission table"):
        net.system("city.housing").ask(
            1, "child_allowance", ("resident_tax_income",), "city.tax", T0
        )
    (ev,) = net.broker.events.of(LinkageRefused)
    assert (ev.requester, ev.provider, ev.task) == ("city.housing", "city.tax", "child_allowance")
    log = net.broker.exchange_frame()
    assert log["outcome"].to_list()[0].startswith("refused: outside the permission table")
    assert net.broker.events.of(LinkageExchanged) == []


def test_an_unlisted_item_in_an_otherwise_listed_request_refuses_the_whole_request():
    net = network()
    with pytest.raises(NotPermitted):
        net.system("city.child_care").ask(
            1, "child_allowance", ("resident_tax_income", "household_composition"), "city.tax", T0
        )
    assert net.broker.events.of(LinkageExchanged) == []


def test_a_listed_task_without_its_ordinance_is_refused_naming_the_ordinance():
    net = network(internal=("child_allowance",))
    with pytest.raises(NotPermitted, match=r"Art. 19\(9\) ordinance"):
        net.system("city.education").ask(2, "school_aid", ("resident_tax_income",), "city.tax", T0)
    with pytest.raises(NotPermitted, match=r"Art. 9\(2\) ordinance"):
        net.system("city.child_care").ask(
            3, "child_medical_subsidy", ("resident_tax_income",), "other.tax", T0
        )


def test_statutory_exchanges_with_other_authorities_need_no_city_ordinance():
    net = network(internal=())
    resp = net.system("city.child_care").ask(
        3, "child_allowance", ("resident_tax_income",), "other.tax", T0
    )
    assert resp.as_dict() == {"resident_tax_income": 2_500_000}
    assert net.broker.exchange_frame()["basis"].to_list() == ["statutory"]


def test_a_national_agency_asks_the_city_under_the_act_alone():
    net = network(internal=())
    resp = net.system("nat.pension").ask(
        1, "national_pension_exemption", ("resident_tax_income",), "city.tax", T0
    )
    assert resp.as_dict() == {"resident_tax_income": 3_200_000}
    assert net.system("nat.pension").code_of(1) != net.system("city.tax").code_of(1)
    with pytest.raises(NotPermitted, match="outside the permission table"):
        net.system("nat.pension").ask(
            1, "national_pension_exemption", ("household_composition",), "city.resident_records", T0
        )


def test_welfare_reads_income_inside_the_city_only_with_the_ordinance():
    net = network(internal=())
    with pytest.raises(NotPermitted, match=r"Art. 9\(2\)"):
        net.system("city.welfare").ask(
            2, "public_assistance", ("resident_tax_income",), "city.tax", T0
        )
    net = network(internal=("public_assistance",))
    resp = net.system("city.welfare").ask(
        2, "public_assistance", ("resident_tax_income",), "city.tax", T0
    )
    assert resp.as_dict() == {"resident_tax_income": 1_800_000}


def test_a_forged_code_is_refused_and_logged_without_a_person():
    net = network()
    forged = LinkageRequest(
        "city.child_care",
        "city.tax",
        "child_allowance",
        AgencyCode("a" * 32),
        ("resident_tax_income",),
        T0,
    )
    with pytest.raises(UnknownCode):
        net.broker.request(forged, T0)
    assert net.broker.exchange_frame(with_person=True)["person"].to_list() == [None]


def test_a_code_issued_to_one_organ_means_nothing_to_another():
    net = network()
    edu_code = net.system("city.education").code_of(2)
    borrowed = LinkageRequest(
        "city.child_care", "city.tax", "child_allowance", edu_code, ("resident_tax_income",), T0
    )
    with pytest.raises(UnknownCode):
        net.broker.request(borrowed, T0)


def test_the_broker_refuses_anything_but_a_typed_request():
    with pytest.raises(ValidationError):
        network().broker.request({"requester": "city.tax", "my_number": "123456789018"}, T0)  # type: ignore[arg-type]


def test_only_the_portal_may_read_the_record_of_exchanges():
    net = network()
    code = net.system("city.tax").code_of(1)
    with pytest.raises(Forbidden, match="only the portal"):
        net.broker.disclosure("city.tax", code, T0)


def test_the_resident_reads_every_exchange_about_them_and_only_theirs_on_the_portal():
    net = network()
    net.system("city.education").ask(2, "school_aid", ("resident_tax_income",), "city.tax", T0)
    net.system("city.child_care").ask(
        1, "child_allowance", ("resident_tax_income",), "city.tax", T0 + 5
    )
    with pytest.raises(NotPermitted):
        net.system("city.housing").ask(
            2, "school_aid", ("resident_tax_income",), "city.tax", T0 + 9
        )
    portal = Portal(broker=net.broker)
    me = Identity(2, "jpki_user_cert", Assurance.HIGH, T0 + 10, card_serial=99)
    log = portal.linkage_log(me, T0 + 20)
    assert log.select("at", "requester", "provider", "task", "items").rows() == [
        (T0, "city.education", "city.tax", "school_aid", "resident_tax_income"),
        (T0 + 9, "city.housing", "city.tax", "school_aid", "resident_tax_income"),
    ]
    assert log["outcome"].to_list()[0] == "provided"
    assert log["outcome"].to_list()[1].startswith("refused")
    assert log["requester_name"].to_list()[0] == "board of education"
    assert "person" not in log.columns


def test_another_residents_linkage_log_is_refused_and_a_pinless_tap_is_too():
    portal = Portal(broker=network().broker)
    with pytest.raises(Forbidden):
        portal.linkage_log(Identity(2, "jpki_user_cert", Assurance.HIGH, T0), T0, resident_id=1)
    with pytest.raises(Forbidden):
        portal.linkage_log(Identity(2, "card_serial", Assurance.MEDIUM, T0), T0)


def test_a_portal_without_a_network_says_so():
    with pytest.raises(NotFound, match="not connected"):
        Portal().linkage_log(Identity(2, "jpki_user_cert", Assurance.HIGH, T0), T0)


def test_an_unknown_resident_cannot_be_given_a_code():
    with pytest.raises(NotFound, match="not registered"):
        network().broker.issue_codes("city.tax", np.array([99]))


def table_with(row: Permission) -> PermissionTable:
    return PermissionTable(load_agencies(), [row])


@pytest.mark.parametrize(
    ("row", "why"),
    [
        (
            Permission(
                "city.education",
                "school_aid",
                "resident_tax_income",
                "city.tax",
                "ordinance_9_2",
                "x",
            ),
            "needs 'ordinance_19_9'",
        ),
        (
            Permission(
                "city.child_care",
                "child_allowance",
                "resident_tax_income",
                "city.tax",
                "statutory",
                "x",
            ),
            "needs 'ordinance_9_2'",
        ),
        (
            Permission(
                "city.child_care",
                "child_allowance",
                "resident_tax_income",
                "other.tax",
                "ordinance_19_9",
                "x",
            ),
            "needs 'ordinance_9_2'",
        ),
        (
            Permission(
                "city.child_care", "child_allowance", "my_number", "city.tax", "ordinance_9_2", "x"
            ),
            "never a linkage item",
        ),
        (
            Permission(
                "city.spies",
                "child_allowance",
                "resident_tax_income",
                "city.tax",
                "ordinance_9_2",
                "x",
            ),
            "unknown agency",
        ),
        (
            Permission(
                "city.child_care",
                "child_allowance",
                "resident_tax_income",
                "city.tax",
                "custom",
                "x",
            ),
            "not one of",
        ),
    ],
)
def test_the_permission_table_refuses_rows_that_cannot_be_lawful(row, why):
    with pytest.raises(ValidationError, match=why):
        table_with(row)


def test_the_shipped_table_is_sourced_and_names_the_ordinances_a_scope_needs():
    table = PermissionTable.load()
    frame = table.frame()
    assert frame.height == 19 and frame["source"].str.len_chars().min() > 10
    assert table.ordinances_needed(LinkageScope.of(["child_allowance"])) == {"ordinance_9_2"}
    assert table.ordinances_needed(LinkageScope.of(["school_aid"])) == {"ordinance_19_9"}
    assert table.ordinances_needed(LinkageScope.of([])) == frozenset()


def test_with_cases_required_an_agency_asks_only_about_its_applicants_and_a_probe_is_logged_for_the_resident():
    from twin.services.linkage import NoCase

    net = LinkageNetwork.build(PEOPLE, LinkageScope.of(("child_allowance",)), master_key=b"k" * 32,
                               cases_required=True)
    net.system("city.tax").offer(np.array([1, 2]), "resident_tax_income", [3_200_000, 1_800_000], T0)
    child = net.system("city.child_care")
    with pytest.raises(NoCase, match="no application or case"):
        child.ask(2, "child_allowance", ("resident_tax_income",), "city.tax", T0)
    assert not child.has_case(2, "child_allowance")
    log = net.broker.exchange_frame(with_person=True).row(0, named=True)
    assert (log["person"], log["requester"], log["outcome"].split(":")[0]) == (2, "city.child_care", "refused")
    child.open_case(2, "child_allowance")
    assert child.ask(2, "child_allowance", ("resident_tax_income",), "city.tax", T0).values
    with pytest.raises(NoCase):
        child.ask(2, "nursery_admission", ("resident_tax_income",), "city.tax", T0)
    with pytest.raises(ValidationError, match="runs no task"):
        child.open_case(2, "public_assistance")
