"""Journal snapshots without Ray: a restarted host restores its newest usable snapshot and replays only
the commands after it, answering exactly as before; unusable snapshots fall back to the full replay."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import polars as pl
import pytest

from actors import snapshots, world
from actors.host import Host
from actors.hosts_childwatch import ChildWatchHost
from actors.hosts_residents import ResidentHost
from actors.hosts_safety import ShelterHost
from actors.journal import Journal
from actors.snapshots import SnapshotFailed
from actors.spec import ServiceSpec
from tests.actors.live_helpers import T_LIVE
from twin.errors import ValidationError

ME = {"method": "jpki_user_cert", "assurance": "HIGH", "at": T_LIVE, "card_serial": 1}


@pytest.fixture(autouse=True)
def no_spacing(monkeypatch):
    """Automatic snapshots as often as `snapshot_every` allows (the time budget is tested on its own)."""
    monkeypatch.setattr(snapshots, "SPACING", 0)


def make_spec(tmp_path, **kw) -> ServiceSpec:
    kw.setdefault("snapshot_every", 0)
    return ServiceSpec(data_dir=str(tmp_path), scale=0.01, shelter_groups=2, resident_shards=2, built_at=T_LIVE,
                       **kw).open()


def holders(spec: ServiceSpec, n: int) -> list[dict]:
    r = world.city(spec).residents.filter(pl.col("has_card")).head(n)
    return r.select("resident_id", "card_serial").to_dicts()


def tap(host: ShelterHost, kind: str, row: dict, i: int, at: float) -> list[tuple[dict, int]]:
    """One reader tap (one journaled command)."""
    return host.taps(kind, [{"tap_id": f"{kind}{i}", "fingerprint": f"fp{i}", "reader_id": 1,
                             "serial": row["card_serial"], "at": at}])


def shelter_view(host: ShelterHost, spec: ServiceSpec) -> dict[str, Any]:
    """Everything a caller can read from a shelter group."""
    rids = [r["resident_id"] for r in holders(spec, 12)]
    return {"register": host.register(), "occupancy": host.occupancy(), "where": host.where(rids),
            "hq": host.headcounts(T_LIVE + 9_000, report=False)["rows"], "answers": dict(host.answers)}


def same_view(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a["register"].equals(b["register"]) and a["occupancy"].equals(b["occupancy"])
    assert a["where"] == b["where"] and a["hq"] == b["hq"] and a["answers"] == b["answers"]


def checkins(host: ShelterHost, spec: ServiceSpec, rows: range) -> None:
    people = holders(spec, 12)
    for i in rows:
        tap(host, "checkin" if i % 3 else "checkout", people[i % 12], i, T_LIVE + 10 * i)


@pytest.fixture
def shelter_with_snapshot(tmp_path):
    """A shelter group with 12 commands, a snapshot at 8 (taken on demand), and its view."""
    spec = make_spec(tmp_path)
    host = ShelterHost(spec, 0)
    checkins(host, spec, range(7))
    host.headcounts(T_LIVE + 500)  # a journaled report to the HQ
    taken = host.snapshot()
    checkins(host, spec, range(7, 11))
    view = shelter_view(host, spec)
    host.store.close()
    return spec, taken, view


def test_a_shelter_group_restarted_from_a_snapshot_answers_as_before_and_replays_only_the_rest(shelter_with_snapshot):
    spec, taken, view = shelter_with_snapshot
    again = ShelterHost(spec, 0)
    assert taken["seq"] == 8 and taken["size"] > 0
    assert (again.snapshots.restored_seq, again.replayed, len(again.journal)) == (8, 4, 12)
    assert again.ping()["snapshot_seq"] == 8 and again.ping()["replayed"] == 4
    same_view(shelter_view(again, spec), view)
    people = holders(spec, 12)
    assert tap(again, "checkin", people[1], 1, T_LIVE + 10)[0][0]["status"] == "duplicate"
    assert again.register().height == view["register"].height  # the repeated key recorded nothing
    again.store.close()


def test_a_corrupt_snapshot_falls_back_to_the_full_replay_with_identical_state(shelter_with_snapshot, caplog):
    spec, taken, view = shelter_with_snapshot
    probe = ShelterHost(spec, 0)
    with probe.store.transaction() as tx:
        tx.execute("UPDATE twin_snapshots SET blob = ? WHERE seq = ?", (b"not a pickle", taken["seq"]))
    probe.store.close()
    with caplog.at_level(logging.WARNING, logger="actors.snapshots"):
        again = ShelterHost(spec, 0)
    assert (again.snapshots.restored_seq, again.replayed) == (0, 12)
    assert "not restoring snapshot 8: it cannot be read" in caplog.text
    same_view(shelter_view(again, spec), view)
    again.store.close()


def test_a_snapshot_made_for_another_design_or_other_code_is_not_used(shelter_with_snapshot, caplog, monkeypatch):
    spec, _, view = shelter_with_snapshot
    with caplog.at_level(logging.WARNING, logger="actors.snapshots"):
        other = ShelterHost(dataclasses.replace(spec, design="baseline"), 0)
    assert (other.snapshots.restored_seq, other.replayed) == (0, 12)
    assert "made for another design, layout, layout.design" in caplog.text
    other.store.close()
    caplog.clear()
    monkeypatch.setattr(snapshots, "code_digest", lambda: "0123456789abcdef")
    with caplog.at_level(logging.WARNING, logger="actors.snapshots"):
        again = ShelterHost(spec, 0)
    assert (again.snapshots.restored_seq, again.replayed) == (0, 12) and "another code" in caplog.text
    same_view(shelter_view(again, spec), view)
    again.store.close()


def test_a_snapshot_past_the_journals_end_is_not_used(shelter_with_snapshot, caplog):
    spec, _, view = shelter_with_snapshot
    probe = ShelterHost(spec, 0)
    with probe.store.transaction() as tx:  # the journal restored from an older backup than the snapshot
        tx.execute("DELETE FROM twin_journal WHERE seq > 5")
    probe.store.close()
    with caplog.at_level(logging.WARNING, logger="actors.snapshots"):
        again = ShelterHost(spec, 0)
    assert (again.snapshots.restored_seq, again.replayed) == (0, 5) and "past the journal's end" in caplog.text
    assert again.register().height < view["register"].height
    again.store.close()


def test_snapshots_are_taken_every_n_commands_and_only_the_newest_three_kept(tmp_path):
    spec = make_spec(tmp_path, snapshot_every=3)
    host = ShelterHost(spec, 0)
    checkins(host, spec, range(7))
    assert [s["seq"] for s in host.snapshots.listed()] == [6, 3]
    checkins(host, spec, range(7, 16))
    assert [s["seq"] for s in host.snapshots.listed()] == [15, 12, 9]
    assert host.ping()["snapshot_taken"] == 15
    view = shelter_view(host, spec)
    host.store.close()
    again = ShelterHost(spec, 0)
    assert (again.snapshots.restored_seq, again.replayed) == (15, 1)
    same_view(shelter_view(again, spec), view)
    again.store.close()


def test_an_automatic_snapshot_waits_until_a_hundred_times_its_own_duration_has_passed(tmp_path, monkeypatch):
    monkeypatch.setattr(snapshots, "SPACING", 100)
    spec = make_spec(tmp_path, snapshot_every=2)
    host = ShelterHost(spec, 0)
    checkins(host, spec, range(2))
    (first,) = host.snapshots.listed()
    assert host.snapshots.not_before > 0
    checkins(host, spec, range(2, 6))  # due by count, held back by time
    assert host.snapshots.listed() == [first]
    host.snapshots.not_before = 0.0  # as if the time had passed
    checkins(host, spec, range(6, 7))
    assert [s["seq"] for s in host.snapshots.listed()] == [7, 2]
    host.store.close()


def test_an_unreadable_newest_snapshot_falls_back_to_the_one_before(tmp_path):
    spec = make_spec(tmp_path, snapshot_every=4)
    host = ShelterHost(spec, 0)
    checkins(host, spec, range(10))
    view = shelter_view(host, spec)
    with host.store.transaction() as tx:
        tx.execute("UPDATE twin_snapshots SET format = ? WHERE seq = 8", ("pickle0/v0",))
    host.store.close()
    again = ShelterHost(spec, 0)
    assert (again.snapshots.restored_seq, again.replayed) == (4, 6)
    same_view(shelter_view(again, spec), view)
    again.store.close()


def test_a_long_replay_at_start_is_snapshotted_at_once(tmp_path):
    spec = make_spec(tmp_path)
    host = ShelterHost(spec, 0)
    checkins(host, spec, range(6))
    host.store.close()
    again = ShelterHost(dataclasses.replace(spec, snapshot_every=5), 0)
    assert again.replayed == 6 and [s["seq"] for s in again.snapshots.listed()] == [6]
    again.store.close()
    third = ShelterHost(spec, 0)
    assert (third.snapshots.restored_seq, third.replayed) == (6, 0)
    third.store.close()


def test_a_resident_shard_from_a_snapshot_keeps_balances_mailboxes_and_handbooks(tmp_path):
    spec = make_spec(tmp_path)
    rid = next(r["resident_id"] for r in holders(spec, 20) if r["resident_id"] % 2 == 1)
    me = {**ME, "resident_id": rid}
    shard = ResidentHost(spec, 1)
    shard.post([{"op": "top_up", "key": "k1", "resident_id": rid, "amount": 500, "channel": "counter"}], T_LIVE)
    shard.deliver([(rid, "notice", "hello", T_LIVE)])
    shard.snapshot()
    shard.post([{"op": "fee", "key": "k2", "resident_id": rid, "fee_type": "residence_record", "amount": 300,
                 "channel": "counter", "method": "wallet"}], T_LIVE + 1)  # the ledger after the snapshot
    shard.vitals_record(rid, "medication", "allergy", "penicillin", "clinic-1", T_LIVE + 2)
    balances = shard.balances()
    shard.store.close()
    again = ResidentHost(spec, 1)
    assert (again.snapshots.restored_seq, again.replayed) == (1, 1)
    assert again.wallet(rid, T_LIVE + 3)["wallet_yen"] == 200
    (refused,) = again.post([{"op": "fee", "key": "k3", "resident_id": rid, "fee_type": "residence_record",
                              "amount": 300, "channel": "counter", "method": "wallet"}], T_LIVE + 3)
    assert refused["refused"] and refused["status"] == 409  # 200 left: the balance is the store's, not the snapshot's
    assert [m["body"] for m in again.mailbox(me, T_LIVE + 10)] == ["hello"]
    assert [r["detail"] for r in again.vitals_read(me, rid, "medication", T_LIVE + 10)] == ["penicillin"]
    assert again.reconcile()["ok"] and again.balances() == balances
    again.store.close()


def child_and_guardian(spec: ServiceSpec) -> tuple[dict, int]:
    r = world.city(spec).residents
    kids = r.filter(pl.col("school_child") & pl.col("has_card") & (pl.col("age") <= 12))
    adults = r.filter(pl.col("age") >= 20).select("household_id", pl.col("resident_id").alias("guardian"))
    pair = kids.join(adults, on="household_id").row(0, named=True)
    return pair, int(pair["guardian"])


def test_child_watch_from_a_snapshot_notifies_through_the_restarted_host(tmp_path):
    spec = make_spec(tmp_path)
    host = ChildWatchHost(spec)
    kid, guardian = child_and_guardian(spec)
    host.enrol(kid["resident_id"], {**ME, "resident_id": guardian}, T_LIVE)
    host.snapshot()
    host.store.close()
    again = ChildWatchHost(spec)
    assert (again.snapshots.restored_seq, again.replayed) == (1, 0)
    school = again.sites()[0]
    ((answer, status),) = again.taps([{"tap_id": "s1", "fingerprint": "f", "facility_id": school,
                                       "serial": kid["card_serial"], "at": T_LIVE + 60}])
    assert status == 201 and answer["result"] == {"guardian_notified": True}
    assert [(g, topic) for _, g, topic, _, _ in again.pending()] == [(guardian, "child_watch")]
    assert host.pending() == []  # the old host's outbox got nothing: the callback is the new host's
    again.store.close()


class Tally(Host):
    """A tiny host for the machinery: a counter, and an attribute that cannot be pickled when asked."""

    kind = "tally"

    def build(self) -> None:
        self.count, self.seen, self.poisoned, self.hook = 0, [], False, None

    def ops(self) -> dict:
        return {"add": self._add}

    def _add(self, b: dict, at: float) -> int:
        if self.poisoned:
            raise RuntimeError("state from a bad snapshot")
        self.count += int(b["n"])
        self.seen.append(int(b["n"]))
        return self.count


def test_a_failing_replay_after_a_snapshot_rebuilds_and_replays_everything(tmp_path, caplog):
    spec = make_spec(tmp_path)
    host = Tally(spec, "tally")
    for n in (1, 2, 3):
        host.run("add", {"n": n}, T_LIVE)
    host.poisoned = True  # a state no replay produces, snapshotted
    host.snapshot()
    host.poisoned = False
    host.run("add", {"n": 4}, T_LIVE)
    host.store.close()
    with caplog.at_level(logging.WARNING, logger="actors.snapshots"):
        again = Tally(spec, "tally")
    assert (again.count, again.seen, again.poisoned) == (10, [1, 2, 3, 4], False)
    assert (again.snapshots.restored_seq, again.replayed) == (0, 4) and "replay after snapshot 3 failed" in caplog.text
    again.store.close()


def test_an_aggregate_that_cannot_be_pickled_is_refused_on_demand_and_skipped_automatically(tmp_path, caplog):
    spec = make_spec(tmp_path, snapshot_every=2)
    host = Tally(spec, "tally")
    host.hook = lambda: None
    with pytest.raises(SnapshotFailed, match="tally: cannot snapshot the aggregate"):
        host.snapshot()
    with caplog.at_level(logging.WARNING, logger="actors.snapshots"):
        answers = [host.run("add", {"n": n}, T_LIVE) for n in (1, 2, 3, 4)]
    assert answers == [1, 3, 6, 10] and len(Journal(host.store)) == 4
    assert host.snapshots.listed() == [] and caplog.text.count("cannot snapshot") == 1
    host.store.close()
    again = Tally(spec, "tally")
    assert (again.count, again.snapshots.restored_seq, again.replayed) == (10, 0, 4)
    again.store.close()


@pytest.mark.parametrize(("value", "message"), [(-1, "snapshot_every must be an integer in 0..10000000, got -1"),
                                                (True, "got True"), (2.5, "got 2.5")])
def test_a_bad_snapshot_interval_is_refused_naming_it(tmp_path, value, message):
    with pytest.raises(ValidationError, match=message):
        ServiceSpec(data_dir=str(tmp_path), snapshot_every=value)


@pytest.mark.postgres
def test_a_shelter_group_on_postgresql_restarts_from_a_snapshot(tmp_path, pg_dsn):
    import psycopg

    from actors.stores import schema_of

    spec = make_spec(tmp_path, store=pg_dsn, snapshot_every=5)
    try:
        host = ShelterHost(spec, 0)
        checkins(host, spec, range(12))
        view = shelter_view(host, spec)
        assert [s["seq"] for s in host.snapshots.listed()] == [10, 5]
        host.store.close()
        again = ShelterHost(spec, 0)
        assert (again.snapshots.restored_seq, again.replayed) == (10, 2)
        same_view(shelter_view(again, spec), view)
        again.store.close()
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema_of(spec, "shelters_0")}" CASCADE')


def test_serve_refuses_a_negative_snapshot_interval_before_starting_anything(cli, tmp_path):
    r = cli("serve", "--data", str(tmp_path / "d"), "--scale", "0.01", "--snapshot-every", "-3")
    assert r.returncode == 2
    assert "error: snapshot_every must be an integer in 0..10000000, got -3" in r.stderr
    assert not (tmp_path / "d").exists()
