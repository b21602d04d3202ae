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


@pytest.fixture(scope="session")
def live(ray_session, tmp_path_factory):
    """The live service on the shared Ray session: Kumamoto at 1 %, two shelter groups, two resident
    shards, the clock set to a Monday 10:00 JST; Serve is shut down after the session's tests."""
    from ray import serve

    from actors import service
    from actors.spec import ServiceSpec
    from tests.actors.live_helpers import T_LIVE, Live, free_port

    spec = ServiceSpec(data_dir=str(tmp_path_factory.mktemp("live")), scale=0.01, shelter_groups=2,
                       resident_shards=2, namespace=f"live-{uuid.uuid4().hex[:8]}", time_shift=0.0)
    shift = T_LIVE - spec.now()
    import dataclasses

    spec = dataclasses.replace(spec, time_shift=shift)
    svc = service.start(spec, port=free_port())
    yield Live(svc.url, svc.supervisor.spec, svc)
    svc.stop()
    serve.shutdown()
