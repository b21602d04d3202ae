"""The workers' order: probe each scenario once, then the scenario with the least work left first."""

from __future__ import annotations

import pytest

from dashboards.schedule import Scheduler, cost_key


def items(scenario, n, scale=1.0, settings="{}"):
    return [(scenario, 0, r, {"scale": scale, "overrides_json": settings}) for r in range(n)]


def test_each_unmeasured_scenario_runs_one_replication_first_in_the_requests_order():
    plan = Scheduler(items("disaster", 3) + items("payments", 3), {})
    assert [plan.next()[0] for _ in range(2)] == ["disaster", "payments"]


def test_once_measured_the_scenario_with_the_least_work_left_goes_first():
    plan = Scheduler(items("disaster", 10) + items("payments", 10), {})
    first, second = plan.next(), plan.next()
    plan.finished(first, 3.0)
    plan.finished(second, 1.0)
    order = [plan.next()[0] for _ in range(9)]
    assert order == ["payments"] * 9  # 9 x 1 s left before 9 x 3 s
    assert plan.next()[0] == "disaster"


def test_work_left_counts_the_replications_still_to_run_times_their_cost():
    costs = {cost_key(items("disaster", 1)[0]): 3.0, cost_key(items("payments", 1)[0]): 1.0}
    plan = Scheduler(items("disaster", 2) + items("payments", 8), costs)
    assert plan.next()[0] == "disaster"  # 2 x 3 s < 8 x 1 s


def test_a_scenario_being_probed_waits_while_another_is_known_but_workers_never_idle():
    costs = {cost_key(items("payments", 1)[0]): 1.0}
    plan = Scheduler(items("disaster", 3) + items("payments", 2), costs)
    assert [plan.next()[0] for _ in range(3)] == ["disaster", "payments", "payments"]
    assert plan.next()[0] == "disaster"  # nothing else left: a second disaster run starts
    assert plan.next()[0] == "disaster" and not plan
    with pytest.raises(IndexError):
        plan.next()


def test_costs_are_kept_per_scale_and_settings_and_smoothed_over_replications():
    costs = {}
    plan = Scheduler(items("disaster", 2), costs)
    a, b = plan.next(), plan.next()
    plan.finished(a, 2.0)
    plan.finished(b, 4.0)
    assert costs == {("disaster", 1.0, "{}"): pytest.approx(2.6)}
    assert Scheduler(items("disaster", 1), costs).estimate("disaster") == pytest.approx(2.6)
    assert Scheduler(items("disaster", 1, scale=0.1), costs).estimate("disaster") is None
    assert Scheduler(items("disaster", 1, settings='{"a": 1}'), costs).estimate("disaster") is None
