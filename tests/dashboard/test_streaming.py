"""The page's replications on every core: each scenario shown when its own are in, same answer as one after another."""

from __future__ import annotations

import re

import pytest

from dashboards import compute, tables
from dashboards import pool as workers
from dashboards.spec import QUICK_OVERRIDES, make_spec, shipped_choice
from scenarios.sweep import run_sweep
from tests.dashboard.page import LIGHT_CERTIFICATES, LIGHT_PAYMENTS, errors, fresh_page
from twin.errors import ValidationError

SCALE = 0.02
# A short payment load first: it comes in well before the disaster and certificate runs.
TINY_PAYMENTS = ("duration_s=10\noffered_rate_per_s=10\npayer_pool=50\n"
                 "writer_kill_before_commit_at_s=[4.0]\nwriter_kill_after_commit_at_s=[]\n"
                 "network_drop_at_s=[]")
ORDER = ("payments", "disaster", "certificates")
CAME_IN = re.compile(r"^In ([\d.]+) s after Run, with (\d+) of (\d+) replications done\.$")


def sequential(spec, scenario):
    """The same replications through run_sweep, one after another in this process."""
    params = [spec.params(scenario, i) for i in range(len(spec.designs))]
    return run_sweep(scenario, params, spec.reps, spec.seed, executor="local")


def test_the_workers_sweeps_equal_run_sweep_one_after_another_on_the_same_seed():
    spec = make_spec(city="kumamoto", designs=[shipped_choice("baseline"), shipped_choice("full")],
                     scenarios=("disaster", "payments"), reps=2, seed=41, scale=SCALE,
                     overrides=QUICK_OVERRIDES | {"payments": LIGHT_PAYMENTS})
    before = sum(compute.COMPUTED.values())
    came = [s for s, _ in compute.stream(spec)]
    assert sum(compute.COMPUTED.values()) - before == 8  # all ran on the workers, none cached
    assert sorted(came) == ["disaster", "payments"]
    for scenario in spec.scenarios:
        mine, theirs = compute.sweep(spec, scenario), sequential(spec, scenario)
        assert mine.kpis().equals(theirs.kpis())
        assert mine.differences().equals(theirs.differences())
        for name in theirs.results[0][2].frames:
            assert mine.frame(name).equals(theirs.frame(name)), name


@pytest.fixture(scope="module")
def streamed():
    """The page after a fresh run of payments, disaster and certificates, 2 replications."""
    at = fresh_page(scale=SCALE)
    at.sidebar.multiselect(key="designs").set_value(["baseline", "full"])
    at.sidebar.multiselect(key="scenarios").set_value(list(ORDER))
    at.sidebar.number_input(key="reps").set_value(2)
    at.sidebar.number_input(key="seed").set_value(43)
    at.sidebar.text_area(key="overrides:payments").set_value(TINY_PAYMENTS)
    at.sidebar.text_area(key="overrides:certificates").set_value(LIGHT_CERTIFICATES)
    at.sidebar.button(key="run").click().run()
    assert not at.exception and not errors(at), errors(at)
    return at


def test_the_page_shows_the_first_scenario_before_the_other_replications_are_done(streamed):
    came = [CAME_IN.match(c.value) for c in streamed.caption if CAME_IN.match(c.value)]
    assert len(came) == len(ORDER)  # one line per scenario: when it came in
    assert {int(m.group(3)) for m in came} == {12}
    arrivals = sorted((float(m.group(1)), int(m.group(2))) for m in came)
    assert arrivals[0][1] < 12  # the first came in while other replications were still running
    assert arrivals[-1][1] == 12
    headers = [h.value for h in streamed.subheader]
    assert [next(i for i, h in enumerate(headers) if h.startswith(f"{s}:")) for s in ORDER] == \
        sorted(next(i for i, h in enumerate(headers) if h.startswith(f"{s}:")) for s in ORDER)
    ready = [s.value for s in streamed.success if "replications ready" in s.value]
    assert ready and ready[0].startswith("12 replications ready") and "scale 0.02" in ready[0]


