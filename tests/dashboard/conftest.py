"""Fixtures of the dashboard tests."""

from __future__ import annotations

import pytest

from tests.dashboard.page import LIGHT_PAYMENTS, fresh_page, run_comparison

QUICK_SCENARIOS = ("disaster", "payments")


@pytest.fixture(scope="module")
def ran():
    """The page after comparing baseline and phased (shared by read-only tests)."""
    at = run_comparison(fresh_page())
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture(scope="session")
def quick_run():
    """(spec, sweeps, reviews) of baseline vs phased on disaster and payments, 2 replications."""
    from dashboards import compute
    from dashboards.spec import QUICK_OVERRIDES, make_spec, shipped_choice

    spec = make_spec(city="kumamoto", designs=[shipped_choice("baseline"), shipped_choice("phased")],
                     scenarios=QUICK_SCENARIOS, reps=2, seed=3, scale=0.01,
                     overrides=QUICK_OVERRIDES | {"payments": LIGHT_PAYMENTS})
    return spec, compute.run_all(spec), compute.reviews(spec)
