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


_LIVE_USERS: set[str] = set()  # test files still to run that use the live service


def pytest_collection_finish(session) -> None:
    """Note which test files use `live`, so the service stops after the last of them (not at session end)."""
    _LIVE_USERS.update(str(item.path) for item in session.items if "live" in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session")
def _live_service(ray_session, tmp_path_factory):
    """Starts the live service on first use; `stop()` takes it and Serve down (again at session end)."""
    holder: dict = {}

    def get():
        if "live" not in holder:
            holder["live"] = _start(tmp_path_factory)
        return holder["live"]

    def stop():
        live = holder.pop("live", None)
        if live is not None:
            from ray import serve

            live.service.stop()
            serve.shutdown()

    yield get, stop
    stop()


def _start(tmp_path_factory):
    import dataclasses

    from actors import service, world
    from actors.spec import ServiceSpec
    from tests.actors.live_drill import drill_cards
    from tests.actors.live_helpers import T_LIVE, Live, free_port

    spec = ServiceSpec(data_dir=str(tmp_path_factory.mktemp("live")), scale=0.01, shelter_groups=2,
                       resident_shards=2, namespace=f"live-{uuid.uuid4().hex[:8]}")
    drill = drill_cards(world.city(spec).residents, tmp_path_factory.mktemp("drill"))  # real (test) cards too
    spec = dataclasses.replace(spec, time_shift=T_LIVE - spec.now(), **drill.fields)  # Monday 10:00 JST: kiosks open
    svc = service.start(spec, port=free_port())
    return Live(svc.url, svc.supervisor.spec, svc, drill=drill)


@pytest.fixture(scope="module")
def live(request, _live_service):
    """The live service on the shared Ray session: Kumamoto at 1 %, two shelter groups, two resident
    shards, the clock set to a Monday 10:00 JST, a drill's card CA and enrolled cards beside the virtual ones
    (`live.drill`); Serve is shut down after the last test file using it."""
    get, stop = _live_service
    yield get()
    _LIVE_USERS.discard(str(request.path))
    if not _LIVE_USERS:
        stop()
