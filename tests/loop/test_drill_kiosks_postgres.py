"""The kiosk side of a drill kept in PostgreSQL reads and fits exactly as the same drill in a data folder."""

from __future__ import annotations

import pytest

from calibration.drill import read_drill
from calibration.drill_kiosks import read_kiosks
from calibration.fit_drill import fit_drill
from tests.actors.conftest import PG_DSN, postgres_up
from tests.conftest import require
from tests.loop.test_drill_kiosks import _make


@pytest.fixture(scope="module")
def pg_kiosk_drill(tmp_path_factory):
    """The synthetic drill with kiosks in the service's PostgreSQL schemas, and the same drill in a folder."""
    require(postgres_up(PG_DSN), f"PostgreSQL at {PG_DSN.split('@')[-1]} (.ci/start-postgres.sh)")
    import psycopg

    made = _make(tmp_path_factory.mktemp("pgkdrill"), store=PG_DSN)
    sqlite_folder = tmp_path_factory.mktemp("kdrill")
    _make(sqlite_folder)
    yield made, sqlite_folder
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        for (name,) in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
                                    (f"myna_{made['instance']}_%",)).fetchall():
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.mark.postgres
def test_kiosk_documents_authentications_and_redirects_from_postgresql_match_the_folders(pg_kiosk_drill):
    made, sqlite_folder = pg_kiosk_drill
    pg = read_kiosks(PG_DSN, made["instance"])
    same = read_kiosks(sqlite_folder)
    assert pg.documents == same.documents == made["documents"]
    assert (pg.auth_recorded, pg.auth_refusals) == (same.auth_recorded, same.auth_refusals)
    fit = fit_drill(read_drill(PG_DSN, made["instance"]), kiosks=pg)
    ref = fit_drill(read_drill(sqlite_folder), kiosks=same)
    assert fit.overrides_by_scenario()["certificates"] == ref.overrides_by_scenario()["certificates"]
    assert fit.redirects == ref.redirects and fit.redirects["redirected"] > 0
