"""Every KPI is declared once with what a planner and an interval need."""

from __future__ import annotations

import numpy as np
import pytest

from scenarios.registry import names
from scenarios.registry import scenario as scenario_module
from scenarios.results import KINDS, KPI, ScenarioResult
from scenarios.sweep import SweepResult
from twin.errors import ValidationError


@pytest.mark.parametrize("scenario", names())
def test_every_kpi_has_a_label_a_kind_a_direction_and_the_scenario_has_headlines(scenario):
    kpis = scenario_module(scenario).KPIS
    assert len({k.name for k in kpis}) == len(kpis)
    for k in kpis:
        assert k.label and k.kind in KINDS and k.better in ("lower", "higher", ""), k
        assert k.unit in k.title and k.label in k.title
        if k.kind == "share":
            assert k.bounds == (0.0, 1.0)
    assert any(k.headline for k in kpis)


def test_directions_the_issue_found_wrong_are_declared_right():
    disaster = {k.name: k for k in scenario_module("disaster").KPIS}
    payments = {k.name: k for k in scenario_module("payments").KPIS}
    assert disaster["family_found_median_h"].better == "lower"
    assert disaster["households_found_all_share"].better == "higher"
    assert payments["payments_per_s"].better == ""  # follows the request mix, throughput is the
    assert payments["throughput_per_s"].better == "higher"  # figure that says better or worse
    assert payments["revenue_mismatch_yen"].kind == "signed"


def test_identical_designs_get_no_clear_difference_not_worse():
    kpi = next(k for k in scenario_module("payments").KPIS if k.name == "throughput_per_s")
    zeros = {k.name: 0.0 for k in scenario_module("payments").KPIS}
    results = tuple((d, r, ScenarioResult("payments", {"design": n}, {},
                                          zeros | {"throughput_per_s": v}))
                    for d, n in enumerate(("baseline", "full"))
                    for r, v in enumerate((4.1, 4.3, 3.9)))
    sweep = SweepResult("payments", ("baseline", "full"), 3, 0, True, results)
    row = sweep.differences().filter(kpi=kpi.name).row(0, named=True)
    assert (row["difference"], row["ci_low"], row["ci_high"]) == (0.0, 0.0, 0.0)
    assert row["verdict"] == "no clear difference"


def test_a_kpi_whose_values_leave_its_declared_range_is_named():
    bad = [(0, r, ScenarioResult("payments", {"design": "baseline"}, {},
                                 {k.name: 0.0 for k in scenario_module("payments").KPIS}
                                 | {"retried_share": v}))
           for r, v in enumerate((0.5, 1.5))]
    sweep = SweepResult("payments", ("baseline",), 2, 0, True, tuple(bad))
    with pytest.raises(ValidationError, match=r"KPI retried_share of payments: values .* leave "
                       r"the declared range \[0.0, 1.0\]; its kind \(share\)"):
        sweep.table()


def test_a_kpi_declaration_refuses_an_unknown_kind_or_direction():
    with pytest.raises(ValueError, match="kind must be one of"):
        KPI("x", "min", "d", kind="percentile")
    with pytest.raises(ValueError, match="better must be one of"):
        KPI("x", "min", "d", better="less")
    assert np.isinf(KPI("x", "min", "d").bounds[1])
