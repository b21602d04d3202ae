"""The payment-throughput scenario: faults and retries never lose or double a payment."""

from __future__ import annotations

import json

import polars as pl
import pytest

from scenarios import payments
from scenarios.runner import make_params
from twin.errors import ValidationError

SMALL = {"scale": 0.01, "city_seed": 1, "duration_s": 40.0, "offered_rate_per_s": 20.0,
         "payer_pool": 200, "writer_kill_before_commit_at_s": [10.0],
         "writer_kill_after_commit_at_s": [25.0], "network_drop_at_s": [15.0]}


def params(design="full", **over):
    return make_params("payments", design, overrides=SMALL | over)


@pytest.fixture(scope="module")
def full():
    return payments.run(params(), 21)


def test_the_same_seed_gives_the_same_result_exactly(full):
    again = payments.run(params(), 21)
    assert again == full
    assert json.dumps(again.to_dict(), sort_keys=True) == json.dumps(full.to_dict(), sort_keys=True)


def test_killed_writers_and_a_network_drop_lose_nothing_and_double_nothing(full):
    k = full.kpis
    assert k["writer_kills"] == 2
    assert (k["lost"], k["duplicated"], k["revenue_mismatch_yen"]) == (0, 0, 0)
    assert k["reconciled"] == 1.0
    assert k["retried_share"] > 0 and k["replayed"] > 0  # replies lost after a commit: replays
    assert k["gave_up"] == 0


def test_every_request_is_answered_once_the_faults_pass(full):
    req = full.frames["requests"]
    assert req.height == full.kpis["requests"]
    assert set(req["result"].unique()) <= {"posted", "replayed", "refused"}
    assert req["latency_ms"].null_count() == 0


def test_without_faults_or_loss_nobody_retries():
    r = payments.run(params(writer_kill_before_commit_at_s=[], writer_kill_after_commit_at_s=[],
                            network_drop_at_s=[], message_loss_probability=0.0), 3)
    assert r.kpis["retried_share"] == 0 and r.kpis["replayed"] == 0 and r.kpis["rolled_back"] == 0
    # latency: two network legs plus waiting for the next group commit, well under a second
    assert 30.0 < r.kpis["latency_p50_ms"] < 200.0


def test_a_drop_outlasting_every_retry_leaves_requests_unanswered_but_none_lost():
    r = payments.run(params(network_drop_s=30.0, max_attempts=2), 4)
    assert r.kpis["gave_up"] > 0
    assert r.kpis["lost"] == 0 and r.kpis["duplicated"] == 0 and r.kpis["reconciled"] == 1.0


def test_the_baseline_takes_only_cash_fees_and_the_full_design_wallets_and_points(full):
    base = payments.run(params("baseline"), 21)
    ops = set(base.frames["requests"]["op"].unique())
    assert ops == {"fee"} and base.kpis["electronic_share"] == 0.0
    assert base.kpis["refused"] == 0  # cash fees of known types: nothing to refuse
    assert set(full.frames["requests"]["op"].unique()) == {"fee", "top_up", "grant", "redeem"}
    assert full.kpis["electronic_share"] > 0.3


def test_throughput_follows_the_offered_load(full):
    assert full.kpis["throughput_per_s"] == pytest.approx(20.0, rel=0.15)
    s = full.frames["series"]
    assert s.filter(pl.col("seconds") < 40)["answered_per_s"].mean() == pytest.approx(20.0, rel=0.2)


def test_a_mix_of_the_wrong_length_is_refused():
    with pytest.raises(ValidationError, match="'op_mix' needs 4"):
        params(op_mix=[1.0, 1.0])


def test_a_result_pickles_to_an_equal_value(full):
    import pickle

    assert pickle.loads(pickle.dumps(full)) == full
