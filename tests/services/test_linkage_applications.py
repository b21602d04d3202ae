"""Applications: attachments linkage removes, the desk that fetches them, and a whole city run."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from twin.clock import jst
from twin.errors import NotFound, ValidationError
from twin.identity import Assurance, Identity
from twin.ids import format_my_number
from twin.services.linkage import Broker
from twin.services.linkage_applications import (
    ApplicationDesk,
    ApplicationFiled,
    applications,
    attachments,
    avoided_per_application,
    certificate_demand,
    certificates_avoided,
)
from twin.services.linkage_network import LinkageNetwork, seed_copies
from twin.services.linkage_tables import LinkageScope
from twin.services.portal import Portal

T0 = jst(2026, 4, 6, 10)
ROOT = Path(__file__).resolve().parents[2]
ALL = (
    "child_allowance",
    "nursery_admission",
    "school_aid",
    "child_medical_subsidy",
    "single_parent_medical_subsidy",
    "municipal_housing",
    "disaster_relief_payment",
    "library_registration",
    "sports_facility_discount",
)


def test_without_ordinances_no_attachment_of_a_resident_whose_data_is_here_is_avoided():
    out = avoided_per_application(())
    assert all(n == 0 for certs in out.values() for n in certs.values())
    assert set(out) == set(ALL)


def test_enabling_child_allowance_avoids_its_tax_certificate_only():
    out = avoided_per_application({"child_allowance"})
    assert out["child_allowance"] == {"tax_certificate": 1}
    assert out["nursery_admission"] == {"tax_certificate": 0, "employment_certificate": 0}


def test_every_task_enabled_avoids_city_certificates_but_not_employment_ones():
    out = avoided_per_application(ALL)
    assert out["nursery_admission"] == {"tax_certificate": 1, "employment_certificate": 0}
    assert out["single_parent_medical_subsidy"] == {"tax_certificate": 1, "family_register": 1}
    assert out["municipal_housing"] == {"tax_certificate": 1, "residence_record": 1}


def test_tasks_outside_the_three_fields_avoid_nothing_even_when_a_design_names_them():
    out = avoided_per_application(ALL, ALL)
    assert out["library_registration"] == {"residence_record": 0}
    assert out["sports_facility_discount"] == {"residence_record": 0}


def test_for_a_mover_statutory_tasks_reach_the_previous_city_without_any_ordinance():
    out = avoided_per_application((), held_elsewhere=True)
    assert out["child_allowance"]["tax_certificate"] == 1  # Appended Table 2
    assert out["child_medical_subsidy"]["tax_certificate"] == 0  # 規則連携 needs the ordinance
    assert (
        avoided_per_application((), ["child_medical_subsidy"], held_elsewhere=True)[
            "child_medical_subsidy"
        ]["tax_certificate"]
        == 1
    )


def test_certificates_avoided_frame_has_one_row_per_attachment():
    frame = certificates_avoided(["municipal_housing"])
    assert frame.height == len(attachments())
    assert frame.filter(pl.col("application") == "municipal_housing")[
        "copies_avoided"
    ].to_list() == [1, 1]
    assert frame["copies_needed"].sum() == 13


def test_certificate_demand_totals_the_requests_a_batch_of_applications_causes():
    filed = pl.DataFrame(
        {
            "application": [
                "child_allowance",
                "child_allowance",
                "nursery_admission",
                "municipal_housing",
            ],
            "held_elsewhere": [False, True, False, False],
        }
    )
    demand = certificate_demand(filed, ["municipal_housing"])
    assert demand.rows() == [
        ("employment_certificate", "", 2, 0, 2),
        ("residence_record", "residence_record", 1, 1, 0),
        ("tax_certificate", "tax_certificate", 4, 2, 2),  # the mover's statutory one, and housing's
    ]
    with pytest.raises(NotFound, match="unknown application"):
        certificate_demand(pl.DataFrame({"application": ["pet_licence"]}), [])
    with pytest.raises(ValidationError):
        certificate_demand(pl.DataFrame({"x": [1]}), [])


def test_city_certificates_name_a_fee_type_the_ledger_knows():
    from twin.services.ledger_rules import LedgerParams

    for a in attachments():
        assert (a.fee_type in LedgerParams().fee_types) == (a.issued_by == "city"), a


def test_application_keys_and_attachments_match_the_design_task_catalogue():
    path = ROOT / "twin" / "policy_data" / "linkage_tasks.toml"
    if not path.exists():
        pytest.skip("the design engineer's task catalogue has not landed")
    tasks = tomllib.loads(path.read_text())["tasks"]
    assert set(applications()) == set(tasks)
    for app, spec in tasks.items():
        mine = {a.certificate for a in attachments() if a.application == app}
        assert set(spec["attachments"]) <= mine, app


@pytest.fixture(scope="module")
def city_network(small_city):
    net = LinkageNetwork.build(
        small_city.residents, LinkageScope.of(ALL, ALL), master_key=b"m" * 32
    )
    seed_copies(net, small_city.residents, np.random.default_rng(7), T0)
    return net


def test_the_desk_fetches_what_the_count_says_for_a_resident_whose_data_is_here(
    small_city, city_network
):
    r = small_city.residents
    rid = int(r.filter(pl.col("tax_record") & pl.col("family_register_here"))["resident_id"][0])
    desk = ApplicationDesk(city_network)
    expected = avoided_per_application(ALL, ALL)
    for app in ALL:
        receipt = desk.file(rid, app, T0)
        assert {c: 1 for c in receipt.fetched} == {c: n for c, n in expected[app].items() if n}, app
    events = desk.events.of(ApplicationFiled)
    assert [e.application_id for e in events] == list(range(1, len(ALL) + 1))


def test_the_desk_falls_back_to_the_previous_city_for_a_mover(small_city, city_network):
    r = small_city.residents
    mover = int(
        r.filter(~pl.col("tax_record") & (pl.col("age") >= 30) & (pl.col("age") < 60))[
            "resident_id"
        ][0]
    )
    receipt = ApplicationDesk(city_network).file(mover, "child_allowance", T0)
    assert receipt.fetched == ("tax_certificate",) and receipt.must_attach == ()
    log = city_network.broker.exchange_frame().filter(pl.col("task") == "child_allowance").tail(2)
    assert log["provider"].to_list() == ["city.tax", "other.tax"]


def test_a_child_with_no_income_record_must_attach_a_certificate(small_city, city_network):
    child = int(small_city.residents.filter(pl.col("age") < 10)["resident_id"][0])
    receipt = ApplicationDesk(city_network).file(child, "child_allowance", T0, channel="mail")
    assert receipt.fetched == () and receipt.must_attach == (("tax_certificate", 1),)


def test_the_desk_refuses_unknown_applications_and_channels(city_network):
    desk = ApplicationDesk(city_network)
    with pytest.raises(NotFound):
        desk.file(1, "pet_licence", T0)
    with pytest.raises(ValidationError):
        desk.file(1, "child_allowance", T0, channel="carrier_pigeon")


def test_an_e_application_on_the_portal_reuses_linkage_and_counts_toward_take_up(
    small_city, city_network
):
    r = small_city.residents
    rid = int(r.filter(pl.col("tax_record"))["resident_id"][3])
    portal = Portal(broker=city_network.broker)
    portal.notify_eligible(np.array([rid]), "child_allowance", T0)
    me = Identity(rid, "jpki_user_cert", Assurance.HIGH, T0, card_serial=1)
    receipt = portal.apply(me, "child_allowance", T0 + 60, ApplicationDesk(city_network))
    assert receipt.channel == "portal" and receipt.fetched == ("tax_certificate",)
    assert portal.take_up("child_allowance").applied_notified == 1
    log = portal.linkage_log(me, T0 + 120)
    assert log.filter(pl.col("task") == "child_allowance")["requester"].to_list() == [
        "city.child_care"
    ]


class SpyBroker(Broker):
    """Records every message that crosses the network."""

    seen: list

    def request(self, req, now):
        self.seen.append(req)
        resp = super().request(req, now)
        self.seen.append(resp)
        return resp


def test_no_message_in_a_whole_city_run_carries_any_residents_my_number(small_city):
    r = small_city.residents.head(400)
    net = LinkageNetwork.build(r, LinkageScope.of(ALL, ALL), master_key=b"s" * 32)
    net.broker.__class__ = SpyBroker
    net.broker.seen = []
    seed_copies(net, r, np.random.default_rng(1), T0)
    desk = ApplicationDesk(net)
    for rid in r["resident_id"].to_list():
        for app in ("child_allowance", "single_parent_medical_subsidy", "municipal_housing"):
            desk.file(rid, app, T0)
    assert len(net.broker.seen) > 1000
    wire = " ".join(repr(dataclasses.astuple(m)) for m in net.broker.seen)
    numbers = {format_my_number(v) for v in r["my_number"].to_list()}
    assert not numbers & set(re.findall(r"\d{12}", wire))
    assert not any(n in wire for n in numbers)
    assert not any(str(int(n)) in wire for n in numbers if int(n) >= 10**9)


def test_the_design_files_map_onto_the_linkage_scope():
    from twin.design import load_design

    full = LinkageScope.from_design(load_design(ROOT / "designs" / "full.toml").service("linkage"))
    assert "school_aid" in full.internal_tasks and "school_aid" in full.external_tasks
    base = LinkageScope.from_design(
        load_design(ROOT / "designs" / "baseline.toml").service("linkage")
    )
    assert base == LinkageScope(frozenset())
    out = avoided_per_application(full.internal_tasks, full.external_tasks)
    assert out["school_aid"] == {"tax_certificate": 1}


def test_an_unknown_task_is_refused_rather_than_counted_as_zero():
    with pytest.raises(ValidationError, match="unknown linkage task 'child_alowance'"):
        avoided_per_application(["child_alowance"])


def test_the_linkage_command_prints_the_avoided_certificates_for_a_design(cli):
    out = cli("linkage", "--design", "designs/full.toml", "--format", "json")
    assert out.returncode == 0, out.stderr
    import json

    data = json.loads(out.stdout)
    assert (data["copies_needed"], data["copies_avoided"]) == (13, 9)
    assert data["ordinances_needed"] == ["ordinance_19_9", "ordinance_9_2"]
    text = cli("linkage", "--tasks", "child_allowance")
    assert "child_allowance" in text.stdout and "ordinances needed: ordinance_9_2" in text.stdout
    perms = cli("linkage", "--permissions", "--format", "json")
    assert len(json.loads(perms.stdout)) == 19
