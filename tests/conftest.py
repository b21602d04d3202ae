"""Shared fixtures: one Ray session for the whole suite, small cities, the CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(available: bool, what: str) -> None:
    """Skip when `what` is missing on a developer machine; fail in CI, where .ci/run installs it."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is not available in CI; .ci/run should have installed and started it")
    pytest.skip(f"{what} is not available here (CI installs it: see .ci/run)")


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray session shared by every test that needs Ray."""
    import ray

    from actors.service import serve_env

    if not ray.is_initialized():
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            runtime_env={"env_vars": {"PYTHONPATH": str(ROOT), **serve_env()}},  # as `run.py serve` runs
        )
    yield ray
    # shut down at interpreter exit (other session fixtures may still use it)


@pytest.fixture(scope="session")
def small_city():
    """Kumamoto at 1 % scale, seed 1: about 7,400 residents."""
    from twin.population import build_city

    return build_city("kumamoto", seed=1, scale=0.01)


def run_cli(*args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python run.py ARGS` in a subprocess, as a user would, and capture its output."""
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def cli():
    """The CLI runner (see run_cli)."""
    return run_cli
