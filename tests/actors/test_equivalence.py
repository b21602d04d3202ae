"""A trace recorded from a SimPy scenario, replayed through the actors, gives the same domain outcome:
the same check-ins (the whole tap register), head counts and records; the same balances."""

from __future__ import annotations

import uuid

import numpy as np
import polars as pl
import pytest

from actors import trace as tr
from actors.hosts_residents import ResidentHost
from actors.hosts_safety import ShelterHost
from actors.spec import ServiceSpec
from scenarios.designs import load as load_design
from scenarios.params import parse_jst
from tests.actors.live_helpers import wait_until

pytestmark = pytest.mark.slow


def ping(ray, handle):
    """The actor's ping once it answers again (None while it restarts)."""
    try:
        return ray.get(handle.ping.remote(), timeout=30)
    except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError, ray.exceptions.GetTimeoutError):
        return None


@pytest.fixture(scope="module")
def disaster_run():
    """An 8-hour disaster at 1 % of Kumamoto with reader outages, paper forms and face checks, recorded."""
    from scenarios.disaster import Params, simulate

    d = load_design("full")
    p = Params(scale=0.01, horizon_h=8.0, readers_per_shelter=d.safety.readers_per_shelter,
               paper_staff_per_shelter=d.safety.paper_form_staff_per_shelter, reader_offline_probability=0.5,
               face_check_enabled=True, stay_decline_per_day=3.0, engine="simpy")
    with tr.record() as trace:
        model, _rows, stats = simulate(p, np.random.default_rng(3))
    return p, model, trace, stats


def spec_for(tmp_path, p, t0: float, shards: int = 1) -> ServiceSpec:
    return ServiceSpec(data_dir=str(tmp_path), city=p.city, seed=p.city_seed, scale=p.scale, design="full",
                       shelter_groups=1, resident_shards=shards, namespace=f"eq-{uuid.uuid4().hex[:8]}",
                       built_at=t0).open()


def test_recording_a_fast_engine_run_is_refused_with_the_engine_to_use():
    from scenarios.disaster import Params, simulate
    from twin.errors import ValidationError
    from twin.services.shelters import ShelterNetwork

    with pytest.raises(ValidationError, match="engine='simpy'"), tr.record():
        simulate(Params(scale=0.01, horizon_h=2.0, engine="fast"), np.random.default_rng(3))
    assert ShelterNetwork.tap_part.__name__ == "tap_part"  # the entry points are put back


def test_the_recorded_disaster_drives_every_channel(disaster_run):
    _, _, trace, stats = disaster_run
    ops = {c.op for c in trace.calls}
    assert {"tap", "check_out", "paper_form", "reconcile_paper", "set_online", "report", "check_in_identity"} <= ops
    assert stats["outages"] > 0


def test_a_disaster_trace_replayed_through_a_shelter_actor_gives_the_same_register_and_head_counts(
        disaster_run, ray_session, tmp_path):
    ray = ray_session
    p, model, trace, _ = disaster_run
    t0 = parse_jst(p.quake_jst)
    spec = spec_for(tmp_path, p, t0)
    opts = {"namespace": spec.namespace, "max_restarts": 3, "num_cpus": 0}
    group = ray.remote(ShelterHost).options(name="shelters_0", **opts).remote(spec, 0)
    commands = tr.shelter_commands(trace)
    half = len(commands) // 2
    ray.get(tr.submit_shelters(group, commands[:half]))
    pid = ray.get(group.ping.remote())["pid"]
    ray.kill(group, no_restart=False)  # a crash halfway: the rest goes to the restarted actor
    back = wait_until(lambda: (p := ping(ray, group)) and p["pid"] != pid and p, timeout=120)
    assert back["replayed"] == half
    ray.get(tr.submit_shelters(group, commands[half:]))
    expected = model.net.taps.to_frame()
    got = ray.get(group.register.remote())
    assert got.height == expected.height > 300
    assert got.equals(expected)
    places = ["capacity", "free"]  # the scenario scales each shelter's places to its catchment
    assert ray.get(group.occupancy.remote()).drop(places).equals(model.net.occupancy().drop(places))
    end = t0 + p.horizon_h * 3600
    view = ray.get(group.headcounts.remote(end, False))["rows"]
    hq = model.safety.hq.view(end)
    assert [r["count"] for r in view] == hq["count"].to_list()
    assert [r["identified"] for r in view] == hq["identified"].to_list()
    residents = model.ev.member_resident.tolist()
    where = ray.get(group.where.remote(residents))
    expected_where = [model.net.location_of(r)[0] for r in residents]
    assert where == expected_where
    ray.kill(group, no_restart=True)


@pytest.fixture(scope="module")
def payments_run(tmp_path_factory):
    """A payment-throughput run with network drops and ledger-writer kills, recorded."""
    from scenarios.payments import Params, simulate

    p = Params(scale=0.01, duration_s=40.0, offered_rate_per_s=15.0, e_payment=True, portal_channel=True,
               payer_pool=60, network_drop_at_s=(10.0,), writer_kill_before_commit_at_s=(8.0,),
               writer_kill_after_commit_at_s=(25.0,))
    with tr.record() as trace:
        outcomes, ledger, stats = simulate(p, 5, tmp_path_factory.mktemp("pay"))
    return p, ledger, trace, stats


def test_a_payments_trace_replayed_over_two_resident_shards_gives_the_same_balances(
        payments_run, ray_session, tmp_path):
    ray = ray_session
    p, ledger, trace, stats = payments_run
    assert stats["kills"] >= 2 and len(trace.of("post_many")) > 10
    spec = spec_for(tmp_path, p, parse_jst(p.start_jst), shards=2)
    opts = {"namespace": spec.namespace, "max_restarts": 3, "num_cpus": 0}
    shards = [ray.remote(ResidentHost).options(name=f"residents_{k}", **opts).remote(spec, k) for k in range(2)]
    refs = [shards[k].post.remote(reqs, now) for k, reqs, now in tr.ledger_commands(trace, 2)]
    answers = [a for batch in ray.get(refs) for a in batch]
    assert sum(not a["refused"] for a in answers) > 100
    parts = ray.get([s.balances.remote() for s in shards])
    got = (pl.DataFrame([r for part in parts for r in part]).group_by("account_id", "kind")
           .agg(pl.col("balance").sum()).sort("account_id"))
    expected = ledger.balances().sort("account_id")
    assert got.select(expected.columns).equals(expected)
    reports = ray.get([s.reconcile.remote() for s in shards])
    assert all(r["ok"] for r in reports)
    assert sum(r["postings"] for r in reports) == ledger.reconcile().postings
    for s in shards:
        ray.kill(s, no_restart=True)
