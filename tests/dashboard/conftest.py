"""Fixtures of the dashboard tests."""

from __future__ import annotations

import pytest

from tests.dashboard.page import fresh_page, run_comparison


@pytest.fixture(scope="module")
def ran():
    """The page after comparing baseline and phased (shared by read-only tests)."""
    at = run_comparison(fresh_page())
    assert not at.exception, [e.value for e in at.exception]
    return at
