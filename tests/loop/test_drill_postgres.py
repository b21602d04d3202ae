"""Recalibrating from a drill kept in PostgreSQL: the same journals, the same fit, clear errors without the password."""

from __future__ import annotations

import json

import pytest

from calibration.drill import read_drill
from calibration.drill_postgres import _pick, where
from calibration.fit_drill import fit_drill
from tests.actors.conftest import PG_DSN, postgres_up
from tests.conftest import require
from tests.loop.drill_helpers import KNOWN, make_drill
from tests.loop.test_drill import MU_TOL, SIGMA_TOL
from twin.errors import ValidationError


@pytest.fixture(scope="module")
def pg_drill(tmp_path_factory):
    """The synthetic drill journaled by the shelter host into its PostgreSQL schemas, and the same drill in a folder."""
    require(postgres_up(PG_DSN), f"PostgreSQL at {PG_DSN.split('@')[-1]} (.ci/start-postgres.sh)")
    import psycopg

    folder = tmp_path_factory.mktemp("pgdrill")
    made = make_drill(folder, store=PG_DSN)
    sqlite_folder = tmp_path_factory.mktemp("drill")
    make_drill(sqlite_folder)
    yield folder, made, sqlite_folder
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        for (name,) in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
                                    (f"myna_{made['instance']}_%",)).fetchall():
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.mark.postgres
def test_a_drill_in_postgresql_is_read_and_fitted_exactly_as_the_same_drill_in_a_folder(pg_drill):
    folder, made, sqlite_folder = pg_drill
    data = read_drill(PG_DSN, made["instance"])
    assert data.kind == "postgresql" and data.taps == made["taps"] and "myna-test" not in data.folder
    fit, same = fit_drill(data), fit_drill(read_drill(sqlite_folder))
    for reader, (mu, sigma) in KNOWN.items():
        got = fit.per_reader[reader]
        assert abs(got.mu - mu) < MU_TOL and abs(got.sigma - sigma) < SIGMA_TOL, (reader, got)
        assert (got.mu, got.sigma, got.n) == (same.per_reader[reader].mu, same.per_reader[reader].sigma,
                                              same.per_reader[reader].n)
    assert fit.arrivals == same.arrivals and fit.overrides() == same.overrides()
    assert fit.provenance["store"] == "postgresql" and "drill_database" in fit.provenance


@pytest.mark.postgres
def test_calibrate_from_a_postgresql_drill_writes_the_parameter_file_with_its_provenance(pg_drill, cli, tmp_path):
    folder, made, _ = pg_drill
    out = tmp_path / "p.json"
    res = cli("calibrate", "--from-drill", PG_DSN, "--drill-instance", made["instance"], "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "<- drill nearest" in res.stdout and "myna-test" not in res.stdout + res.stderr
    prov = json.loads(out.read_text())["provenance"]
    assert prov["card_taps"] == made["taps"] and prov["store"] == "postgresql"
    assert prov["drill_database"] == f"postgresql://{where(PG_DSN)}#myna_{made['instance']}_shelters_*"


@pytest.mark.postgres
def test_the_folder_of_a_postgresql_service_says_where_its_journals_are(pg_drill):
    folder, made, _ = pg_drill
    with pytest.raises(ValidationError, match=f"kept its journals in PostgreSQL.*--drill-instance {made['instance']}"):
        read_drill(folder)


@pytest.mark.postgres
def test_a_wrong_password_or_an_unknown_instance_is_a_clear_error_without_the_password(pg_drill, cli):
    wrong = PG_DSN.replace(":myna-test@", ":Wr0ng-s3cret@")
    res = cli("calibrate", "--from-drill", wrong)
    assert res.returncode == 2 and f"cannot connect to PostgreSQL at {where(PG_DSN)}: " in res.stderr, res.stderr
    assert "Wr0ng-s3cret" not in res.stderr + res.stdout
    with pytest.raises(ValidationError, match="no journals of instance 'feedface'"):
        read_drill(PG_DSN, "feedface")


def test_a_dsn_where_nothing_listens_exits_2_naming_the_host_never_the_password(cli):
    res = cli("calibrate", "--from-drill", "postgresql://planner:Hunter2-secret@127.0.0.1:9/drills")
    assert res.returncode == 2, res.stderr
    assert "cannot connect to PostgreSQL at 127.0.0.1:9/drills" in res.stderr
    assert "Hunter2-secret" not in res.stderr + res.stdout


def test_the_service_is_picked_by_instance_and_none_or_several_are_named():
    names = ["public", "myna_ab12_shelters_0", "myna_ab12_shelters_1", "myna_ab12_residents_0", "myna_cd34_shelters_0"]
    assert _pick("h", names, "ab12") == ("ab12", [0, 1])
    with pytest.raises(ValidationError, match="journals of 2 services .instances ab12, cd34.: choose one with --drill-instance"):
        _pick("h", names, None)
    assert _pick("h", names[:4], None) == ("ab12", [0, 1])
    with pytest.raises(ValidationError, match="holds no shelter-group journals"):
        _pick("h", ["public"], None)
    with pytest.raises(ValidationError, match="applies only to a PostgreSQL DSN"):
        read_drill("/nowhere", "ab12")


@pytest.mark.postgres
def test_readers_taken_offline_in_a_postgresql_drill_are_offline_for_the_forecast_as_from_a_folder(pg_drill):
    from actors.hosts_safety import ShelterHost
    from actors.spec import ServiceSpec
    from scenarios.nowcast_live import readers_offline
    from tests.actors.live_helpers import T_LIVE

    folder, made, sqlite_folder = pg_drill
    for where_, store in ((folder, PG_DSN), (sqlite_folder, "sqlite")):
        spec = ServiceSpec(data_dir=str(where_), scale=0.01, shelter_groups=1, resident_shards=1,
                           built_at=T_LIVE, store=store).open()
        host = ShelterHost(spec, 0)
        host.command("online", {"reader_id": 1, "online": False, "now": T_LIVE + 9000.0})
        host.store.close()
    data = read_drill(PG_DSN, made["instance"])
    assert data.online == read_drill(sqlite_folder).online == ((1, False),)
    off = readers_offline(data, str(folder))
    assert off == readers_offline(read_drill(sqlite_folder)) == ({made["shelters"][1]: 1}, 0)
