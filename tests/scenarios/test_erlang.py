"""Erlang B/C formulas against FACTS.md and textbook identities; the simulated queue against them."""

from __future__ import annotations

import json

import pytest

from scenarios.erlang import erlang_b, erlang_c, mmc, servers_needed
from scenarios.mmc import simulate_mmc
from twin.errors import ValidationError

# FACTS.md: A = 2.5 Erlangs (30 arrivals/h, mean service 5 min)
FACTS = {4: (0.320, 1.07), 5: (0.130, 0.261)}


@pytest.mark.parametrize("servers", [4, 5])
def test_erlang_c_matches_the_published_example_to_its_rounding(servers):
    p_wait, mean_wait = FACTS[servers]
    q = mmc(arrival_rate=0.5, service_mean=5.0, servers=servers)
    assert q.p_wait == pytest.approx(p_wait, abs=0.0005)
    assert q.mean_wait == pytest.approx(mean_wait, abs=0.005)
    assert q.load == 2.5 and q.utilisation == 2.5 / servers


def test_erlang_b_of_one_server_is_load_over_one_plus_load():
    assert erlang_b(3.0, 1) == pytest.approx(0.75)
    assert erlang_b(2.0, 0) == 1.0


def test_erlang_c_of_one_server_is_the_utilisation():
    assert erlang_c(0.7, 1) == pytest.approx(0.7)


def test_an_overloaded_queue_is_refused_with_the_servers_it_needs():
    with pytest.raises(ValidationError, match="need at least 3 servers"):
        mmc(0.5, 5.0, 2)


@pytest.mark.parametrize("bad", [dict(arrival_rate=0.0), dict(service_mean=-1.0),
                                 dict(servers=0), dict(servers=2.5),
                                 dict(arrival_rate=float("nan"))])
def test_malformed_queue_descriptions_are_refused(bad):
    args = dict(arrival_rate=0.5, service_mean=5.0, servers=4) | bad
    with pytest.raises(ValidationError):
        mmc(**args)


def test_servers_needed_is_the_fewest_meeting_the_wait_target():
    assert servers_needed(0.5, 5.0, max_mean_wait=1.0) == 5
    assert servers_needed(0.5, 5.0, max_mean_wait=1.07) == 4
    assert servers_needed(0.5, 5.0, max_mean_wait=0.2) == 6


def test_the_wait_tail_at_zero_is_the_probability_of_waiting():
    q = mmc(0.5, 5.0, 4)
    assert q.wait_exceeds(0.0) == q.p_wait
    assert q.wait_exceeds(5.0) < q.p_wait


def test_the_simulated_queue_meets_erlang_c_within_3_percent_at_200000_customers():
    run = simulate_mmc(0.5, 5.0, 5, 200_000, seed=0)
    p_wait, mean_wait = FACTS[5]
    assert run.p_wait == pytest.approx(p_wait, rel=0.03)
    assert run.mean_wait == pytest.approx(mean_wait, rel=0.03)
    assert run.utilisation == pytest.approx(0.5, rel=0.01)


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    a, b = simulate_mmc(0.5, 5.0, 4, 2000, 7), simulate_mmc(0.5, 5.0, 4, 2000, 7)
    assert a == b
    assert simulate_mmc(0.5, 5.0, 4, 2000, 8).mean_wait != a.mean_wait


def test_validate_queue_prints_the_facts_example_within_3_percent(cli):
    out = cli("validate-queue", "--arrival-rate", "0.5", "--service-mean", "5", "--servers", "4",
              "--customers", "200000", "--seed", "0", "--format", "json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["simulated"]["p_wait"] == pytest.approx(FACTS[4][0], rel=0.03)
    assert d["simulated"]["mean_wait"] == pytest.approx(FACTS[4][1], rel=0.03)
    assert d["analytic"]["p_wait"] == pytest.approx(0.3199, abs=1e-4)
    assert d["analytic"]["mean_wait"] == pytest.approx(1.0662, abs=1e-4)


def test_validate_queue_refuses_an_unstable_queue_with_a_reason(cli):
    out = cli("validate-queue", "--servers", "2")
    assert out.returncode == 2
    assert "grows without bound" in out.stderr