def test_the_pages_final_comparison_equals_the_sequential_one(streamed):
    spec = streamed.session_state["spec"]
    seq = {s: sequential(spec, s) for s in ORDER}
    shown = [d.value for d in streamed.dataframe]
    for s in ORDER:
        expected = tables.comparison_frame(seq[s]).to_pandas()
        assert any(f.equals(expected) for f in shown), s
    headline = tables.headline_frame(seq, compute.reviews(spec)).to_pandas()
    assert any(f.equals(headline) for f in shown)


def test_a_look_at_the_same_comparison_again_comes_from_the_cache_and_shows_no_progress(streamed):
    before = sum(compute.COMPUTED.values())
    streamed.sidebar.number_input(key="precision").set_value(0.0).run()  # a rerun without Run
    assert sum(compute.COMPUTED.values()) == before
    assert not [c for c in streamed.caption if CAME_IN.match(c.value)]
    assert len([s for s in streamed.subheader if s.value.startswith(ORDER)]) == len(ORDER)


def test_every_worker_process_of_the_page_starts_and_answers():
    pids = workers.warmed(compute.pool(), workers.worker_count())
    assert len(pids) == workers.worker_count() and all(p > 0 for p in pids)


def test_workers_start_when_the_main_module_is_a_script_that_must_not_run_again(tmp_path, monkeypatch):
    import sys
    import types

    script = tmp_path / "page_script.py"  # as AppTest's from_function leaves `__main__` after a test
    script.write_text("raise SystemExit('the main script ran again in a worker')\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    pool = workers.start(1)
    try:
        assert pool.submit(sum, [1, 2]).result(timeout=120) == 3
    finally:
        pool.shutdown(cancel_futures=True)
    assert sys.modules["__main__"] is main


def test_the_worker_count_comes_from_the_environment_or_the_cores():
    assert workers.worker_count({"MYNA_DASHBOARD_WORKERS": "3"}) == 3
    assert workers.worker_count({}) >= 1
    with pytest.raises(ValidationError, match="MYNA_DASHBOARD_WORKERS must be a whole number "
                                              "from 1 to 64, got 'two'"):
        workers.worker_count({"MYNA_DASHBOARD_WORKERS": "two"})


def test_a_worker_that_dies_stops_the_run_with_a_message_and_the_next_run_starts_afresh():
    import os
    import signal

    spec = make_spec(city="kumamoto", designs=[shipped_choice("baseline"), shipped_choice("full")],
                     scenarios=("payments",), reps=3, seed=47, scale=SCALE,
                     overrides={"payments": TINY_PAYMENTS})
    victim = compute.pool().submit(os.getpid).result()

    def kill_after_the_first(done, total, label):
        if done == 1:
            os.kill(victim, signal.SIGKILL)

    with pytest.raises(compute.WorkerLost, match="a worker process stopped during the run"):
        compute.run_all(spec, kill_after_the_first)
    again = compute.run_all(spec)  # a fresh pool; the finished replication stays cached
    assert again["payments"].kpis().equals(sequential(spec, "payments").kpis())


class Rerun(Exception):
    """Stands for Streamlit stopping the script at its next call (a change in the sidebar)."""


def test_a_run_left_for_a_rerun_hands_its_running_replications_to_the_next_run(monkeypatch):
    import json

    monkeypatch.setenv("MYNA_DASHBOARD_WORKERS", "2")
    spec = make_spec(city="kumamoto", designs=[shipped_choice("baseline"), shipped_choice("full")],
                     scenarios=("payments",), reps=3, seed=53, scale=SCALE,
                     overrides={"payments": TINY_PAYMENTS})
    before = set(compute._INFLIGHT)

    def rerun_at_the_first(done, total, label):
        raise Rerun

    with pytest.raises(Rerun):
        compute.run_all(spec, rerun_at_the_first)
    left = {k: f for k, f in compute._INFLIGHT.items() if k not in before}
    assert left  # the other worker's replication was still running (or done, not yet taken)
    again = compute.run_all(spec)
    assert again["payments"].kpis().equals(sequential(spec, "payments").kpis())
    keys = {json.dumps(key, sort_keys=True): key for _, _, key in compute._keys(spec, "payments", 3)}
    for k, fut in left.items():
        assert compute.replication(**keys[k], _make=compute._not_cached) is fut.result()[0]
        assert k not in compute._INFLIGHT
