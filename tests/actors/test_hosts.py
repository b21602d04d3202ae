"""The hosts without Ray: journals replayed on restart (SQLite and PostgreSQL), idempotent answers,
a failed commit ends the process, the data folder is bound to its layout, credentials and sessions."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

from actors import world
from actors.auth import Credentials, Device, RoleForbidden, Unauthorized
from actors.hosts_residents import ResidentHost
from actors.hosts_safety import ShelterHost
from actors.journal import Journal
from actors.spec import ServiceSpec
from tests.actors.live_helpers import T_LIVE
from twin.errors import Conflict, ValidationError


def make_spec(tmp_path, **kw) -> ServiceSpec:
    return ServiceSpec(data_dir=str(tmp_path), scale=0.01, shelter_groups=2, resident_shards=2, built_at=T_LIVE,
                       **kw).open()


def holder_rows(spec, n: int, skip: int = 0) -> list[dict]:
    r = world.city(spec).residents.filter(pl.col("has_card")).slice(skip, n)
    return r.select("resident_id", "card_serial").to_dicts()


def taps(rows: list[dict], reader: int, at: float, prefix: str = "t") -> list[dict]:
    return [{"tap_id": f"{prefix}{i}", "fingerprint": f"fp{i}", "reader_id": reader, "serial": r["card_serial"],
             "at": at + i} for i, r in enumerate(rows)]


def exercise(host: ShelterHost, spec: ServiceSpec) -> list:
    rows = holder_rows(spec, 6)
    first = host.taps("checkin", taps(rows, 1, T_LIVE))
    host.taps("checkout", taps(rows[:2], 1, T_LIVE + 100, prefix="o"))
    host.headcounts(T_LIVE + 200)
    host.command("paper", {"shelter_id": host.shelters()[0], "resident_id": 3, "now": T_LIVE + 300,
                           "rng_state": {"bit_generator": "PCG64", "state": {"state": 7, "inc": 9},
                                         "has_uint32": 0, "uinteger": 0}})
    host.command("reconcile", {"now": T_LIVE + 400, "limit": None})
    return first


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_restarted_shelter_host_replays_its_journal_and_answers_as_before(tmp_path, backend, request):
    store = request.getfixturevalue("pg_dsn") if backend == "postgresql" else "sqlite"
    spec = make_spec(tmp_path, store=store)
    host = ShelterHost(spec, 0)
    first = exercise(host, spec)
    register, occupancy = host.register(), host.occupancy()
    host.store.close()
    again = ShelterHost(spec, 0)
    try:
        assert again.replayed == len(host.journal) == 5
        assert again.register().equals(register) and again.occupancy().equals(occupancy)
        repeat = again.taps("checkin", taps(holder_rows(spec, 6), 1, T_LIVE))
        assert [a for a, _ in repeat] == [{**a, "status": "duplicate"} for a, _ in first]
        assert again.register().height == register.height  # the repeat recorded nothing
    finally:
        again.store.close()
        if backend == "postgresql":
            _drop(store, spec)


def _drop(dsn: str, spec: ServiceSpec) -> None:
    import psycopg

    from actors.stores import schema_of

    with psycopg.connect(dsn, autocommit=True) as conn:
        for name in ("shelters_0", "residents_1"):
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema_of(spec, name)}" CASCADE')


@pytest.mark.postgres
def test_a_resident_shard_on_postgresql_keeps_wallets_mailboxes_and_handbooks_across_a_restart(tmp_path, pg_dsn):
    spec = make_spec(tmp_path, store=pg_dsn)
    rid = next(r["resident_id"] for r in holder_rows(spec, 20) if r["resident_id"] % 2 == 1)
    shard = ResidentHost(spec, 1)
    try:
        answers = shard.post([{"op": "top_up", "key": "k1", "resident_id": rid, "amount": 500, "channel": "counter"},
                              {"op": "fee", "key": "k2", "resident_id": rid, "fee_type": "residence_record",
                               "amount": 300, "channel": "counter", "method": "wallet"},
                              {"op": "fee", "key": "k3", "resident_id": rid, "fee_type": "residence_record",
                               "amount": 300, "channel": "counter", "method": "wallet"}], T_LIVE)
        assert [a["refused"] for a in answers] == [False, False, True] and answers[2]["status"] == 409
        shard.deliver([(rid, "notice", "hello", T_LIVE)])
        shard.vitals_record(rid, "medication", "allergy", "penicillin", "clinic-1", T_LIVE)
        shard.store.close()
        again = ResidentHost(spec, 1)
        me = {"resident_id": rid, "method": "jpki_user_cert", "assurance": "HIGH", "at": T_LIVE + 5, "card_serial": 1}
        assert again.wallet(rid, T_LIVE)["wallet_yen"] == 200
        assert [m["body"] for m in again.mailbox(me, T_LIVE + 10)] == ["hello"]
        assert [r["detail"] for r in again.vitals_read(me, rid, "medication", T_LIVE + 10)] == ["penicillin"]
        assert again.reconcile()["ok"]
        again.store.close()
    finally:
        _drop(pg_dsn, spec)


def test_a_resident_on_another_shard_is_refused_not_posted(tmp_path):
    spec = make_spec(tmp_path)
    shard = ResidentHost(spec, 0)
    (answer,) = shard.post([{"op": "top_up", "key": "x", "resident_id": 1, "amount": 10, "channel": "counter"}], T_LIVE)
    assert answer["refused"] and "not on shard 0" in answer["detail"]
    (answer,) = shard.post([{"op": "teleport", "key": "x"}], T_LIVE)
    assert answer["refused"] and "op must be one of" in answer["detail"]
    assert shard.reconcile()["postings"] == 0


def test_a_failed_journal_commit_ends_the_process_before_anything_is_acknowledged(tmp_path, monkeypatch):
    spec = make_spec(tmp_path)
    host = ShelterHost(spec, 0)

    def broken(*_a, **_k):
        raise OSError("disk full")

    class Exited(BaseException):
        pass

    def exit_(code):
        raise Exited(code)

    monkeypatch.setattr(host.journal, "commit", broken)
    monkeypatch.setattr("actors.host.os._exit", exit_)
    with pytest.raises(Exited):
        host.taps("checkin", taps(holder_rows(spec, 1), 1, T_LIVE))
    assert "t0" not in {k.split(":", 1)[1] for k in host.answers}
    assert Journal(host.store).answers() == {}


def test_a_data_folder_refuses_another_city_or_shard_layout(tmp_path):
    spec = make_spec(tmp_path)
    with pytest.raises(Conflict, match="made for resident_shards=2, not 3"):
        dataclasses.replace(spec, resident_shards=3, built_at=0.0, instance="").open()
    with pytest.raises(Conflict, match="city='kumamoto'"):
        ServiceSpec(data_dir=str(tmp_path), city="sendai", scale=0.01, shelter_groups=2, resident_shards=2).open()
    again = ServiceSpec(data_dir=str(tmp_path), scale=0.01, shelter_groups=2, resident_shards=2).open()
    assert (again.built_at, again.instance) == (spec.built_at, spec.instance)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("scale", 0, "scale must be"), ("shelter_groups", 0, "shelter_groups"), ("store", "mysql://x", "store must be"),
    ("namespace", "no spaces", "namespace"), ("synchronous", "OFF", "synchronous"),
])
def test_a_bad_setting_is_refused_naming_it(tmp_path, field, value, message):
    with pytest.raises(ValidationError, match=message):
        ServiceSpec(data_dir=str(tmp_path), **{field: value})


def test_more_shelter_groups_than_wards_with_shelters_is_refused(tmp_path):
    spec = make_spec(tmp_path)
    with pytest.raises(ValidationError, match="use at most 5 shelter groups"):
        world.group_wards(world.city(spec), 6)


def creds(tmp_path) -> tuple[Credentials, dict]:
    devices = [Device("shelter-1-1", "shelter", "shelter-1", facility_id=1, group=0, reader_id=1),
               Device("hq-1", "hq", "hq")]
    c = Credentials.issue(tmp_path / "credentials.json", devices, ["city.tax"])
    return c, __import__("json").loads((tmp_path / "credentials.json").read_text())


def test_credentials_are_issued_once_owner_only_and_checked_by_digest(tmp_path):
    c, raw = creds(tmp_path)
    assert (tmp_path / "credentials.json").stat().st_mode & 0o777 == 0o600
    token = raw["devices"][0]["token"]
    assert c.device(f"Bearer {token}", "shelter-1-1", ("shelter",)).reader_id == 1
    assert token not in str(c.public())
    again = Credentials.issue(tmp_path / "credentials.json", [], [])
    assert again.device(f"Bearer {token}", "shelter-1-1", ("shelter",)).device_id == "shelter-1-1"
    with pytest.raises(Unauthorized):
        c.device(f"Bearer {token}", "hq-1", ("hq",))
    with pytest.raises(RoleForbidden, match="needs a hq device"):
        c.device(f"Bearer {token}", "shelter-1-1", ("hq",))
    with pytest.raises(Unauthorized, match="missing credentials"):
        c.device(token, "shelter-1-1", ("shelter",))
    assert c.agency(f"Bearer {raw['agencies'][0]['token']}", "city.tax") == "city.tax"


def test_a_session_token_carries_the_login_and_refuses_tampering_and_age(tmp_path):
    c, _ = creds(tmp_path)
    ident = {"resident_id": 7, "method": "jpki_user_cert", "assurance": "HIGH", "at": T_LIVE, "card_serial": 70}
    token, expires = c.session_token(ident)
    got = c.resident(f"Bearer {token}", T_LIVE + 60)
    assert expires == T_LIVE + 1800 and {k: got[k] for k in ident} == ident
    assert got["exp"] == expires and len(got["sid"]) == 16  # a session id, so a logout can end this session
    body, sig = token.split(".")
    import base64
    import json

    forged_body = base64.urlsafe_b64encode(json.dumps({**ident, "resident_id": 8, "exp": expires}).encode()).decode()
    for bad in (f"{forged_body.rstrip('=')}.{sig}", f"{body}.{sig[:-2]}xx", "garbage", f"{body}."):
        with pytest.raises(Unauthorized):
            c.resident(f"Bearer {bad}", T_LIVE + 60)
    with pytest.raises(Unauthorized, match="expired"):
        c.resident(f"Bearer {token}", T_LIVE + 1801)


def test_a_service_the_design_does_not_run_is_refused_as_not_found():
    from actors.context import Context, ServiceDisabled

    c = Context.__new__(Context)  # only the design matters here
    c.design = world.design_of("baseline")
    enabled = set(c.design.enabled_services())
    off = next(k for k in ("safety", "payments", "vitals", "linkage") if k not in enabled)
    with pytest.raises(ServiceDisabled, match=f"the {off} service is not enabled in design") as err:
        c.require(off)
    assert err.value.status == 404
    for key in enabled:
        c.require(key)


def test_a_batch_tap_fingerprint_changes_with_any_field():
    from actors.models import TapIn
    from actors.routes_readers import fingerprint

    base = {"tap_id": "a" * 32, "device_id": "d-1", "site_id": "s-1", "kind": "checkin", "at": 1.5,
            "card": {"card_serial": 7}}
    fp = fingerprint(TapIn.model_validate(base))
    assert fingerprint(TapIn.model_validate(dict(base))) == fp
    for change in ({"at": 1.5000001}, {"card": {"card_serial": 8}}, {"site_id": "s-2"}, {"kind": "checkout"},
                   {"card": {"card_serial": 7, "certificate_serial": "ab"}}):
        assert fingerprint(TapIn.model_validate({**base, **change})) != fp


def test_a_notice_forwarded_twice_lands_in_the_mailbox_once(tmp_path):
    spec = make_spec(tmp_path)
    shard = ResidentHost(spec, 0)
    notice = ("childwatch:7", 4, "child_watch", "tapped in", T_LIVE)
    first = shard.deliver_once([notice])
    assert shard.deliver_once([notice, ("childwatch:8", 4, "child_watch", "again", T_LIVE)])[0] == first[0]
    me = {"resident_id": 4, "method": "jpki_user_cert", "assurance": "HIGH", "at": T_LIVE, "card_serial": 1}
    assert [m["body"] for m in shard.mailbox(me, T_LIVE + 1)] == ["tapped in", "again"]
    shard.store.close()
    again = ResidentHost(spec, 0)
    assert again.deliver_once([notice]) == first
    assert len(again.mailbox(me, T_LIVE + 1)) == 2


def test_a_kiosk_outside_its_hours_refuses_and_charges_nothing(tmp_path):
    from actors.hosts_kiosks import KioskHost
    from twin.clock import jst
    from twin.services.certificate_rules import ServiceClosed

    spec = make_spec(tmp_path)
    fleet = KioskHost(spec)
    kiosk = fleet.sites()["kiosks"][0]
    night = jst(2026, 4, 6, 2)
    ident = {"resident_id": 3, "method": "jpki_user_cert", "assurance": "HIGH", "at": night, "card_serial": 1}
    with pytest.raises(ServiceClosed):
        fleet.kiosk_request(kiosk, ident, "residence_record", night, request_key="k-1")
    day = jst(2026, 4, 6, 10)
    doc = fleet.kiosk_request(kiosk, {**ident, "at": day}, "residence_record", day, request_key="k-1")
    assert doc["fee_yen"] == 200 and fleet.documents().height == 1 and fleet.reconcile()["ok"]
