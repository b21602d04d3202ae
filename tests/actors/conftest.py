"""Fixtures for the live-endpoints tests: a PostgreSQL DSN, a running service, clients."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.conftest import require

PG_DSN = os.environ.get("MYNA_PG_DSN", "postgresql://myna:myna-test@127.0.0.1:5432/myna_test")


def postgres_up(dsn: str) -> bool:
    """Whether a PostgreSQL server answers at `dsn`."""
    try:
        import psycopg

        with psycopg.connect(dsn, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    """The test server's DSN (.ci/start-postgres.sh starts it; MYNA_PG_DSN overrides)."""
    require(postgres_up(PG_DSN), f"PostgreSQL at {PG_DSN.split('@')[-1]} (.ci/start-postgres.sh)")
    return PG_DSN


@pytest.fixture
def pg_schema(pg_dsn):
    """A fresh schema name, dropped after the test."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
